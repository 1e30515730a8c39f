package aws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

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
	if len(insts) != 4 || srv.Launches() != 2 || srv.Calls()["RunInstances"] != 2 {
		t.Errorf("%d instances, %d reservations, %d RunInstances; want 4, 2, 2", len(insts), srv.Launches(), srv.Calls()["RunInstances"])
	}
	if !logs.contains("died while launching") {
		t.Error("death not logged")
	}
}

func TestImageResolutionPicksNewestOfficial(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	// Newer, but not from Debian's account: must be ignored.
	srv.AddImage(ec2test.Image{ID: "ami-0bad000000000001", Name: "debian-12-amd64-20991231-9999", OwnerID: "999999999999", Architecture: "x86_64", CreationDate: "2099-12-31T00:00:00.000Z"})
	// Newest official, with an older-sorting name: date decides.
	srv.AddImage(ec2test.Image{ID: "ami-0d12a00000000009", Name: "debian-12-amd64-20240101-0001", OwnerID: ec2test.DebianOwner, Architecture: "x86_64", CreationDate: "2025-09-01T00:00:00.000Z"})
	srv.AddImage(ec2test.Image{ID: "ami-0d12a00000000010", Name: "debian-12-backports-amd64-20991231", OwnerID: ec2test.DebianOwner, Architecture: "x86_64", CreationDate: "2099-12-31T00:00:00.000Z"})

	cases := []struct {
		site, itype, wantImage, wantUser string
	}{
		{``, "t3.medium", "ami-0d12a00000000009", "admin"},
		{`instance_type = "t4g.medium"`, "t4g.medium", "ami-0d12b00000000001", "admin"},
		{`image = "ubuntu-24.04"`, "t3.medium", "ami-0c24a00000000002", "ubuntu"},
		{`image = "ubuntu-22.04"`, "t3.medium", "ami-0c22a00000000001", "ubuntu"},
		{`image = "ami-0c24a00000000001"`, "t3.medium", "ami-0c24a00000000001", "ubuntu"},
		{`image = "ami-0c24a00000000001"` + "\nssh_user = \"root\"", "t3.medium", "ami-0c24a00000000001", "root"},
	}
	for i, c := range cases {
		p, _ := newTestProvider(t, srv, c.site)
		cluster := "img" + string(rune('a'+i))
		hosts, err := launchAll(ctx, p, specsFor(cluster, group{"server", 1, nil}))
		if err != nil {
			t.Fatalf("%q: %v", c.site, err)
		}
		h := hosts["server[0]"]
		in, _ := srv.Instance(h.ProviderID)
		if in.ImageID != c.wantImage || in.InstanceType != c.itype || h.SSHUser != c.wantUser {
			t.Errorf("%q: image %s type %s user %s; want %s %s %s", c.site, in.ImageID, in.InstanceType, h.SSHUser, c.wantImage, c.itype, c.wantUser)
		}
	}
}

func TestDestroyAndCleanupTouchOnlyTheirCluster(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	a := specsFor("alpha", group{"server", 2, []cloud.VolumeSpec{{Name: "data", SizeGB: 5}}})
	b := specsFor("beta", group{"server", 2, []cloud.VolumeSpec{{Name: "data", SizeGB: 5}}})
	ha, err := launchAll(ctx, p, a)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := launchAll(ctx, p, b)
	if err != nil {
		t.Fatal(err)
	}

	// A record pointing at another cluster's instance is refused.
	wrong := ha["server[0]"]
	wrong.ProviderID = hb["server[0]"].ProviderID
	if err := p.Destroy(ctx, a[0], wrong); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("destroying beta's instance as alpha's: %v", err)
	}

	if err := destroyAll(ctx, p, a, ha); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	insts := byID(srv)
	for _, h := range hb {
		if insts[h.ProviderID].State != ec2test.Running {
			t.Errorf("beta instance %s is %s", h.ProviderID, insts[h.ProviderID].State)
		}
	}
	for _, h := range ha {
		if insts[h.ProviderID].State != ec2test.Terminated {
			t.Errorf("alpha instance %s is %s", h.ProviderID, insts[h.ProviderID].State)
		}
	}
	sgs, keys := srv.SecurityGroups(), srv.KeyPairs()
	if len(sgs) != 1 || sgs[0].Name != "diffuser-beta" || len(keys) != 1 || keys[0].Name != "diffuser-beta" {
		t.Errorf("left: groups %+v keys %+v; want beta's only", sgs, keys)
	}
	for _, v := range srv.Volumes() {
		if v.Tags[tagCluster] != "beta" && v.Device != "/dev/xvda" {
			t.Errorf("volume %s of %q left", v.ID, v.Tags[tagCluster])
		}
	}
}

