package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// drainRecipe is replaceRecipe's shape with a drain on the paired
// replacement step: run on the old machine before it is destroyed.
const drainRecipe = `
recipe "t" {}
variable "fail" {
  type    = bool
  default = false
}
hosts "server" {
  count        = 3
  replace_note = "healed from the other copies"
}
step "daemon" {
  on  = hosts.server
  run = "echo daemon"
}
step "rejoin" {
  on            = hosts.server
  after         = [step.daemon]
  when_replaced = hosts.server
  run           = "echo rejoin ${host.name}"
  drain         = var.fail ? "exit 3 # drain ${host.name}" : "echo drain ${host.name} ${host.private_ip}"
}
`

// drainWorld records, for each drain command, how many launches the cloud
// had made and how many machines it had when the drain ran.
type drainSeen struct {
	mu       sync.Mutex
	launches []int
	machines []int
}

func drainWorld(t *testing.T) (*world, *drainSeen) {
	w := newWorld(t, drainRecipe)
	seen := &drainSeen{}
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "drain") {
			seen.mu.Lock()
			seen.launches = append(seen.launches, w.cloud.Launches())
			seen.machines = append(seen.machines, w.cloud.Hosts())
			seen.mu.Unlock()
		}
		if strings.HasPrefix(cmd, "exit 3") {
			return 0, 3, "heal pending on 2 entries\n"
		}
		return 0, 0, ""
	}
	return w, seen
}

// TestDrainLiveHost: -replace of a live server says in the plan that the
// old machine is drained first, runs the drain on it (before the new
// machine is launched, while the old one still exists, evaluated for that
// host), then replaces it and runs the rejoin on the new machine.
func TestDrainLiveHost(t *testing.T) {
	w, seen := drainWorld(t)
	mustApply(t, w, w.plan())
	ip := w.st.Hosts["server[1]"].PrivateIP
	oldID := w.st.Hosts["server[1]"].ProviderID
	launches, machines := w.cloud.Launches(), w.cloud.Hosts()
	p := w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"server[1]"} })
	var note string
	for _, c := range p.Changes {
		if c.Addr == `launch["server[1]"]` {
			note = c.Note
		}
	}
	if note != "healed from the other copies\nif the old machine still answers, it is drained first (the drain of step.rejoin runs on it); it is destroyed only if that succeeds" {
		t.Fatalf("launch note = %q", note)
	}
	mustApply(t, w, p)
	if n := w.cloud.CountMatching("echo drain server[1] " + ip); n != 1 {
		t.Fatalf("drain ran %d times on server[1] (%s), want once", n, ip)
	}
	if n := w.cloud.CountMatching("drain"); n != 1 {
		t.Fatalf("%d drain commands ran, want 1 (only the replaced host)", n)
	}
	if len(seen.launches) != 1 || seen.launches[0] != launches || seen.machines[0] != machines {
		t.Fatalf("drain ran with launches %v and machines %v, want before the new launch (%d) with all %d machines there", seen.launches, seen.machines, launches, machines)
	}
	if w.st.Hosts["server[1]"].ProviderID == oldID || w.cloud.CountMatching("echo rejoin server[1]") != 1 {
		t.Fatalf("server[1] not replaced after the drain: id %s (was %s)", w.st.Hosts["server[1]"].ProviderID, oldID)
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan:\n%s", summary(p))
	}
}

// TestDrainGoneHostSkipped: a machine refresh found gone has nothing to
// drain: the plan does not promise it and no drain runs.
func TestDrainGoneHostSkipped(t *testing.T) {
	w, _ := drainWorld(t)
	mustApply(t, w, w.plan())
	w.cloud.Remove("test", "server[2]")
	p := w.plan(w.refresh)
	for _, c := range p.Changes {
		if c.Addr == `launch["server[2]"]` && c.Note != "healed from the other copies" {
			t.Fatalf("launch note = %q", c.Note)
		}
	}
	mustApply(t, w, p)
	if n := w.cloud.CountMatching("drain"); n != 0 {
		t.Fatalf("%d drain commands ran for a gone machine", n)
	}
	// Gone and named with -replace (how one replaces a dead machine on
	// purpose): still nothing to drain, no 30-second wait for it.
	w.cloud.Remove("test", "server[1]")
	p = w.plan(w.refresh, func(o *engine.PlanOptions) { o.Replace = []string{"server[1]"} })
	for _, c := range p.Changes {
		if c.Addr == `launch["server[1]"]` && c.Note != "healed from the other copies" {
			t.Fatalf("launch note with -replace of a gone machine = %q", c.Note)
		}
	}
	if res := w.apply(p, 0); len(res.Failures) > 0 || len(res.Warnings) > 0 {
		t.Fatalf("failures %v, warnings %v", res.Failures, res.Warnings)
	}
	if n := w.cloud.CountMatching("drain"); n != 0 {
		t.Fatalf("%d drain commands ran for a gone machine", n)
	}
}

