package aws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

func byID(srv *ec2test.Server) map[string]ec2test.Instance {
	out := map[string]ec2test.Instance{}
	for _, in := range srv.Instances() {
		out[in.ID] = in
	}
	return out
}

func TestLaunchStatusDestroyCleanup(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{PendingDescribes: 2})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, `ports = ["24007/tcp glusterd", "49152-49251/tcp bricks"]`)

	brick := []cloud.VolumeSpec{{Name: "brick", SizeGB: 10}}
	specs := specsFor("gl", group{"server", 3, brick}, group{"client", 2, nil})
	hosts, err := launchAll(ctx, p, specs)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	if len(hosts) != 5 {
		t.Fatalf("got %d hosts, want 5", len(hosts))
	}
	calls := srv.Calls()
	if calls["RunInstances"] != 2 || srv.Launches() != 2 {
		t.Errorf("RunInstances calls %d, reservations %d; want one per group (2)", calls["RunInstances"], srv.Launches())
	}
	if calls["CreateSecurityGroup"] != 1 || calls["ImportKeyPair"] != 1 {
		t.Errorf("CreateSecurityGroup %d, ImportKeyPair %d; want 1 each", calls["CreateSecurityGroup"], calls["ImportKeyPair"])
	}

	insts := byID(srv)
	seen := map[string]bool{}
	for _, s := range specs {
		h := hosts[s.Name]
		in, ok := insts[h.ProviderID]
		if !ok {
			t.Fatalf("%s: instance %q not in the server", s.Name, h.ProviderID)
		}
		if seen[h.ProviderID] {
			t.Fatalf("%s: instance %s returned twice", s.Name, h.ProviderID)
		}
		seen[h.ProviderID] = true
		if in.State != ec2test.Running {
			t.Errorf("%s: state %s, want running", s.Name, in.State)
		}
		if in.Tags[tagCluster] != "gl" || in.Tags[tagGroup] != s.Group {
			t.Errorf("%s: tags %v", s.Name, in.Tags)
		}
		if in.Tags[tagIndexes] != map[string]string{"server": "0-2", "client": "0-1"}[s.Group] || in.LaunchIndex != s.Index {
			t.Errorf("%s: indexes tag %q, launch index %d", s.Name, in.Tags[tagIndexes], in.LaunchIndex)
		}
		if in.InstanceType != DefaultInstanceType || in.ImageID != "ami-0d12a00000000002" {
			t.Errorf("%s: type %s image %s; want %s and the newest debian-12", s.Name, in.InstanceType, in.ImageID, DefaultInstanceType)
		}
		if h.SSHUser != "admin" || h.SSHPort != 22 || h.SSHAddress != in.PublicIP || h.PublicIP == "" || h.PrivateIP != in.PrivateIP {
			t.Errorf("%s: host %+v, instance addresses %s/%s", s.Name, h, in.PublicIP, in.PrivateIP)
		}
		if s.Group == "server" {
			v, ok := h.Volumes["brick"]
			if !ok || len(in.Devices) != 2 || in.Devices[1].Name != "/dev/sdf" || !in.Devices[1].DeleteOnTermination {
				t.Fatalf("%s: volumes %+v, devices %+v", s.Name, h.Volumes, in.Devices)
			}
			want := "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_" + strings.ReplaceAll(in.Devices[1].VolumeID, "-", "")
			if v.Device != want || v.ProviderID != in.Devices[1].VolumeID || v.SizeGB != 10 {
				t.Errorf("%s: volume %+v, want device %s", s.Name, v, want)
			}
		} else if len(h.Volumes) != 0 {
			t.Errorf("%s: unexpected volumes %+v", s.Name, h.Volumes)
		}
	}
	for _, v := range srv.Volumes() {
		if v.Device == "/dev/sdf" && (v.SizeGB != 10 || v.Type != "gp3" || v.Tags[tagCluster] != "gl") {
			t.Errorf("brick volume %+v: want 10 GB gp3 tagged with the cluster", v)
		}
	}

	for _, s := range specs {
		st, err := p.Status(ctx, s, hosts[s.Name])
		if err != nil || st != cloud.Running {
			t.Errorf("Status(%s) = %v, %v; want running", s.Name, st, err)
		}
	}

	srv.ResetCalls()
	if err := destroyAll(ctx, p, specs, hosts); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := srv.Calls()["TerminateInstances"]; n != 1 {
		t.Errorf("TerminateInstances calls %d, want 1 for 5 concurrent Destroys", n)
	}
	insts = byID(srv)
	for _, h := range hosts {
		if insts[h.ProviderID].State != ec2test.Terminated {
			t.Errorf("%s: %s after destroy", h.ProviderID, insts[h.ProviderID].State)
		}
	}
	for _, s := range specs {
		if st, err := p.Status(ctx, s, hosts[s.Name]); err != nil || st != cloud.Missing {
			t.Errorf("Status(%s) after destroy = %v, %v; want missing", s.Name, st, err)
		}
	}
	if err := p.Destroy(ctx, specs[0], hosts[specs[0].Name]); err != nil {
		t.Errorf("destroying a destroyed host: %v", err)
	}
	if vols := srv.Volumes(); len(vols) != 0 {
		t.Errorf("volumes left after destroy: %+v", vols)
	}

	if err := p.Cleanup(ctx, "gl"); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if sgs := srv.SecurityGroups(); len(sgs) != 0 {
		t.Errorf("security groups left: %+v", sgs)
	}
	if keys := srv.KeyPairs(); len(keys) != 0 {
		t.Errorf("key pairs left: %+v", keys)
	}
}