func TestDestroyDeletesVolumesThatOutliveTheInstance(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	specs := specsFor("vol", group{"server", 1, []cloud.VolumeSpec{{Name: "a", SizeGB: 1}, {Name: "b", SizeGB: 2, Type: "io2", IOPS: 3000}}})
	hosts, err := launchAll(ctx, p, specs)
	if err != nil {
		t.Fatal(err)
	}
	h := hosts["server[0]"]
	if h.Volumes["b"].Device == h.Volumes["a"].Device {
		t.Fatalf("two volumes, one device: %+v", h.Volumes)
	}
	for _, v := range srv.Volumes() {
		if v.ID == h.Volumes["b"].ProviderID && (v.Type != "io2" || v.IOPS != 3000 || v.Device != "/dev/sdg") {
			t.Errorf("volume b: %+v", v)
		}
	}
	if err := srv.SetDeleteOnTermination(h.Volumes["a"].ProviderID, false); err != nil {
		t.Fatal(err)
	}
	if err := p.Destroy(ctx, specs[0], h); err != nil {
		t.Fatal(err)
	}
	if vols := srv.Volumes(); len(vols) != 0 {
		t.Errorf("volumes left: %+v", vols)
	}
	if n := srv.Calls()["DeleteVolume"]; n != 1 {
		t.Errorf("DeleteVolume calls %d, want 1", n)
	}
}

func TestSecurityGroupRules(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()

	// Two processes launch the same cluster's groups at once: one group,
	// with exactly the two rules.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, g := range []group{{"server", 2, nil}, {"client", 2, nil}} {
		p, _ := newTestProvider(t, srv, `ports = ["6789/tcp ceph-mon", "6800-7300/tcp ceph-osd"]`)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := launchAll(ctx, p, specsFor("ceph", g))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sgs := srv.SecurityGroups()
	if len(sgs) != 1 {
		t.Fatalf("%d security groups, want 1: %+v", len(sgs), sgs)
	}
	sg := sgs[0]
	if sg.Name != "diffuser-ceph" || sg.Tags[tagCluster] != "ceph" {
		t.Errorf("group %+v", sg)
	}
	var rules []string
	for _, r := range sg.Ingress {
		rules = append(rules, r.String())
	}
	want := []string{"-1 all from " + sg.ID, "tcp 22-22 from 203.0.113.7/32"}
	if strings.Join(rules, "; ") != strings.Join(want, "; ") {
		t.Errorf("rules %q, want %q", rules, want)
	}
	if d := sg.Ingress[0].Description; !strings.Contains(d, "6789/tcp ceph-mon") || !strings.Contains(d, "6800-7300/tcp ceph-osd") {
		t.Errorf("self rule description %q does not name the recipe ports", d)
	}
	for _, in := range srv.Instances() {
		if len(in.Groups) != 1 || in.Groups[0] != sg.ID {
			t.Errorf("instance %s in groups %v", in.ID, in.Groups)
		}
	}

	// Another process finds the group and its rules: nothing to add.
	srv2 := ec2test.New(ec2test.Options{})
	defer srv2.Close()
	q, _ := newTestProvider(t, srv2, "")
	if _, err := q.ensureSecurityGroup(ctx, "x", ""); err != nil {
		t.Fatal(err)
	}
	q2, _ := newTestProvider(t, srv2, "")
	if _, err := q2.ensureSecurityGroup(ctx, "x", ""); err != nil {
		t.Errorf("existing group not reused: %v", err)
	}
	if n := srv2.Calls()["CreateSecurityGroup"]; n != 1 {
		t.Errorf("CreateSecurityGroup calls %d, want 1", n)
	}
	if n := srv2.Calls()["AuthorizeSecurityGroupIngress"]; n != 1 {
		t.Errorf("AuthorizeSecurityGroupIngress calls %d, want 1 (rules already present the second time)", n)
	}

	// A group with a cluster's name that diffuser did not tag is not adopted.
	if _, err := q.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("diffuser-y"), Description: aws.String("someone else's")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.ensureSecurityGroup(ctx, "y", ""); err == nil || !strings.Contains(err.Error(), "not tagged") {
		t.Errorf("foreign group adopted: %v", err)
	}
}

