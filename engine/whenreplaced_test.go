package engine_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"
)

// replaceRecipe has a replacement step on the replaced host itself
// (rejoin, paired: it runs on exactly the servers) and one on a survivor
// (heal on server[0], after rejoin), and a note for the plan.
const replaceRecipe = `
recipe "t" {}
variable "fail" {
  type    = bool
  default = false
}
hosts "server" {
  count        = 3
  replace_note = "brick rebuilt from ${hosts.server[0].name}; data stays readable"
}
hosts "client" { count = 1 }
step "daemon" {
  on  = hosts.server
  run = "echo daemon"
}
step "rejoin" {
  on            = hosts.server
  after         = [step.daemon]
  when_replaced = hosts.server
  run           = var.fail ? "exit 1 # rejoin" : "echo rejoin ${host.name}"
}
step "heal" {
  on            = hosts.server[0]
  after         = [step.rejoin]
  when_replaced = [hosts.server]
  run           = "echo heal"
}
step "mount" {
  on  = hosts.client
  run = "echo mount"
}
`

func replaceWorld(t *testing.T) *world {
	w := newWorld(t, replaceRecipe)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "exit 1") {
			return 0, 1, "rejoin failed\n"
		}
		return 0, 0, ""
	}
	return w
}

func mustApply(t *testing.T, w *world, p *engine.Plan) {
	t.Helper()
	if res := w.apply(p, 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %v", res.Failures[0].Err)
	}
}

// TestWhenReplacedFirstDeployRunsNothing: a first deploy (and a count
// that grows) plans no replacement step, and the re-plan is a no-op.
func TestWhenReplacedFirstDeployRunsNothing(t *testing.T) {
	w := replaceWorld(t)
	p := w.plan()
	if s := summary(p); strings.Contains(s, "rejoin") || strings.Contains(s, "heal") {
		t.Fatalf("a first deploy plans replacement steps:\n%s", s)
	}
	mustApply(t, w, p)
	if n := w.cloud.CountMatching("rejoin") + w.cloud.CountMatching("heal"); n != 0 {
		t.Fatalf("replacement steps ran %d times on a first deploy", n)
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan after the first deploy:\n%s", summary(p))
	}
	for addr := range w.st.Steps {
		if strings.Contains(addr, "rejoin") || strings.Contains(addr, "heal") {
			t.Fatalf("state records %s, which never ran", addr)
		}
	}
}

