package engine_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"

	"github.com/zclconf/go-cty/cty"
)

const restartRecipe = `
recipe "t" {}
variable "conf" { default = "a" }
variable "global" { default = "g" }
hosts "server" { count = 2 }
hosts "client" { count = 1 }

step "conf" {
  on   = hosts.server
  file {
    path    = "/etc/d.conf"
    content = host.index == 1 ? var.conf : "fixed"
  }
}

step "global" {
  on  = hosts.client
  run = "echo ${var.global}"
}

step "daemon" {
  on         = hosts.server
  restart_on = [step.conf]
  reload_on  = [step.global]
  service { name = "d" }
}
`

func applyOK(t *testing.T, w *world, p *engine.Plan) *engine.Result {
	t.Helper()
	res := w.apply(p, 0)
	if len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	return res
}

func spanStatus(res *engine.Result) map[string]string {
	out := map[string]string{}
	for _, s := range res.Spans {
		out[s.Addr] = s.Status
	}
	return out
}

// TestRestartOnPlan: a change of conf on server[1] restarts only
// server[1]'s daemon (same host set: paired); a change of a step on other
// hosts reloads every daemon; nothing changed, nothing restarts; a first
// apply restarts the daemons (a restart of a stopped unit starts it; a
// package may have started it with its packaged configuration).
func TestRestartOnPlan(t *testing.T) {
	w := newWorld(t, restartRecipe)
	w.kinds = simKinds
	first := w.plan()
	if s := summary(first); !strings.Contains(s, `+ step.daemon["server[1]"] (then restart because step.conf["server[1]"] and 1 more will change)`) {
		t.Errorf("first plan does not say the daemon restarts after its configuration:\n%s", s)
	}
	res := applyOK(t, w, first)
	for _, addr := range []string{`step.daemon["server[0]"]`, `step.daemon["server[1]"]`} {
		if st := spanStatus(res)[addr]; st != "restarted" {
			t.Errorf("first apply: %s %s, want restarted", addr, st)
		}
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("no-op plan:\n%s", s)
	}

	w.vars = []string{"conf=b"}
	p := w.plan()
	want := `~ step.conf["server[1]"] (inputs changed)
~ step.daemon["server[1]"] (restart because step.conf["server[1]"] will change)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	res = applyOK(t, w, p)
	if st := spanStatus(res)[`step.daemon["server[1]"]`]; st != "restarted" {
		t.Errorf("daemon on server[1]: %q, want restarted", st)
	}
	if res.Ran != 2 {
		t.Errorf("apply of 2 changes (a file and the restart it causes) counts %d done, want 2", res.Ran)
	}
	if _, ok := spanStatus(res)[`step.daemon["server[0]"]`]; ok {
		t.Error("daemon on server[0] ran")
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after restart:\n%s", s)
	}

	w.vars = []string{"conf=b", "global=h"}
	want = `~ step.global["client[0]"] (inputs changed)
~ step.daemon["server[0]"] (reload because step.global["client[0]"] will change)
~ step.daemon["server[1]"] (reload because step.global["client[0]"] will change)
`
	p = w.plan()
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range p.Changes {
		if c.Step == "daemon" && c.Restart != "reload" {
			t.Errorf("%s: Restart %q", c.Addr, c.Restart)
		}
	}
	res = applyOK(t, w, p)
	for _, h := range []string{"server[0]", "server[1]"} {
		if st := spanStatus(res)[`step.daemon["`+h+`"]`]; st != "reloaded" {
			t.Errorf("daemon on %s: %q, want reloaded", h, st)
		}
	}
}

// TestRestartPendingSurvivesCrash: an apply that dies after conf changed
// but before the restart leaves the restart pending in state; the next
// plan plans it and the next apply does it, once.
func TestRestartPendingSurvivesCrash(t *testing.T) {
	w := newWorld(t, restartRecipe)
	w.kinds = simKinds
	applyOK(t, w, w.plan())
	w.vars = []string{"conf=b"}
	p := w.plan()

	// Apply only conf: the process "dies" before the daemon's turn.
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	stop := make(chan struct{})
	res := p.Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
		Connector: w.cloud.Connector(), Recorder: recorder{w.store}, Parallelism: 1, LogDir: t.TempDir(), Stop: stop,
		OnEvent: func(e engine.Event) {
			if e.Type == engine.EvDone && e.Step == "conf" {
				close(stop)
			}
		}})
	if len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	// Read state from disk as the next process would (journal replayed).
	st, err := w.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	if got := st.Steps[`step.daemon["server[1]"]`].Pending; got != `restart: step.conf["server[1]"]` {
		t.Fatalf("pending after the crash: %q", got)
	}
	if got := st.Steps[`step.daemon["server[0]"]`].Pending; got != "" {
		t.Fatalf("server[0]'s daemon owes %q", got)
	}
	p = w.plan()
	want := `~ step.daemon["server[1]"] (restart because it is still pending (restart: step.conf["server[1]"]): an earlier apply changed what it names and did not finish it (interrupted, failed, or -target left it out))
`
	if got := summary(p); got != want {
		t.Fatalf("plan after the crash:\n%s\nwant:\n%s", got, want)
	}
	res = applyOK(t, w, p)
	if st := spanStatus(res)[`step.daemon["server[1]"]`]; st != "restarted" {
		t.Errorf("daemon on server[1]: %q, want restarted", st)
	}
	if w.st.Steps[`step.daemon["server[1]"]`].Pending != "" {
		t.Error("the restart is still pending after it was done")
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after the restart:\n%s", s)
	}
}

// TestRestartPendingSurvivesFailedService: a service whose run failed
// while it owed a restart (apply keeps the debt in state: a failed
// reload, or a precondition decided at apply, leaves the daemon running
// what it read before) plans the restart with its retry, though nothing
// it names changes now; on a host launched anew the debt is the old
// machine's: its daemon restarts only for what changes there.
func TestRestartPendingSurvivesFailedService(t *testing.T) {
	w := newWorld(t, restartRecipe)
	w.kinds = simKinds
	applyOK(t, w, w.plan())
	const addr = `step.daemon["server[1]"]`
	owe := func() {
		inst := w.st.Steps[addr]
		inst.Status, inst.Error, inst.Pending = state.StatusFailed, "reload failed", `reload: step.global["client[0]"]`
		if err := w.store.Save(w.st); err != nil {
			t.Fatal(err)
		}
	}
	owe()
	p := w.plan()
	want := `+ step.daemon["server[1]"] (did not finish last time; then reload because it is still pending (reload: step.global["client[0]"]): an earlier apply changed what it names and did not finish it (interrupted, failed, or -target left it out))
`
	if got := summary(p); got != want {
		t.Fatalf("plan after the failed reload:\n%s\nwant:\n%s", got, want)
	}
	res := applyOK(t, w, p)
	if st := spanStatus(res)[addr]; st != "reloaded" {
		t.Errorf("daemon on server[1]: %q, want reloaded", st)
	}
	if inst := w.st.Steps[addr]; inst.Pending != "" || inst.Status != state.StatusApplied {
		t.Errorf("after the reload: %+v", inst)
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after the reload:\n%s", s)
	}

	// A failed service owes what changes while it is failed: an apply
	// that dies after the file, before the service's retry, leaves the
	// restart owed.
	inst := w.st.Steps[addr]
	inst.Status, inst.Error, inst.Pending = state.StatusFailed, "start failed", ""
	if err := w.store.Save(w.st); err != nil {
		t.Fatal(err)
	}
	w.vars = []string{"conf=b"}
	p = w.plan()
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	stop := make(chan struct{})
	p.Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
		Connector: w.cloud.Connector(), Recorder: recorder{w.store}, Parallelism: 1, LogDir: t.TempDir(), Stop: stop,
		OnEvent: func(e engine.Event) {
			if e.Type == engine.EvDone && e.Step == "conf" {
				close(stop)
			}
		}})
	st, err := w.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	if got := st.Steps[addr].Pending; got != `restart: step.conf["server[1]"]` {
		t.Fatalf("a failed service's debt after the file changed: %q", got)
	}
	if got := summary(w.plan()); !strings.Contains(got, `(did not finish last time; then restart because it is still pending (restart: step.conf["server[1]"])`) {
		t.Errorf("plan after the crash:\n%s", got)
	}

	owe()
	w.cloud.Remove("test", "server[1]")
	got := summary(w.plan(w.refresh))
	if !strings.Contains(got, `+ step.daemon["server[1]"] (host is replaced; then restart because step.conf["server[1]"] will change)`+"\n") {
		t.Errorf("a new machine's daemon restarts for its new file, not for the old machine's debt:\n%s", got)
	}
}

// TestRestartOnRefused: restart_on on a step that cannot restart (a file
// step) is an error naming the step, as is reload_on on a run step (it
// runs again, it has nothing to reload); a step named both ways too.
func TestRestartOnRefused(t *testing.T) {
	_, diags := load(t, `
recipe "t" {}
hosts "s" {}
step "conf" {
  on  = hosts.s
  run = "true"
}
step "x" {
  on         = hosts.s
  restart_on = [step.conf]
  file {
    path    = "/etc/x"
    content = "x"
  }
}
`)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "only service steps restart") || !strings.Contains(diags.Error(), `Step "x" is a file step`) {
		t.Fatalf("restart_on on a file step: %v", diags)
	}
	_, diags = load(t, `
recipe "t" {}
hosts "s" {}
step "conf" {
  on  = hosts.s
  run = "true"
}
step "x" {
  on        = hosts.s
  reload_on = [step.conf]
  run       = "true"
}
`)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "reload_on on a step that cannot reload") {
		t.Fatalf("reload_on on a run step: %v", diags)
	}
	_, diags = load(t, `
recipe "t" {}
hosts "s" {}
step "conf" {
  on  = hosts.s
  run = "true"
}
step "x" {
  on         = hosts.s
  restart_on = [step.conf]
  reload_on  = [step.conf]
  service { name = "d" }
}
`)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Step both restarts and reloads") {
		t.Fatalf("restart_on and reload_on: %v", diags)
	}
	_, diags = load(t, `
recipe "t" {}
hosts "s" {}
step "x" {
  on         = hosts.s
  restart_on = [step.nope]
  service { name = "d" }
}
`)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "nope") {
		t.Fatalf("restart_on an unknown step: %v", diags)
	}
}

// TestRestartOnDeferredNoOp: a named step whose inputs are known only at
// apply is planned as a possible restart; when it turns out unchanged,
// the service does nothing.
func TestRestartOnDeferredNoOp(t *testing.T) {
	w := newWorld(t, `
recipe "t" {}
variable "v" { default = "a" }
hosts "server" { count = 2 }

step "gen" {
  on  = hosts.server[0]
  run = "make-config ${var.v}"
  capture { line = "cat /tmp/line" }
}

step "conf" {
  on = hosts.server
  file {
    path    = "/etc/d.conf"
    content = step.gen.outputs.line
  }
}

step "daemon" {
  on         = hosts.server
  restart_on = [step.conf]
  service { name = "d" }
}
`)
	w.kinds = simKinds
	applyOK(t, w, w.plan())
	w.vars = []string{"v=b"}
	p := w.plan()
	got := summary(p)
	if !strings.Contains(got, `~ step.daemon["server[1]"] (restart because step.conf["server[1]"] will change)`) ||
		!strings.Contains(got, `~ step.conf["server[1]"] (inputs known after apply)`) {
		t.Fatalf("plan:\n%s", got)
	}
	res := applyOK(t, w, p)
	st := spanStatus(res)
	for _, h := range []string{"server[0]", "server[1]"} {
		if s := st[`step.conf["`+h+`"]`]; s != "unchanged" {
			t.Errorf("conf on %s: %q, want unchanged (the capture is the same)", h, s)
		}
		if s := st[`step.daemon["`+h+`"]`]; s != "no restart needed" {
			t.Errorf("daemon on %s: %q, want no restart needed", h, s)
		}
		if p := w.st.Steps[`step.daemon["`+h+`"]`].Pending; p != "" {
			t.Errorf("daemon on %s owes %q", h, p)
		}
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after apply:\n%s", s)
	}
}

// TestRestartOnRunStep: a run step's restart_on runs its command again
// when a named step changes (its guard skipped: RestartArgs drops it), is
// planned with the cause, and nothing changed runs nothing.
func TestRestartOnRunStep(t *testing.T) {
	w := newWorld(t, `
recipe "t" {}
variable "key" { default = "a" }
hosts "server" { count = 2 }

step "key" {
  on = hosts.server
  file {
    path    = "/etc/k"
    content = host.index == 1 ? var.key : "fixed"
  }
}

step "refresh" {
  on         = hosts.server
  restart_on = [step.key]
  run        = "refresh-lists"
  unless     = "lists-fresh"
}
`)
	w.kinds = simKinds
	applyOK(t, w, w.plan())
	if s := summary(w.plan()); s != "" {
		t.Fatalf("no-op plan:\n%s", s)
	}
	w.vars = []string{"key=b"}
	p := w.plan()
	want := `~ step.key["server[1]"] (inputs changed)
~ step.refresh["server[1]"] (restart because step.key["server[1]"] will change)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	res := applyOK(t, w, p)
	if st := spanStatus(res)[`step.refresh["server[1]"]`]; st != "restarted" {
		t.Errorf("refresh on server[1]: %q, want restarted (run again)", st)
	}
	if _, ok := spanStatus(res)[`step.refresh["server[0]"]`]; ok {
		t.Error("refresh on server[0] ran, its key did not change")
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after the re-run:\n%s", s)
	}
}

// TestRestartOnCycleNamed: a loop closed by restart_on says restart_on is
// one of the entries to remove, not only after.
func TestRestartOnCycleNamed(t *testing.T) {
	_, diags := load(t, `
recipe "t" {}
hosts "s" {}
step "conf" {
  on    = hosts.s
  after = [step.d]
  run   = "true"
}
step "d" {
  on         = hosts.s
  restart_on = [step.conf]
  service { name = "d" }
}
`)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Cycle between steps") || !strings.Contains(diags.Error(), "restart_on") {
		t.Fatalf("cycle through restart_on: %v", diags)
	}
}