// A crash between RunInstances and recording must not launch twice: the
// next run's RunInstances carries the same client token and gets the same
// reservation back, even while DescribeInstances does not show it yet.
func TestClientTokenSurvivesCrash(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{NotFoundFor: 400 * time.Millisecond})
	defer srv.Close()
	specs := specsFor("crash", group{"server", 4, nil})

	crashCtx, crash := context.WithCancel(ctx)
	srv.OnCall(func(action string) {
		if action == "RunInstances" {
			crash()
		}
	})
	first, _ := newTestProvider(t, srv, "")
	if _, err := launchAll(crashCtx, first, specs); err == nil {
		t.Fatal("first launch succeeded; the simulated crash did not happen")
	}
	srv.OnCall(nil)
	if srv.Launches() != 1 {
		t.Fatalf("first run created %d reservations, want 1", srv.Launches())
	}
	created := srv.Instances()

	second, _ := newTestProvider(t, srv, "")
	hosts, err := launchAll(ctx, second, specs)
	if err != nil {
		t.Fatalf("second launch: %v", err)
	}
	if srv.Launches() != 1 || len(srv.Instances()) != 4 {
		t.Fatalf("after the second run: %d reservations, %d instances; want 1 and 4", srv.Launches(), len(srv.Instances()))
	}
	if n := srv.Calls()["RunInstances"]; n != 2 {
		t.Errorf("RunInstances calls %d, want 2 (the second replayed the token, since describe could not see the instances yet)", n)
	}
	for _, s := range specs {
		if hosts[s.Name].ProviderID != created[s.Index].ID {
			t.Errorf("%s: %s, want the first run's %s", s.Name, hosts[s.Name].ProviderID, created[s.Index].ID)
		}
	}
}

