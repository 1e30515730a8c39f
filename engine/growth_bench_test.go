package engine_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"
)

// growthVar is the host group each built-in recipe grows by.
var growthVar = map[string]string{
	"ceph":      "osds",
	"glusterfs": "servers",
	"moosefs":   "chunkservers",
	"nfs":       "clients",
	"orangefs":  "servers",
}

// BenchmarkPlanGrowth: load + plan of every built-in recipe (empty state,
// simulated hosts) at 200 and at 1,600 hosts of the group it grows by. A
// plan costs in proportion to its instances: eight times the hosts should
// take about eight times as long (less, while fixed costs weigh), and an
// expression made per instance over every host of a group (a list of the
// other servers in each server's command) makes it up to 64 times.
// glusterfs's brick_rejoin did that: 23 s for `diffuser plan glusterfs
// -var servers=1600`, 1.7 s after.
func BenchmarkPlanGrowth(b *testing.B) {
	defer benchGC()()
	const small, large = 200, 1600
	for i := 0; i < b.N; i++ {
		for _, r := range recipes.Names() {
			v, ok := growthVar[r]
			if !ok {
				b.Fatalf("built-in recipe %s: say which group it grows by in growthVar", r)
			}
			ts, tl := planWall(b, r, v, small), planWall(b, r, v, large)
			ratio := tl.Seconds() / ts.Seconds()
			verdict := "ok"
			if ratio > 16 {
				verdict = "GROWS FASTER THAN THE HOSTS"
			}
			fmt.Printf("plan %-9s %s=%-4d %8v  %s=%-4d %8v  ratio %5.2fx for %dx the hosts (target < 16x: %s)\n",
				r, v, small, ts.Round(time.Millisecond), v, large, tl.Round(time.Millisecond), ratio, large/small, verdict)
			b.ReportMetric(ratio, r+"-ratio")
		}
	}
}

// planWall is the median wall time of loading and planning recipe with
// group var set to n, over benchRuns() runs.
func planWall(b *testing.B, recipe, v string, n int) time.Duration {
	b.Helper()
	var walls []time.Duration
	for range benchRuns() {
		t0 := time.Now()
		l, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: recipe, Display: recipe, Modules: recipes.Modules()},
			lang.Inputs{Vars: []string{v + "=" + strconv.Itoa(n)}}, builtin.Kinds())
		if diags.HasErrors() {
			b.Fatalf("load %s: %s", recipe, diags.Error())
		}
		if _, diags := l.Plan(context.Background(), engine.PlanOptions{State: state.New("bench"), Provider: "sim", Settings: noSettings}); diags.HasErrors() {
			b.Fatalf("plan %s: %s", recipe, diags.Error())
		}
		walls = append(walls, time.Since(t0))
	}
	return median(walls)
}
