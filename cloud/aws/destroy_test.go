package aws

import (
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

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
