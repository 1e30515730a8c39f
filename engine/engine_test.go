package engine_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

const twoGroups = `
recipe "t" {}
variable "n" {
  type    = number
  default = 2
}
variable "msg" {
  type    = string
  default = "hello"
}
hosts "a" { count = var.n }
hosts "b" { count = 3 }
step "a1" {
  on  = hosts.a
  run = "echo a1 ${var.msg}"
}
step "a2" {
  on    = hosts.a
  after = [step.a1]
  run   = "echo a2"
}
step "b1" {
  on    = hosts.b
  after = [step.a1]
  run   = "echo b1"
}
step "a3" {
  on        = hosts.a
  after_all = [step.a2]
  run       = "echo a3"
}
step "first" {
  on    = hosts.a[0]
  after = [step.a2]
  run   = "echo ${join(",", [for h in hosts.b : h.private_ip])}"
}
`

func hasEdge(g *engine.Instances, from, to string) bool {
	return strings.Contains("\n"+g.String(), "\n"+from+" -> "+to+"\n")
}

func TestAfterRules(t *testing.T) {
	l := mustLoad(t, twoGroups)
	g := l.Graph
	cases := []struct {
		name     string
		from, to string
		want     bool
	}{
		{"same host set pairs per host", `step.a1["a[0]"]`, `step.a2["a[0]"]`, true},
		{"same host set does not cross hosts", `step.a1["a[0]"]`, `step.a2["a[1]"]`, false},
		{"other host set waits for all via join", `step.a1 (all)`, `step.b1["b[2]"]`, true},
		{"join collects every instance", `step.a1["a[1]"]`, `step.a1 (all)`, true},
		{"no direct N×M edge", `step.a1["a[0]"]`, `step.b1["b[0]"]`, false},
		{"after_all forces the join on the same host set", `step.a2 (all)`, `step.a3["a[0]"]`, true},
		{"every instance waits for its own launch", `launch["b[1]"]`, `step.b1["b[1]"]`, true},
		{"reading hosts.b waits for every launch of b", `hosts.b (all launched)`, `step.first["a[0]"]`, true},
		{"a single host is another host set", `step.a2 (all)`, `step.first["a[0]"]`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := hasEdge(g, c.from, c.to); got != c.want {
				t.Errorf("edge %s -> %s: got %v, want %v\ngraph:\n%s", c.from, c.to, got, c.want, g.String())
			}
		})
	}
	// 5 launches + 2+2+3+2+1 instances + joins for a1, a2 + group join for b.
	if got, want := g.NumVertices(), 5+10+2+1; got != want {
		t.Errorf("vertices = %d, want %d", got, want)
	}
	if len(g.Order) != g.NumVertices() {
		t.Errorf("topological order covers %d of %d vertices", len(g.Order), g.NumVertices())
	}
	pos := make(map[int32]int)
	for i, v := range g.Order {
		pos[v] = i
	}
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		for _, w := range g.Out(v) {
			if pos[v] >= pos[w] {
				t.Fatalf("order puts %s after its dependent %s", g.Addr(v), g.Addr(w))
			}
		}
	}
}

func TestCycleNamesEveryStep(t *testing.T) {
	src := `
recipe "c" {}
hosts "h" {}
step "x" {
  on    = hosts.h
  after = [step.z]
  run   = "x"
}
step "y" {
  on    = hosts.h
  after = [step.x]
  run   = "y"
}
step "z" {
  on    = hosts.h
  after = [step.y]
  run   = "z"
}
step "free" {
  on  = hosts.h
  run = "ok"
}
`
	_, diags := load(t, src)
	if !diags.HasErrors() {
		t.Fatal("a cycle loaded without error")
	}
	msg := diags.Error()
	for _, want := range []string{"Cycle between steps", `step "x" at r/main.hcl:4`, `step "y" at r/main.hcl:9`, `step "z" at r/main.hcl:14`} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnostic lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `"free"`) {
		t.Errorf("diagnostic names a step outside the cycle:\n%s", msg)
	}
}