// TestTargetLeavesOutRestart: -target of a configuration file plans the
// file alone, and the plan lists the restart it owes (and every other
// change the targets do not need) as left out, so that the view can warn
// that the cluster does not match the recipe yet.
func TestTargetLeavesOutRestart(t *testing.T) {
	w := newWorld(t, restartRecipe)
	w.kinds = simKinds
	applyOK(t, w, w.plan())
	w.vars = []string{"conf=b", "global=h"}
	target := func(o *engine.PlanOptions) { o.Targets = []string{`step.conf["server[1]"]`} }
	p := w.plan(target)
	if got, want := summary(p), "~ step.conf[\"server[1]\"] (inputs changed)\n"; got != want {
		t.Fatalf("targeted plan:\n%s\nwant:\n%s", got, want)
	}
	got := strings.Join(p.LeftOut, " ")
	for _, addr := range []string{`step.daemon["server[1]"]`, `step.global["client[0]"]`, `step.daemon["server[0]"]`} {
		if !strings.Contains(got, addr) {
			t.Errorf("left out %q, want it to hold %s", got, addr)
		}
	}
	if r := p.LeftOutRestart(`step.daemon["server[1]"]`); r != "restart" {
		t.Errorf("the left-out daemon on server[1] is %q, want restart", r)
	}
	if r := p.LeftOutRestart(`step.global["client[0]"]`); r != "" {
		t.Errorf("the left-out global on client[0] is %q, want no restart", r)
	}
	// How each left-out restart is owed: server[1]'s when the targeted
	// file changes; server[0]'s (a reload for global, left out too) not
	// at all: the next apply without -target changes global and reloads.
	if o := p.LeftOutOwed(`step.daemon["server[1]"]`); o != "targets" {
		t.Errorf("the left-out restart on server[1] is owed %q, want targets", o)
	}
	if o := p.LeftOutOwed(`step.daemon["server[0]"]`); o != "" {
		t.Errorf("the left-out reload on server[0] is owed %q, want nothing recorded", o)
	}
	if p := w.plan(); len(p.LeftOut) != 0 {
		t.Errorf("a plan without -target leaves out %v", p.LeftOut)
	}
	applyOK(t, w, p)
	// The restart the file owes is recorded, and the next plan says why.
	w.vars = []string{"conf=b"}
	p = w.plan(func(o *engine.PlanOptions) { o.Targets = []string{`step.conf["server[0]"]`} })
	if p.HasChanges() || strings.Join(p.LeftOut, " ") != `step.daemon["server[1]"]` {
		t.Fatalf("after the targeted apply: changes:\n%s\nleft out %v", summary(p), p.LeftOut)
	}
	// State owes it already: no target change records it (the view said
	// "recorded as owed when the targets change" of a restart owed since
	// the last apply).
	if o := p.LeftOutOwed(`step.daemon["server[1]"]`); o != "pending" {
		t.Errorf("the restart state owes is %q, want pending", o)
	}
	if s := summary(w.plan()); !strings.Contains(s, "-target left it out") {
		t.Errorf("plan after a targeted apply:\n%s", s)
	}
}

