package aws

import (
	"maps"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

// An instance of another cluster is imported into this one: it is tagged
// for its new host, reported with its volume, and destroy (which refuses
// instances tagged for another cluster) terminates it under its new name.
func TestImportInstance(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, logs := newTestProvider(t, srv, "")
	vols := []cloud.VolumeSpec{{Name: "data", SizeGB: 5}}
	src := specsFor("alpha", group{"server", 1, vols})
	launched, err := launchAll(ctx, p, src)
	if err != nil {
		t.Fatal(err)
	}
	id := launched["server[0]"].ProviderID
	spec := specsFor("gamma", group{"storage", 1, vols})[0]

	h, err := p.Import(ctx, spec, id)
	if err != nil {
		t.Fatal(err)
	}
	if h.ProviderID != id || h.PrivateIP == "" || h.SSHUser == "" || h.Volumes["data"].ProviderID != launched["server[0]"].Volumes["data"].ProviderID {
		t.Errorf("imported %+v\nlaunched %+v", h, launched["server[0]"])
	}
	tags := byID(srv)[id].Tags
	if tags[tagCluster] != "gamma" || tags[tagGroup] != "storage" || tags[tagIndex] != "0" || tags["Name"] != "diffuser-gamma-storage-0" {
		t.Errorf("tags after import: %v", tags)
	}
	if !logs.contains("was tagged for cluster alpha") {
		t.Error("no log line about the previous cluster")
	}
	if err := p.Destroy(ctx, src[0], launched["server[0]"]); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("the old cluster destroying the imported instance: %v", err)
	}
	if st, err := p.Status(ctx, spec, h); err != nil || st != cloud.Running {
		t.Errorf("Status after import: %v, %v", st, err)
	}
	if err := p.Destroy(ctx, spec, h); err != nil {
		t.Fatal(err)
	}
	if st := byID(srv)[id].State; st != ec2test.Terminated {
		t.Errorf("after destroy the instance is %s", st)
	}

	for _, tc := range []struct {
		id   string
		spec cloud.HostSpec
		want string
	}{
		{"web-1", spec, "not an EC2 instance id"},
		{"i-0000000000000dead", spec, "no instance i-0000000000000dead in region us-east-1"},
		{id, spec, "is terminated: start it"},
	} {
		if _, err := p.Import(ctx, tc.spec, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Import(%s): %v; want %q", tc.id, err, tc.want)
		}
	}
	other, err := launchAll(ctx, p, specsFor("beta", group{"server", 1, nil}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Import(ctx, spec, other["server[0]"].ProviderID); err == nil || !strings.Contains(err.Error(), "has no volume \"data\"") {
		t.Errorf("importing an instance without the group's volume: %v", err)
	}
}

// TestUndoImport: an import that is not recorded puts the instance's tags
// back: another cluster's instance is that cluster's again (its destroy
// works, this cluster's cleanup leaves it running), and tags the import
// added go. Before, it stayed tagged for this cluster, whose destroy then
// terminated it.
func TestUndoImport(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	src := specsFor("alpha", group{"server", 1, nil})
	launched, err := launchAll(ctx, p, src)
	if err != nil {
		t.Fatal(err)
	}
	id := launched["server[0]"].ProviderID
	before := map[string]string{}
	for k, v := range byID(srv)[id].Tags {
		before[k] = v
	}
	spec := specsFor("gamma", group{"storage", 1, nil})[0]
	h, err := p.Import(ctx, spec, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.UndoImport(ctx, spec, h); err != nil {
		t.Fatal(err)
	}
	if got := byID(srv)[id].Tags; !maps.Equal(got, before) {
		t.Errorf("tags after the import was undone: %v, want %v", got, before)
	}
	if err := p.Cleanup(ctx, "gamma"); err != nil {
		t.Fatal(err)
	}
	if st := byID(srv)[id].State; st == ec2test.Terminated {
		t.Fatal("the cleanup of the cluster the import was undone from terminated the instance")
	}
	if err := p.UndoImport(ctx, spec, h); err != nil { // nothing left to undo
		t.Errorf("undoing again: %v", err)
	}
	if err := p.Destroy(ctx, src[0], launched["server[0]"]); err != nil {
		t.Errorf("the instance's own cluster destroying it: %v", err)
	}
}