func TestApplyThenNoOpThenUpdateThenShrink(t *testing.T) {
	w := newWorld(t, twoGroups)
	p := w.plan()
	add, change, destroy := p.Counts()
	if add != 15 || change != 0 || destroy != 0 {
		t.Fatalf("first plan: %d/%d/%d, want 15 to add\n%s", add, change, destroy, summary(p))
	}
	res := w.apply(p, 8)
	if len(res.Failures) != 0 || res.Ran != 15 {
		t.Fatalf("apply: ran %d, failures %v", res.Ran, res.Failures)
	}
	if w.cloud.Hosts() != 5 {
		t.Fatalf("hosts = %d, want 5", w.cloud.Hosts())
	}
	// The command reading hosts.b saw every address.
	cmds := strings.Join(w.cloud.Commands("a[0]"), "\n")
	for _, h := range []string{"b[0]", "b[1]", "b[2]"} {
		ip := w.st.Hosts[h].PrivateIP
		if ip == "" || !strings.Contains(cmds, ip) {
			t.Errorf("first's command lacks %s's address %q:\n%s", h, ip, cmds)
		}
	}
	if p2 := w.plan(w.refresh); p2.HasChanges() {
		t.Fatalf("re-plan after apply is not a no-op:\n%s", summary(p2))
	}

	w.vars = []string{"msg=bye"}
	p3 := w.plan()
	if got, want := summary(p3), "~ step.a1[\"a[0]\"] (inputs changed)\n~ step.a1[\"a[1]\"] (inputs changed)\n"; got != want {
		t.Fatalf("plan after a variable change:\n%s\nwant:\n%s", got, want)
	}
	before := w.cloud.CountMatching("echo a2")
	if res := w.apply(p3, 8); len(res.Failures) != 0 || res.Ran != 2 {
		t.Fatalf("update apply: ran %d, failures %v", res.Ran, res.Failures)
	}
	if w.cloud.CountMatching("echo a2") != before {
		t.Error("an unchanged step ran again")
	}

	w.vars = []string{"msg=bye", "n=1"}
	p4 := w.plan()
	_, _, destroy = p4.Counts()
	if destroy != 4 { // a[1]: a1, a2, a3 and the host
		t.Fatalf("shrink plan destroys %d, want 4:\n%s", destroy, summary(p4))
	}
	if res := w.apply(p4, 8); len(res.Failures) != 0 {
		t.Fatalf("shrink apply failed: %v", res.Failures)
	}
	if w.cloud.Hosts() != 4 || w.st.Hosts["a[1]"] != nil {
		t.Fatalf("after shrink: %d hosts, a[1] in state: %v", w.cloud.Hosts(), w.st.Hosts["a[1]"] != nil)
	}

	pd := w.plan(func(o *engine.PlanOptions) { o.Destroy = true })
	if res := w.apply(pd, 8); len(res.Failures) != 0 {
		t.Fatalf("destroy failed: %v", res.Failures)
	}
	if w.cloud.Hosts() != 0 || len(w.st.Hosts) != 0 || len(w.st.Steps) != 0 {
		t.Fatalf("after destroy: %d hosts in cloud, state %d hosts %d instances", w.cloud.Hosts(), len(w.st.Hosts), len(w.st.Steps))
	}
}