// TestModuleCallRestartOn: a module call's restart_on is its service
// steps' (nested calls included): a file of the caller restarts the
// service builtin/systemd-unit keeps, on the host whose file changed,
// with the reason in the plan; reload_on reloads it. No digest of the
// file in the unit's content is needed.
func TestModuleCallRestartOn(t *testing.T) {
	src := `
recipe "t" {}
variable "conf" { default = "a" }
variable "env" { default = "e" }
hosts "chunk" { count = 2 }

step "config" {
  on = hosts.chunk
  file {
    path    = "/etc/tinyfs/chunk.cfg"
    content = host.index == 1 ? var.conf : "fixed"
  }
}

step "env" {
  on = hosts.chunk
  file {
    path    = "/etc/tinyfs/env"
    content = var.env
  }
}

module "unit" {
  source     = "./wrap"
  on         = hosts.chunk
  restart_on = [step.config]
  reload_on  = [step.env]
}
`
	wrap := `
module "inner" {
  source  = "builtin/systemd-unit"
  name    = "tinyfs-chunk"
  content = "[Service]\nExecStart=/usr/bin/true\n"
}
`
	w := newWorld(t, src)
	w.kinds = simKinds
	w.extra = map[string]string{"wrap/main.hcl": wrap}
	applyOK(t, w, w.plan())
	if s := summary(w.plan()); s != "" {
		t.Fatalf("no-op plan:\n%s", s)
	}
	w.vars = []string{"conf=b"}
	p := w.plan()
	want := `~ step.config["chunk[1]"] (inputs changed)
~ module.unit.module.inner.step.service["chunk[1]"] (restart because step.config["chunk[1]"] will change)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	res := applyOK(t, w, p)
	if st := spanStatus(res)[`module.unit.module.inner.step.service["chunk[1]"]`]; st != "restarted" {
		t.Errorf("the module's service on chunk[1]: %q, want restarted", st)
	}
	w.vars = []string{"conf=b", "env=f"}
	p = w.plan()
	for _, h := range []string{"chunk[0]", "chunk[1]"} {
		found := false
		for _, c := range p.Changes {
			if c.Addr == `module.unit.module.inner.step.service["`+h+`"]` && c.Restart == "reload" {
				found = true
			}
		}
		if !found {
			t.Errorf("the module's service on %s does not reload after step.env changed:\n%s", h, summary(p))
		}
	}
}

// TestModuleCallRestartOnNeedsService: restart_on at a call whose module
// has no service step is an error at the call naming the module.
func TestModuleCallRestartOnNeedsService(t *testing.T) {
	fsys := fstest.MapFS{
		"r/main.hcl": {Data: []byte(`
recipe "t" {}
hosts "a" { count = 1 }
step "conf" {
  on  = hosts.a
  run = "true"
}
module "m" {
  source     = "./m"
  on         = hosts.a
  restart_on = [step.conf]
}
`)},
		"r/m/main.hcl": {Data: []byte("step \"s\" { run = \"true\" }\n")},
	}
	_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if !strings.Contains(diags.Error(), "Module call restarts nothing") || !strings.Contains(diags.Error(), "module.m (./m) has none") ||
		!strings.Contains(diags.Error(), "r/main.hcl:11") {
		t.Fatalf("restart_on at a call without a service step: %v", diags)
	}
}
