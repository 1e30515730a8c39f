//go:build reliability

package workspace_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/workspace"
)

// The slow half of the application's reliability tests (make reliability,
// -tags reliability): a GlusterFS server lost in the middle of its deploy.

// TestReliabilityHostLossGlusterfs stops a GlusterFS server's container
// once a few of its steps have run: the apply fails naming it, the other
// hosts' independent steps finish, and the next apply starts the server
// again, converges, and verify (write on one client, read on the other,
// with a server stopped) passes.
func TestReliabilityHostLossGlusterfs(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	w := newDockerWS(t, "glusterfs", "gluster-loss")
	in := w.in("servers=2", "replica=2", "clients=1")
	start := time.Now()
	pl, err := w.planOf(in, "apply")
	if err != nil {
		t.Fatal(err)
	}
	// The third step of server[1] to start, whatever the recipe calls it.
	third := make(chan struct{})
	var mu sync.Mutex
	var once sync.Once
	n := 0
	type result struct {
		res *engine.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer pl.Close()
		res, err := pl.Apply(context.Background(), workspace.ApplyOptions{OnEvent: func(ev engine.Event) {
			if ev.Type != engine.EvStart || ev.Host != "server[1]" || ev.Kind == "launch" {
				return
			}
			mu.Lock()
			n++
			if n >= 3 {
				once.Do(func() { close(third) })
			}
			mu.Unlock()
		}})
		done <- result{res, err}
	}()
	select {
	case <-third:
	case r := <-done:
		t.Fatalf("apply ended before server[1] ran three steps: %v", r.err)
	case <-time.After(15 * time.Minute):
		t.Fatal("server[1] did not get to its third step in 15 minutes")
	}
	w.stopHost(t, "server[1]")
	var r result
	select {
	case r = <-done:
	case <-time.After(20 * time.Minute):
		t.Fatal("apply did not end within 20 minutes of the host loss")
	}
	if r.err != nil {
		t.Fatalf("apply with server[1] stopped: %v", r.err)
	}
	o := r.res.Outcome()
	onServer1 := false
	for _, f := range o.Failures {
		onServer1 = onServer1 || f.Host == "server[1]"
	}
	if !onServer1 {
		t.Fatalf("apply with server[1] stopped: %+v, want a failure on server[1]", o)
	}
	st := w.readState(t, w.ws)
	finished := 0
	for _, i := range st.Steps {
		if i.Host != "server[1]" && i.Status == state.StatusApplied {
			finished++
		}
	}
	t.Logf("server[1] lost after %s; %d instances on other hosts finished; failures: %+v",
		time.Since(start).Round(time.Second), finished, o.Failures)
	if finished == 0 {
		t.Errorf("nothing finished on the other hosts")
	}
	w.mustApply(t, in, "apply")
	w.verify(t, in)
	w.noChanges(t, in)
	dockertest.CheckOneContainerPerHost(t, w.clusterPrefix())
	fmt.Printf("RELIABILITY host loss (glusterfs, 2 servers, 1 client): server[1] stopped mid-deploy, re-apply converged and verify passed in %s\n",
		time.Since(start).Round(time.Second))
}