func TestFailureStopsDescendantsOnly(t *testing.T) {
	w := newWorld(t, twoGroups)
	var fail atomic.Bool
	fail.Store(true)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if host == "a[1]" && strings.Contains(cmd, "echo a1") && fail.Load() {
			return 0, 7, "boom on a[1]\n"
		}
		return 0, 0, ""
	}
	res := w.apply(w.plan(), 8)
	if len(res.Failures) != 1 {
		t.Fatalf("failures = %v, want exactly one", res.Failures)
	}
	f := res.Failures[0]
	if f.Addr != `step.a1["a[1]"]` || f.Host != "a[1]" || f.Exit != 7 || !strings.Contains(f.Tail, "boom on a[1]") {
		t.Fatalf("failure = %+v", f)
	}
	// a2 on a[0] pairs with a1 on a[0] only: it ran. b1 waits for all of a1: skipped.
	if w.cloud.CountMatching("echo a2") != 1 {
		t.Errorf("a2 ran %d times, want once (on a[0])", w.cloud.CountMatching("echo a2"))
	}
	if w.cloud.CountMatching("echo b1") != 0 {
		t.Error("b1 ran although a1 failed on a[1]")
	}
	if res.Skipped == 0 {
		t.Error("nothing reported skipped")
	}
	// Fix the cause and apply again: only what did not finish runs.
	fail.Store(false)
	a2Before := w.cloud.CountMatching("echo a2")
	p := w.plan()
	res = w.apply(p, 8)
	if len(res.Failures) != 0 {
		t.Fatalf("second apply failed: %v", res.Failures)
	}
	if got := w.cloud.CountMatching("echo a2"); got != a2Before+1 {
		t.Errorf("a2 ran %d more times, want 1 (only a[1])", got-a2Before)
	}
	if w.plan().HasChanges() {
		t.Error("not converged after the second apply")
	}
}

func TestCapturedOutputsFlowDownstream(t *testing.T) {
	src := `
recipe "cap" {}
hosts "mon" {}
hosts "osd" { count = 2 }
step "keygen" {
  on        = hosts.mon[0]
  run       = "make-key"
  sensitive = true
  capture {
    key = "print-key"
  }
}
step "use" {
  on  = hosts.osd
  run = "install-key ${step.keygen.outputs.key}"
}
`
	w := newWorld(t, src)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if cmd == "print-key" {
			return 0, 0, "AQBsecret==\n"
		}
		return 0, 0, ""
	}
	p := w.plan()
	for _, c := range p.Changes {
		if c.Step == "use" && c.Args.IsWhollyKnown() {
			t.Errorf("use's arguments are known before keygen ran: %#v", c.Args)
		}
	}
	if res := w.apply(p, 0); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	if n := w.cloud.CountMatching("install-key AQBsecret=="); n != 2 {
		t.Fatalf("install-key with the captured value ran %d times, want 2", n)
	}
	inst := w.st.Steps[`step.keygen["mon[0]"]`]
	if inst == nil || !inst.Sensitive || inst.Outputs["key"] != "AQBsecret==" {
		t.Fatalf("keygen instance = %+v", inst)
	}
	if p := w.plan(); p.HasChanges() {
		t.Fatalf("not a no-op after apply:\n%s", summary(p))
	}
}

func TestRefreshFindsRemovedAndStoppedHosts(t *testing.T) {
	w := newWorld(t, twoGroups)
	w.apply(w.plan(), 0)
	w.cloud.Remove("test", "b[1]")
	w.cloud.Stop("test", "a[0]")
	p := w.plan(w.refresh)
	got := summary(p)
	for _, want := range []string{`-/+ launch["b[1]"] (host is gone (found by refresh))`, `~ launch["a[0]"] (host is stopped (found by refresh))`,
		`+ step.b1["b[1]"] (host is replaced)`} {
		if !strings.Contains(got, want) {
			t.Errorf("refresh plan lacks %q:\n%s", want, got)
		}
	}
	if res := w.apply(p, 0); len(res.Failures) != 0 {
		t.Fatalf("repair apply: %v", res.Failures)
	}
	if w.plan(w.refresh).HasChanges() {
		t.Fatal("not converged after repair")
	}
}

func TestPackageRunsNeverOverlapOnAHost(t *testing.T) {
	src := `
recipe "pk" {}
hosts "h" { count = 3 }
step "p1" {
  on      = hosts.h
  package = ["one"]
}
step "p2" {
  on      = hosts.h
  package = ["two"]
}
step "p3" {
  on      = hosts.h
  package = ["three"]
}
`
	w := newWorld(t, src)
	var mu sync.Mutex
	active := map[string]int{}
	maxActive := 0
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if !strings.Contains(cmd, " install --no-install-recommends") {
			if strings.Contains(cmd, "command -v") {
				return 0, 0, "apt-get\n"
			}
			return 0, 0, ""
		}
		mu.Lock()
		active[host]++
		maxActive = max(maxActive, active[host])
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		active[host]--
		mu.Unlock()
		return 0, 0, ""
	}
	res := w.apply(w.plan(), 0)
	if len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	if n := w.cloud.CountMatching(" install --no-install-recommends"); n != 9 {
		t.Fatalf("apt-get install ran %d times, want 9", n)
	}
	if maxActive != 1 {
		t.Fatalf("up to %d package-manager runs overlapped on one host", maxActive)
	}
}