func TestAdoptionAndReplacement(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	specs := specsFor("adopt", group{"server", 3, nil})

	p1, _ := newTestProvider(t, srv, "")
	hosts, err := launchAll(ctx, p1, specs)
	if err != nil {
		t.Fatal(err)
	}

	// A new process adopts by tags: nothing launched.
	p2, logs := newTestProvider(t, srv, "")
	again, err := launchAll(ctx, p2, specs)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls()["RunInstances"]; n != 1 {
		t.Errorf("RunInstances calls %d after adoption, want 1", n)
	}
	for _, s := range specs {
		if again[s.Name].ProviderID != hosts[s.Name].ProviderID {
			t.Errorf("%s adopted as %s, was %s", s.Name, again[s.Name].ProviderID, hosts[s.Name].ProviderID)
		}
	}
	if !logs.contains("adopting 3 existing") {
		t.Error("adoption not logged")
	}

	// Index 1 dies; the engine sees Missing and launches it alone.
	dead := hosts["server[1]"].ProviderID
	if err := srv.Kill(dead); err != nil {
		t.Fatal(err)
	}
	if st, _ := p2.Status(ctx, specs[1], hosts["server[1]"]); st != cloud.Missing {
		t.Fatalf("status of killed host: %s", st)
	}
	replaced, err := p2.Launch(ctx, specs[1])
	if err != nil {
		t.Fatal(err)
	}
	in, _ := srv.Instance(replaced.ProviderID)
	if replaced.ProviderID == dead || in.State != ec2test.Running || in.Tags[tagIndex] != "1" || in.Tags["Name"] != "diffuser-adopt-server-1" {
		t.Errorf("replacement %s: %+v", replaced.ProviderID, in)
	}
	if srv.Launches() != 2 {
		t.Errorf("%d reservations, want 2", srv.Launches())
	}

	// Same again from a fresh process: the {1} token of generation 0 now
	// replays a dead instance, so generation 1 launches.
	if err := srv.Kill(replaced.ProviderID); err != nil {
		t.Fatal(err)
	}
	p3, _ := newTestProvider(t, srv, "")
	third, err := p3.Launch(ctx, specs[1])
	if err != nil {
		t.Fatal(err)
	}
	if third.ProviderID == replaced.ProviderID || third.ProviderID == dead || srv.Launches() != 3 {
		t.Errorf("second replacement %s (reservations %d)", third.ProviderID, srv.Launches())
	}
	// And the other hosts are still adopted, with the new index 1.
	all, err := launchAll(ctx, p3, specs)
	if err != nil {
		t.Fatal(err)
	}
	if all["server[0]"].ProviderID != hosts["server[0]"].ProviderID || all["server[1]"].ProviderID != third.ProviderID || srv.Launches() != 3 {
		t.Errorf("after replacements: %v", all)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{ThrottleFirst: 4})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	specs := specsFor("thr", group{"server", 3, nil})
	if _, err := launchAll(ctx, p, specs); err != nil {
		t.Fatalf("launch under throttling: %v", err)
	}
	if srv.Throttled() != 4 || srv.Launches() != 1 {
		t.Errorf("throttled %d (want 4), reservations %d (want 1)", srv.Throttled(), srv.Launches())
	}
}

func TestNotFoundAfterLaunchIsRetried(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{NotFoundFor: 300 * time.Millisecond})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	start := time.Now()
	hosts, err := launchAll(ctx, p, specsFor("nf", group{"server", 2, nil}))
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	if len(hosts) != 2 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("%d hosts after %s; the instances were hidden for 300ms", len(hosts), time.Since(start))
	}
	if n := srv.Calls()["DescribeInstances"]; n < 3 {
		t.Errorf("DescribeInstances calls %d: the NotFound answers were not retried", n)
	}
}

func TestInstanceDyingWhileLaunchingIsReplaced(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{PendingDescribes: 1})
	defer srv.Close()
	srv.KillNext(1)
	p, logs := newTestProvider(t, srv, "")
	specs := specsFor("die", group{"server", 3, nil})
	hosts, err := launchAll(ctx, p, specs)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	insts := byID(srv)
	for _, h := range hosts {
		if insts[h.ProviderID].State != ec2test.Running {
			t.Errorf("%s is %s", h.ProviderID, insts[h.ProviderID].State)
		}
	}
	// Two launches: the group's, then one for the instance that died. The
	// SDK may send a RunInstances again when its connection broke (seen on
	// a loaded machine: "use of closed network connection"); the same
	// ClientToken makes that the same reservation, not a third launch.
	if len(insts) != 4 || srv.Launches() != 2 || srv.Calls()["RunInstances"] < 2 {
		t.Errorf("%d instances, %d reservations, %d RunInstances; want 4, 2, at least 2", len(insts), srv.Launches(), srv.Calls()["RunInstances"])
	}
	if !logs.contains("died while launching") {
		t.Error("death not logged")
	}
}

func TestLaunchCancelled(t *testing.T) {
	srv := ec2test.New(ec2test.Options{PendingDelay: time.Hour})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := launchAll(ctx, p, specsFor("slow", group{"server", 3, nil}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("launch: %v, want deadline exceeded", err)
	}
	// The group launch was cancelled with its last waiter: no op in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		g := p.groups["slow\x00server"]
		busy := g != nil && g.inflight != nil
		p.mu.Unlock()
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("group launch still running after every caller left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