// TestWhenReplacedGoneHost: a server removed behind diffuser's back is
// replaced by the refreshed plan, which runs rejoin on the new machine
// only and heal on the survivor once, shows the group's note, and then
// plans nothing.
func TestWhenReplacedGoneHost(t *testing.T) {
	w := replaceWorld(t)
	mustApply(t, w, w.plan())
	w.cloud.Remove("test", "server[1]")
	p := w.plan(w.refresh)
	want := `-/+ launch["server[1]"] (host is gone (found by refresh))
+ step.daemon["server[1]"] (host is replaced)
+ step.rejoin["server[1]"] (host is replaced)
+ step.heal["server[0]"] (server[1] is replaced)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range p.Changes {
		if c.Kind == "launch" && c.Note != "brick rebuilt from server[0]; data stays readable" {
			t.Fatalf("launch note = %q", c.Note)
		}
	}
	before0, before1 := len(w.cloud.Commands("server[0]")), len(w.cloud.Commands("server[1]"))
	mustApply(t, w, p)
	got0, got1 := w.cloud.Commands("server[0]")[before0:], w.cloud.Commands("server[1]")[before1:]
	if strings.Join(got0, "|") != "echo heal" {
		t.Fatalf("server[0] ran %q, want only the heal", got0)
	}
	if !strings.Contains(strings.Join(got1, "|"), "echo rejoin server[1]") {
		t.Fatalf("server[1] ran %q, want the rejoin", got1)
	}
	if w.cloud.CountMatching("echo rejoin server[2]") != 0 {
		t.Fatal("rejoin ran on server[2], which was not replaced")
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan after the replacement:\n%s", summary(p))
	}
}

// TestWhenReplacedLiveHostAndSurvivorReplaced: -replace of a live host
// runs its replacement too; replacing server[0], the host the survivor
// step runs on, runs it there (on the new machine): the recipe picks its
// survivor.
func TestWhenReplacedLiveHostAndSurvivorReplaced(t *testing.T) {
	w := replaceWorld(t)
	mustApply(t, w, w.plan())
	p := w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"server[2]", "server[0]"} })
	got := summary(p)
	for _, line := range []string{
		`+ step.rejoin["server[0]"] (host is replaced)`,
		`+ step.rejoin["server[2]"] (host is replaced)`,
		`+ step.heal["server[0]"] (host is replaced)`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("plan lacks %s:\n%s", line, got)
		}
	}
	if strings.Contains(got, `rejoin["server[1]"]`) || strings.Contains(got, "client") {
		t.Errorf("plan runs more than the replacement:\n%s", got)
	}
	mustApply(t, w, p)
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan:\n%s", summary(p))
	}
}

// TestWhenReplacedOwedUntilItSucceeds: a replacement step that fails is
// run again by the next apply (it is owed, whatever its digest), and by
// the ones after until it succeeds; then nothing.
func TestWhenReplacedOwedUntilItSucceeds(t *testing.T) {
	w := replaceWorld(t)
	mustApply(t, w, w.plan())
	w.vars = []string{"fail=true"}
	res := w.apply(w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"server[2]"} }), 0)
	if len(res.Failures) != 1 || res.Failures[0].Addr != `step.rejoin["server[2]"]` {
		t.Fatalf("failures: %+v", res.Failures)
	}
	if got := summary(w.plan(w.refresh)); got != "+ step.rejoin[\"server[2]\"] (replacement did not finish last time)\n+ step.heal[\"server[0]\"] (replacement did not finish last time)\n" {
		t.Fatalf("plan after the failure:\n%s", got)
	}
	w.vars = nil
	mustApply(t, w, w.plan(w.refresh))
	if w.st.Steps[`step.heal["server[0]"]`].Status != state.StatusApplied {
		t.Fatalf("heal: %+v", w.st.Steps[`step.heal["server[0]"]`])
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan:\n%s", summary(p))
	}
}

// TestWhenReplacedOwedBeforeTheOldMachineGoes: the owed instances are
// recorded before the old machine is destroyed, so an apply that stops
// after the launch (here: one targeted at the host) still runs them next
// time, although the host's launch is then a no-op.
func TestWhenReplacedOwedBeforeTheOldMachineGoes(t *testing.T) {
	w := replaceWorld(t)
	mustApply(t, w, w.plan())
	p := w.plan(func(o *engine.PlanOptions) {
		o.Replace = []string{"server[1]"}
		o.Targets = []string{`launch["server[1]"]`}
	})
	if got := summary(p); got != "-/+ launch[\"server[1]\"] (replacement requested with -replace)\n" {
		t.Fatalf("targeted plan:\n%s", got)
	}
	mustApply(t, w, p)
	if i := w.st.Steps[`step.rejoin["server[1]"]`]; i == nil || i.Status != state.StatusFailed || !strings.HasPrefix(i.Error, "owed: server[1] was replaced") {
		t.Fatalf("rejoin record after the launch: %+v", i)
	}
	got := summary(w.plan(w.refresh))
	for _, line := range []string{
		`+ step.rejoin["server[1]"] (replacement did not finish last time)`,
		`+ step.heal["server[0]"] (replacement did not finish last time)`,
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("plan lacks %s:\n%s", line, got)
		}
	}
	mustApply(t, w, w.plan(w.refresh))
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("re-plan:\n%s", summary(p))
	}
}

// TestWhenReplacedRefused: when_replaced names whole host groups.
func TestWhenReplacedRefused(t *testing.T) {
	for _, tc := range []struct{ attr, want string }{
		{`when_replaced = hosts.sever`, "Did you mean hosts.server?"},
		{`when_replaced = step.a`, "Invalid when_replaced"},
		{`when_replaced = hosts.server[0]`, "Invalid when_replaced"},
		{`when_replaced = "server"`, "Invalid when_replaced"},
		{`when_replaced = [hosts.server, var.x]`, "Invalid when_replaced"},
	} {
		src := "recipe \"t\" {}\nvariable \"x\" { default = 1 }\nhosts \"server\" { count = 2 }\nstep \"a\" {\n  on = hosts.server\n  run = \"true\"\n}\n" +
			"step \"b\" {\n  on = hosts.server\n  run = \"true\"\n  " + tc.attr + "\n}\n"
		_, d := load(t, src)
		if !d.HasErrors() || !strings.Contains(d.Error(), tc.want) || !strings.Contains(d.Error(), "main.hcl:11") {
			t.Errorf("%s: %v", tc.attr, d)
		}
	}
}

// TestWhenReplacedNotInModules: a module's steps cannot name host groups,
// so when_replaced there is refused at its line.
func TestWhenReplacedNotInModules(t *testing.T) {
	fsys := fstest.MapFS{
		"r/main.hcl":   {Data: []byte("recipe \"t\" {}\nhosts \"server\" { count = 2 }\nmodule \"m\" {\n  source = \"./m\"\n  on     = hosts.server\n}\n")},
		"r/m/main.hcl": {Data: []byte("step \"x\" {\n  run           = \"true\"\n  when_replaced = hosts.server\n}\n")},
	}
	_, d := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if !d.HasErrors() || !strings.Contains(d.Error(), "when_replaced in a module") || !strings.Contains(d.Error(), "m/main.hcl:3") {
		t.Fatalf("got %v", d)
	}
}

// TestWhenReplacedStepNamedInReplace: -replace naming an instance of a
// replacement step runs it, as it runs any step instance it names: one
// that ran (its last replacement) runs again, its guard skipped; one that
// never ran (no host was replaced yet) runs once. The plan was "No
// changes": the request was dropped without a word.
func TestWhenReplacedStepNamedInReplace(t *testing.T) {
	w := replaceWorld(t)
	mustApply(t, w, w.plan())
	mustApply(t, w, w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"server[1]"} }))
	rejoins, heals := w.cloud.CountMatching("echo rejoin"), w.cloud.CountMatching("echo heal")
	p := w.plan(func(o *engine.PlanOptions) {
		o.Replace = []string{`step.rejoin["server[1]"]`, `step.rejoin["server[2]"]`, `step.heal["server[0]"]`}
	})
	want := `~ step.rejoin["server[1]"] (re-run requested with -replace)
+ step.rejoin["server[2]"] (run requested with -replace)
~ step.heal["server[0]"] (re-run requested with -replace)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	mustApply(t, w, p)
	if n := w.cloud.CountMatching("echo rejoin") - rejoins; n != 2 {
		t.Errorf("rejoin ran %d more times, want 2 (server[1] and server[2])", n)
	}
	if n := w.cloud.CountMatching("echo heal") - heals; n != 1 {
		t.Errorf("heal ran %d more times, want once", n)
	}
	if s := summary(w.plan()); s != "" {
		t.Errorf("plan after:\n%s", s)
	}
}