// TestDrainFailureKeepsOldMachine: a failing drain stops the launch: the
// old machine is neither destroyed nor forgotten, no replacement is owed,
// and the failure names the drain with its output.
func TestDrainFailureKeepsOldMachine(t *testing.T) {
	w, _ := drainWorld(t)
	mustApply(t, w, w.plan())
	old := *w.st.Hosts["server[0]"]
	machines := w.cloud.Hosts()
	w.vars = []string{"fail=true"}
	res := w.apply(w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"server[0]"} }), 0)
	if len(res.Failures) == 0 {
		t.Fatal("apply with a failing drain succeeded")
	}
	msg := res.Failures[0].Err.Error()
	for _, want := range []string{"draining the old machine of server[0]", "the drain of step rejoin exited with status 3", "heal pending on 2 entries", "the old machine is kept"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure %q lacks %q", msg, want)
		}
	}
	if h := w.st.Hosts["server[0]"]; h == nil || h.ProviderID != old.ProviderID || w.cloud.Hosts() != machines {
		t.Fatalf("the old machine went: state %+v, %d machines (were %d)", h, w.cloud.Hosts(), machines)
	}
	if i := w.st.Steps[`step.rejoin["server[0]"]`]; i != nil {
		t.Fatalf("rejoin recorded as %+v although nothing was replaced", i)
	}
	w.vars = nil
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan without -replace:\n%s", summary(p))
	}
}

// TestDrainRefused: a drain needs a replacement step that runs on exactly
// the replaced hosts.
func TestDrainRefused(t *testing.T) {
	base := "recipe \"t\" {}\nhosts \"server\" { count = 2 }\nhosts \"client\" { count = 1 }\n"
	_, d := load(t, base+"step \"a\" {\n  on    = hosts.server\n  run   = \"true\"\n  drain = \"true\"\n}\n")
	if !d.HasErrors() || !strings.Contains(d.Error(), "drain without when_replaced") || !strings.Contains(d.Error(), "main.hcl:7") {
		t.Errorf("drain without when_replaced: %v", d)
	}
	_, d = load(t, base+"step \"a\" {\n  on    = hosts.server\n  run   = \"true\"\n  drain = [\"x\"]\n  when_replaced = hosts.server\n}\n")
	if !d.HasErrors() || !strings.Contains(d.Error(), "Invalid drain") {
		t.Errorf("drain as a list: %v", d)
	}
	w := newWorld(t, base+"step \"a\" {\n  on            = hosts.client\n  run           = \"true\"\n  when_replaced = hosts.server\n  drain         = \"true\"\n}\n")
	l := mustLoad(t, w.src)
	_, diags := l.Plan(t.Context(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test"})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "does not run on the replaced hosts") || !strings.Contains(diags.Error(), "main.hcl:8") {
		t.Errorf("drain on a survivor step: %v", diags)
	}
}

// builtinPlan plans the built-in recipe dir on w's state with vars.
func builtinPlan(w *world, dir string, vars []string, opts ...func(*engine.PlanOptions)) *engine.Plan {
	w.t.Helper()
	l := loadFrom(w.t, lang.Source{FS: recipes.FS(), Dir: dir, Display: dir, Modules: recipes.Modules()}, vars)
	opt := engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }}
	for _, o := range opts {
		o(&opt)
	}
	p, diags := l.Plan(context.Background(), opt)
	if diags.HasErrors() {
		w.t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

// TestGlusterfsReplaceServer0 replaces the live server[0] of the built-in
// glusterfs recipe on simulated hosts: the plan promises the drain, the
// drain (no pending heal, stop) runs on the old machine, and on the new
// one brick_rejoin takes the old UUID over before pool_seed probes
// anyone (a fresh glusterd probing the pool would be refused).
func TestGlusterfsReplaceServer0(t *testing.T) {
	w := newWorld(t, "")
	vars := []string{"servers=2", "replica=2", "clients=1"}
	if res := w.apply(builtinPlan(w, "glusterfs", vars), 8); len(res.Failures) > 0 {
		t.Fatal(res.Failures[0].Err)
	}
	before := len(w.cloud.Commands("server[0]"))
	p := builtinPlan(w, "glusterfs", vars, func(o *engine.PlanOptions) { o.Replace = []string{"server[0]"} })
	for _, c := range p.Changes {
		if c.Addr == `launch["server[0]"]` && !strings.Contains(c.Note, "it is drained first (the drain of step.brick_rejoin runs on it)") {
			t.Fatalf("launch note: %q", c.Note)
		}
	}
	if res := w.apply(p, 8); len(res.Failures) > 0 {
		t.Fatal(res.Failures[0].Err)
	}
	if cmds := strings.Join(w.cloud.Commands("server[0]")[before:], "\n"); !strings.Contains(cmds, "nothing pending heal in") {
		t.Fatalf("the drain did not run on the old server[0]:\n%s", cmds)
	}
	if rejoin := w.st.Steps[`step.brick_rejoin["server[0]"]`]; rejoin == nil || rejoin.Status != state.StatusApplied {
		t.Fatalf("brick_rejoin on the new server[0]: %+v", rejoin)
	}
	// pool_seed waits for brick_rejoin: a path in the instance graph.
	g := p.Loaded.Graph
	vertex := map[string]int32{}
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		vertex[g.Addr(v)] = v
	}
	from, to := vertex[`step.brick_rejoin["server[0]"]`], vertex[`step.pool_seed["server[0]"]`]
	seen := map[int32]bool{from: true}
	for queue := []int32{from}; len(queue) > 0; queue = queue[1:] {
		for _, n := range g.Out(queue[0]) {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	if !seen[to] {
		t.Fatal("pool_seed on server[0] does not wait for brick_rejoin there: a new server[0] would probe the pool with a fresh glusterd")
	}
	if r1 := w.st.Steps[`step.brick_rejoin["server[1]"]`]; r1 != nil {
		t.Fatalf("brick_rejoin ran on server[1], which was not replaced: %+v", r1)
	}
}