func TestStopStartsNothingNew(t *testing.T) {
	w := newWorld(t, twoGroups)
	stop := make(chan struct{})
	var once sync.Once
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		once.Do(func() { close(stop) })
		return 10 * time.Millisecond, 0, ""
	}
	prov, _ := w.cloud.Factory().New(context.Background(), nilVal, cloudEnv)
	res := w.plan().Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
		Connector: w.cloud.Connector(), Recorder: recorder{w.store}, Parallelism: 1, Stop: stop, LogDir: t.TempDir()})
	if res.Skipped == 0 {
		t.Fatal("stopping skipped nothing")
	}
	if res.Ran+res.Skipped+len(res.Failures) != res.Total {
		t.Fatalf("ran %d + skipped %d + failed %d != total %d", res.Ran, res.Skipped, len(res.Failures), res.Total)
	}
}

// TestDestroyUndoesFailedInstancesBestEffort: a step whose last run
// failed may have done part of its work, so destroy runs its destroy
// command too; when that fails as well, it is a warning and the rest of
// the cluster is still destroyed.
func TestDestroyUndoesFailedInstancesBestEffort(t *testing.T) {
	src := `recipe "t" {}
hosts "a" { count = 1 }
step "mk" {
  on      = hosts.a
  run     = "echo make"
  destroy = "echo undo-mk"
}
step "bad" {
  on      = hosts.a
  after   = [step.mk]
  run     = "echo bad-run"
  destroy = "echo undo-bad"
}
`
	w := newWorld(t, src)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "bad-run") || strings.Contains(cmd, "undo-bad") {
			return 0, 5, "no\n"
		}
		return 0, 0, ""
	}
	if res := w.apply(w.plan(), 8); len(res.Failures) != 1 || res.Failures[0].Step != "bad" {
		t.Fatalf("first apply: failures %v, want bad only", res.Failures)
	}
	if got := w.st.Steps[`step.bad["a[0]"]`]; got == nil || got.Status != state.StatusFailed {
		t.Fatalf("state of bad: %+v", got)
	}
	res := w.apply(w.plan(func(o *engine.PlanOptions) { o.Destroy = true }), 8)
	if len(res.Failures) != 0 {
		t.Fatalf("destroy failed: %v", res.Failures)
	}
	if w.cloud.CountMatching("undo-bad") != 1 || w.cloud.CountMatching("undo-mk") != 1 {
		t.Errorf("destroy commands run: undo-bad %d, undo-mk %d; want 1 each",
			w.cloud.CountMatching("undo-bad"), w.cloud.CountMatching("undo-mk"))
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `step.bad["a[0]"]`) {
		t.Errorf("warnings = %q, want one about step.bad", res.Warnings)
	}
	if len(w.st.Hosts) != 0 || len(w.st.Steps) != 0 {
		t.Errorf("left in state: %d hosts, %d steps", len(w.st.Hosts), len(w.st.Steps))
	}
}

// TestCycleNamesTheLoop: a cycle error lists the loop, each step with the
// entry that makes it wait (file:line), so a loop closed by a module
// call's after is found at the call, not in the module.
func TestCycleNamesTheLoop(t *testing.T) {
	src := `
recipe "t" {}
hosts "h" {}
step "x" {
  on    = hosts.h
  after = [step.y]
  run   = "x"
}
step "y" {
  on    = hosts.h
  after = [step.x]
  run   = "y"
}
`
	_, diags := load(t, src)
	msg := diags.Error()
	for _, want := range []string{"step.x waits for step.y (after at r/main.hcl:6)", "step.y waits for step.x (after at r/main.hcl:11)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("diagnostic lacks %q:\n%s", want, msg)
		}
	}
}
