package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

func formatCalls(calls map[string]int) (string, int) {
	total := 0
	var parts []string
	for _, k := range sortedKeys(calls) {
		total += calls[k]
		parts = append(parts, fmt.Sprintf("%s=%d", k, calls[k]))
	}
	sort.Strings(parts)
	return strings.Join(parts, " "), total
}

// BenchmarkLaunch1000 launches a 1,000-host cluster — 500 servers with a
// 10 GB volume and 500 clients — calling Launch 1,000 times concurrently as
// the engine does, against an endpoint that allows 20 requests/s and keeps
// instances pending for 3 s. It uses the provider's production timings
// (waiters polling from 5 s, adaptive retry). It reports the API calls per
// action and the wall time; calls depend on host groups and waiter polls,
// not on the number of hosts (TestCallsDoNotGrowWithHosts checks that).
//
//	go test -run XXX -bench BenchmarkLaunch1000 -benchtime 1x ./cloud/aws
func BenchmarkLaunch1000(b *testing.B) {
	for range b.N {
		srv := ec2test.New(ec2test.Options{RateLimit: 20, PendingDelay: 3 * time.Second})
		f := NewFactory(WithLoadOptions(
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
			config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		))
		p, err := f.New(context.Background(), decodeSite(b, f, siteFor(srv, "")), cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}})
		if err != nil {
			b.Fatal(err)
		}
		specs := specsFor("bench", group{"server", 500, []cloud.VolumeSpec{{Name: "brick", SizeGB: 10}}}, group{"client", 500, nil})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		start := time.Now()
		hosts, err := launchAll(ctx, p, specs)
		elapsed := time.Since(start)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if len(hosts) != 1000 {
			b.Fatalf("%d hosts, want 1000", len(hosts))
		}
		calls := srv.Calls()
		list, total := formatCalls(calls)
		b.Logf("1000 hosts in 2 groups: %d API calls (%s), %d throttled, wall %s", total, list, srv.Throttled(), elapsed.Round(time.Millisecond))
		b.ReportMetric(float64(total), "calls/op")
		b.ReportMetric(float64(calls["RunInstances"]), "RunInstances/op")
		b.ReportMetric(float64(calls["DescribeInstances"]), "DescribeInstances/op")
		b.ReportMetric(elapsed.Seconds(), "wall-s/op")
		srv.Close()
	}
}

// TestCallsDoNotGrowWithHosts launches, checks and destroys two groups of 5
// and two groups of 500 hosts under identical timing (instances pending for
// two describes): the launch makes exactly the same calls, and Status and
// Destroy share batched rounds.
func TestCallsDoNotGrowWithHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 hosts")
	}
	type counts struct{ launch, status, destroy map[string]int }
	run := func(n int) counts {
		srv := ec2test.New(ec2test.Options{PendingDescribes: 2})
		defer srv.Close()
		p, _ := newTestProvider(t, srv, "")
		ctx := testContext(t)
		specs := specsFor("scale", group{"server", n, []cloud.VolumeSpec{{Name: "brick", SizeGB: 10}}}, group{"client", n, nil})
		hosts, err := launchAll(ctx, p, specs)
		if err != nil || len(hosts) != 2*n {
			t.Fatalf("%d hosts: %v", len(hosts), err)
		}
		var c counts
		c.launch = srv.Calls()
		srv.ResetCalls()
		statuses := make(chan cloud.Status, len(specs))
		for _, s := range specs {
			go func() {
				st, err := p.Status(ctx, s, hosts[s.Name])
				if err != nil {
					t.Error(err)
				}
				statuses <- st
			}()
		}
		for range specs {
			if st := <-statuses; st != cloud.Running {
				t.Errorf("status %s", st)
			}
		}
		c.status = srv.Calls()
		srv.ResetCalls()
		if err := destroyAll(ctx, p, specs, hosts); err != nil {
			t.Fatal(err)
		}
		c.destroy = srv.Calls()
		return c
	}
	small, large := run(5), run(500)
	ls, _ := formatCalls(small.launch)
	ll, total := formatCalls(large.launch)
	t.Logf("launch 10 hosts: %s", ls)
	t.Logf("launch 1000 hosts: %s (%d calls)", ll, total)
	if ls != ll {
		t.Errorf("launch calls differ: 10 hosts %s, 1000 hosts %s", ls, ll)
	}
	if small.launch["RunInstances"] != 2 {
		t.Errorf("RunInstances %d, want one per group", small.launch["RunInstances"])
	}
	for _, c := range []struct {
		what string
		m    map[string]int
		max  int
	}{
		{"status DescribeInstances", large.status, 3},
		{"destroy TerminateInstances", large.destroy, 3},
	} {
		action := strings.Fields(c.what)[1]
		if n := c.m[action]; n < 1 || n > c.max {
			t.Errorf("%s for 1000 hosts: %d calls, want 1..%d", c.what, n, c.max)
		}
	}
	ds, _ := formatCalls(large.destroy)
	t.Logf("status 1000 hosts: DescribeInstances=%d; destroy 1000 hosts: %s", large.status["DescribeInstances"], ds)
}
