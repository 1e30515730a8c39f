package engine_test

import (
	"fmt"
	"testing"
	"time"

	"diffuser/engine"
)

// TestSimulatedRunsAreDeterministic: a simulated apply draws every
// duration from the seed and the instance address, so the same seed gives
// the same draws and the same critical path (golden numbers below), and the
// engine's makespan on them stays within a few percent of that path. A
// different seed gives different numbers.
func TestSimulatedRunsAreDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated applies take a few seconds")
	}
	for _, tc := range []struct {
		recipe  string
		servers int
		seed    uint64
		crit    string // simulated seconds, as printed
		path    string
	}{
		{"glusterfs", 2, 1, "165.72", `launch["server[0]"] 31s -> packages@server[0] 51s -> glusterd@server[0] 5s -> pool_prune@server[0] 23s -> pool_seed@server[0] 7s -> pool_join@server[1] 3s -> volume@server[0] 44s -> mount@client[1] 2s`},
		{"ceph", 2, 1, "183.37", `launch["mon[2]"] 34s -> mon_packages@mon[2] 60s -> keys@mon[0] 6s -> mon_keyring@mon[0] 1s -> mon_mkfs@mon[0] 9s -> mon_service@mon[0] 5s -> quorum@mon[0] 6s -> cluster_config@mon[0] 8s -> osd@osd[0] 13s -> osd_service@osd[0] 5s -> osds_up@mon[0] 6s -> filesystem@mon[0] 18s -> client_key@mon[0] 3s -> module.client_files.step.keyring@client[0] 1s -> fuse_mount@client[0] 4s -> fuse_mounted@client[0] 4s`},
	} {
		t.Run(fmt.Sprintf("%s-%d-seed%d", tc.recipe, tc.servers, tc.seed), func(t *testing.T) {
			a := simulateApply(t, tc.recipe, tc.servers, 0, engine.DefaultLimits(), tc.seed)
			b := simulateApply(t, tc.recipe, tc.servers, 0, engine.DefaultLimits(), tc.seed)
			if a.crit != b.crit || a.path != b.path {
				t.Fatalf("same seed, different runs: %v %s / %v %s", a.crit, a.path, b.crit, b.path)
			}
			crit := fmt.Sprintf("%.2f", a.crit.Seconds()/benchScale())
			if crit != tc.crit || a.path != tc.path {
				t.Errorf("critical path %s s: %s\nwant %s s: %s", crit, a.path, tc.crit, tc.path)
			}
			for _, r := range []makespanRow{a, b} {
				if r.failed > 0 {
					t.Fatalf("%d instances failed", r.failed)
				}
				if r.wall < r.crit || r.wall > r.crit+r.crit/4+100*time.Millisecond {
					t.Errorf("makespan %v for a critical path of %v", r.wall, r.crit)
				}
			}
			c := simulateApply(t, tc.recipe, tc.servers, 0, engine.DefaultLimits(), tc.seed+1)
			if c.crit == a.crit && c.path == a.path {
				t.Errorf("seed %d and %d drew the same critical path %v", tc.seed, tc.seed+1, a.crit)
			}
		})
	}
}
