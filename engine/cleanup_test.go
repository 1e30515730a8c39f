package engine_test

import (
	"context"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"

	"github.com/zclconf/go-cty/cty"
)

// A first apply killed after its launch but before the launch was
// recorded leaves a host the provider tagged and state never knew: destroy
// still asks the provider to clean up the cluster, and the host goes.
func TestDestroyWithEmptyStateCleansUpTheCluster(t *testing.T) {
	src := `
recipe "c" {}
hosts "h" { count = 1 }
step "s" {
  on  = hosts.h
  run = "true"
}
`
	w := newWorld(t, src)
	destroyPlan := func() *engine.Plan {
		return w.plan(func(o *engine.PlanOptions) { o.Destroy = true; o.Cluster = "test" })
	}
	// Never applied: nothing can be tagged, nothing to do.
	if p := destroyPlan(); p.HasChanges() || p.Cleanup {
		t.Fatalf("destroy of a never-applied workspace plans work: cleanup=%v", p.Cleanup)
	}
	// The first apply saved state, then launched, then was killed.
	if err := w.store.Save(w.st); err != nil {
		t.Fatal(err)
	}
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	if _, err := prov.Launch(context.Background(), cloud.HostSpec{Cluster: "test", Group: "h", Name: "h[0]", Count: 1}); err != nil {
		t.Fatal(err)
	}
	// Another workspace's host is not touched.
	if _, err := prov.Launch(context.Background(), cloud.HostSpec{Cluster: "other", Group: "h", Name: "h[0]", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if len(w.st.Hosts) != 0 || w.cloud.Hosts() != 2 {
		t.Fatalf("setup: %d hosts in state, %d in the cloud", len(w.st.Hosts), w.cloud.Hosts())
	}
	p := destroyPlan()
	if !p.HasChanges() || !p.Cleanup {
		t.Fatal("destroy with a saved state and no host plans no cleanup")
	}
	res := w.apply(p, 0)
	if len(res.Failures) > 0 {
		t.Fatalf("destroy: %v", res.Failures)
	}
	if n := w.cloud.Hosts(); n != 1 {
		t.Errorf("after destroy %d hosts exist, want only the other cluster's", n)
	}
}
