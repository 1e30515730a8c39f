package docker

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"
)

// TestEnsureNetworkRace creates the cluster network from two providers (as
// two processes would) and eight goroutines at once: all must get the same
// network, and exactly one may exist.
func TestEnsureNetworkRace(t *testing.T) {
	a := newTestEnvNoImage(t, nil)
	b := newTestEnvNoImage(t, nil)
	cluster := a.cluster // b's own cluster stays unused; a's cleanup removes this one
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		p := a.p
		if i%2 == 1 {
			p = b.p
		}
		wg.Go(func() {
			id, err := p.ensureNetwork(ctx, cluster)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("ensureNetwork returned different networks: %v", ids)
		}
	}
	nets, err := a.p.clusterNetworks(ctx, cluster)
	if err != nil || len(nets) != 1 || nets[0].ID != ids[0] {
		t.Errorf("networks of the cluster: %d (%v), want exactly %s", len(nets), err, ids[0])
	}
	if err := a.p.Cleanup(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	if nets, _ := a.p.clusterNetworks(ctx, cluster); len(nets) != 0 {
		t.Errorf("network left after cleanup: %v", nets)
	}
	if _, err := os.Stat(lockPath(networkLock(cluster))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("network lock file left after cleanup: %v", err)
	}
}