func TestSSHCIDRDefaultWarns(t *testing.T) {
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	f := testFactory()
	logs := &logSink{}
	src := "region = \"us-east-1\"\nendpoint = \"" + srv.URL + "\"\n"
	p, err := f.New(context.Background(), decodeSite(t, f, src), cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}, Log: logs.logf})
	if err != nil {
		t.Fatal(err)
	}
	if p.(*Provider).set.SSHCIDR != "0.0.0.0/0" || !logs.contains("ssh_cidr not set") {
		t.Errorf("ssh_cidr %q; warning logged: %v", p.(*Provider).set.SSHCIDR, logs.contains("ssh_cidr not set"))
	}
}

func TestStopAndStart(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{PendingDescribes: 1})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	specs := specsFor("stop", group{"server", 1, nil})
	hosts, err := launchAll(ctx, p, specs)
	if err != nil {
		t.Fatal(err)
	}
	h := hosts["server[0]"]
	if err := srv.Stop(h.ProviderID); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Status(ctx, specs[0], h); err != nil || st != cloud.Stopped {
		t.Fatalf("status of a stopping host: %v %v", st, err)
	}
	started, err := p.Start(ctx, specs[0], h)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := srv.Instance(h.ProviderID)
	if in.State != ec2test.Running || started.PublicIP == h.PublicIP || started.SSHAddress != in.PublicIP {
		t.Errorf("after start: state %s, address %s (was %s, instance has %s)", in.State, started.SSHAddress, h.PublicIP, in.PublicIP)
	}
	if st, _ := p.Status(ctx, specs[0], started); st != cloud.Running {
		t.Errorf("status after start: %s", st)
	}
}

func TestDevicePathRule(t *testing.T) {
	if got := devicePath(true, "/dev/sdf", "vol-0123456789abcdef0"); got != "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0" {
		t.Errorf("nitro: %s", got)
	}
	if got := devicePath(false, "/dev/sdg", "vol-1"); got != "/dev/xvdg" {
		t.Errorf("xen: %s", got)
	}
	if requestedDevice(0) != "/dev/sdf" || requestedDevice(10) != "/dev/sdp" {
		t.Errorf("requested devices %s..%s", requestedDevice(0), requestedDevice(10))
	}
	for name, want := range map[string]typeInfo{
		"t2.micro": {false, "amd64"}, "m4.large": {false, "amd64"}, "i3.large": {false, "amd64"},
		"i3en.large": {true, "amd64"}, "t3.medium": {true, "amd64"}, "m5.large": {true, "amd64"},
		"t4g.small": {true, "arm64"}, "m6gd.large": {true, "arm64"}, "im4gn.large": {true, "arm64"},
		"a1.large": {true, "arm64"}, "g4dn.xlarge": {true, "amd64"}, "p3dn.24xlarge": {true, "amd64"},
	} {
		if got := guessInstanceType(name); got != want {
			t.Errorf("guess %s = %+v, want %+v", name, got, want)
		}
	}

	ctx := testContext(t)
	vol := []cloud.VolumeSpec{{Name: "d", SizeGB: 1}}
	cases := []struct {
		opts ec2test.Options
		site string
		xen  bool
	}{
		{ec2test.Options{}, `instance_type = "t2.micro"`, true},
		{ec2test.Options{}, `instance_type = "m5.metal"`, false},
		{ec2test.Options{NoInstanceTypes: true}, `instance_type = "m5.large"`, false},
		{ec2test.Options{NoInstanceTypes: true}, `instance_type = "m4.large"`, true},
		{ec2test.Options{}, `device_naming = "xen"`, true},
	}
	for _, c := range cases {
		srv := ec2test.New(c.opts)
		p, _ := newTestProvider(t, srv, c.site)
		hosts, err := launchAll(ctx, p, specsFor("dev", group{"server", 1, vol}))
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.site, err)
		}
		v := hosts["server[0]"].Volumes["d"]
		if xen := v.Device == "/dev/xvdf"; xen != c.xen || (!xen && !strings.HasSuffix(v.Device, strings.ReplaceAll(v.ProviderID, "-", ""))) {
			t.Errorf("%s (%+v): device %s", c.site, c.opts, v.Device)
		}
	}
}

