package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

const testPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2y3fV1vR1mR0t1lZk9Q0cS3c6q3YpW0l7c2Xq0mZ8a diffuser@test"

// logSink collects provider log lines; safe after the test ends.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// testFactory points the real SDK at srv with static credentials and
// short timings, ignoring the machine's AWS configuration files.
func testFactory() *Factory {
	return NewFactory(
		WithLoadOptions(
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
			config.WithSharedConfigFiles([]string{}),
			config.WithSharedCredentialsFiles([]string{}),
		),
		WithPolling(5*time.Millisecond, 40*time.Millisecond),
		WithRetry(10, 50*time.Millisecond),
		WithBatchWindow(20*time.Millisecond),
		WithTimeouts(30*time.Second, 5*time.Second),
	)
}

// decodeSite decodes an HCL provider body with the factory's Spec, as the
// engine would; %s in src is replaced by the server URL.
func decodeSite(t testing.TB, f *Factory, src string) cty.Value {
	t.Helper()
	file, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags)
	}
	v, diags := hcldec.Decode(file.Body, f.Spec(), nil)
	if diags.HasErrors() {
		t.Fatalf("decode: %s", diags)
	}
	return v
}

// siteFor is a provider block for srv with extra attributes.
func siteFor(srv *ec2test.Server, extra string) string {
	return fmt.Sprintf("region = \"us-east-1\"\nendpoint = %q\nssh_cidr = \"203.0.113.7/32\"\n%s\n", srv.URL, extra)
}

func newTestProvider(t testing.TB, srv *ec2test.Server, extra string) (*Provider, *logSink) {
	t.Helper()
	f := testFactory()
	logs := &logSink{}
	p, err := f.New(context.Background(), decodeSite(t, f, siteFor(srv, extra)), cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}, Log: logs.logf})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Provider), logs
}

// group is a host group to launch in tests.
type group struct {
	name    string
	count   int
	volumes []cloud.VolumeSpec
}

func specsFor(cluster string, groups ...group) []cloud.HostSpec {
	var out []cloud.HostSpec
	for _, g := range groups {
		for i := range g.count {
			out = append(out, cloud.HostSpec{
				Cluster: cluster, Group: g.name, Index: i, Count: g.count,
				Name: fmt.Sprintf("%s[%d]", g.name, i), Hostname: fmt.Sprintf("%s-%d", g.name, i),
				Volumes: g.volumes, Settings: cty.NullVal(cty.DynamicPseudoType),
			})
		}
	}
	return out
}

// launchAll calls Launch once per host, concurrently, as the engine does.
func launchAll(ctx context.Context, p cloud.Provider, specs []cloud.HostSpec) (map[string]cloud.Host, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	hosts := map[string]cloud.Host{}
	var errs []error
	for _, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := p.Launch(ctx, s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			hosts[s.Name] = h
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return hosts, errs[0]
	}
	return hosts, nil
}

// destroyAll calls Destroy once per host, concurrently.
func destroyAll(ctx context.Context, p cloud.Provider, specs []cloud.HostSpec, hosts map[string]cloud.Host) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(specs))
	for _, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Destroy(ctx, s, hosts[s.Name]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