func TestGroupOverridesAndPrivateAddresses(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	srv.AddSubnet(ec2test.Subnet{ID: "subnet-private", VpcID: "vpc-private", CIDR: "10.0.0.0/24"})
	p, _ := newTestProvider(t, srv, `
subnet_id = "subnet-private"
tags = { team = "storage" }
groups = {
  server = { instance_type = "m5.large", use_private_ip = true }
  client = { associate_public_ip = true }
}`)
	hosts, err := launchAll(ctx, p, specsFor("ovr", group{"server", 1, nil}, group{"client", 1, nil}))
	if err != nil {
		t.Fatal(err)
	}
	server, client := hosts["server[0]"], hosts["client[0]"]
	si, _ := srv.Instance(server.ProviderID)
	ci, _ := srv.Instance(client.ProviderID)
	if si.InstanceType != "m5.large" || ci.InstanceType != DefaultInstanceType {
		t.Errorf("types %s/%s", si.InstanceType, ci.InstanceType)
	}
	if si.PublicIP != "" || server.SSHAddress != si.PrivateIP || si.SubnetID != "subnet-private" {
		t.Errorf("server: public %q, dials %s, subnet %s", si.PublicIP, server.SSHAddress, si.SubnetID)
	}
	if ci.PublicIP == "" || client.SSHAddress != ci.PublicIP {
		t.Errorf("client: public %q, dials %s", ci.PublicIP, client.SSHAddress)
	}
	if si.Tags["team"] != "storage" || srv.SecurityGroups()[0].VpcID != "vpc-private" {
		t.Errorf("tags %v, group VPC %s", si.Tags, srv.SecurityGroups()[0].VpcID)
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

func TestCleanupTerminatesOrphans(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{PendingDescribes: 1})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	if _, err := launchAll(ctx, p, specsFor("orph", group{"server", 2, nil})); err != nil {
		t.Fatal(err)
	}
	// The hosts were never recorded (crash): Cleanup still leaves nothing.
	q, logs := newTestProvider(t, srv, "")
	if err := q.Cleanup(ctx, "orph"); err != nil {
		t.Fatal(err)
	}
	for _, in := range srv.Instances() {
		if in.State != ec2test.Terminated {
			t.Errorf("%s is %s", in.ID, in.State)
		}
	}
	if len(srv.SecurityGroups()) != 0 || len(srv.KeyPairs()) != 0 || !logs.contains("terminating 2 instance(s) still tagged") {
		t.Errorf("groups %v, keys %v", srv.SecurityGroups(), srv.KeyPairs())
	}
}

func TestKeyPairOfAnotherKeyIsRefused(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	if _, err := p.ensureKeyPair(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	f := testFactory()
	other, err := f.New(ctx, decodeSite(t, f, siteFor(srv, "")), cloud.Env{Keys: cloud.Keys{PublicKey: "ssh-ed25519 AAAAotherkey x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.(*Provider).ensureKeyPair(ctx, "k"); err == nil || !strings.Contains(err.Error(), "another public key") {
		t.Errorf("ensureKeyPair with another key: %v", err)
	}
	named, _ := newTestProvider(t, srv, `key_name = "mine"`)
	if name, err := named.ensureKeyPair(ctx, "k"); err != nil || name != "mine" {
		t.Errorf("key_name: %q %v", name, err)
	}
}
