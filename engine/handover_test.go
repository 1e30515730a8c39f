package engine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"diffuser/engine"
)

// handOverBefore has a systemd unit (builtin/systemd-unit), a file step
// and a service step of its own, each with an undo that would remove or
// stop what it made, and a file step that really leaves.
const handOverBefore = `recipe "t" {}
hosts "h" { count = 2 }
module "svc" {
  source  = "builtin/systemd-unit"
  on      = hosts.h
  name    = "echod"
  content = "[Service]\nExecStart=/bin/sleep infinity\n"
}
step "conf" {
  on = hosts.h
  file {
    path    = "/etc/app/app.conf"
    content = "a\n"
  }
  destroy = "rm -f /etc/app/app.conf"
}
step "app" {
  on      = hosts.h
  after   = [step.conf]
  service {
    name  = "app"
    state = "started"
  }
  destroy = "systemctl disable --now app"
}
step "gone" {
  on = hosts.h
  file {
    path    = "/etc/old.conf"
    content = "x\n"
  }
  destroy = "rm -f /etc/old.conf"
}
`

// handOverAfter renames the call, the file step and the service step
// without moved blocks (the file's path written another way, the unit
// with its suffix), and drops step.gone.
const handOverAfter = `recipe "t" {}
hosts "h" { count = 2 }
module "svc2" {
  source  = "builtin/systemd-unit"
  on      = hosts.h
  name    = "echod"
  content = "[Service]\nExecStart=/bin/sleep infinity\n"
}
step "config" {
  on = hosts.h
  file {
    path    = "/etc/app//app.conf"
    content = "b\n"
  }
  destroy = "rm -f /etc/app/app.conf"
}
step "daemon" {
  on      = hosts.h
  after   = [step.config]
  service {
    name  = "app.service"
    state = "started"
  }
  destroy = "systemctl disable --now app.service"
}
`

// TestRenamedStepsHandOver: steps renamed without a moved block (a module
// call, a file step, a service step) are destroyed under their old names
// after the new ones ran, in the destroy phase. Their undo, run then,
// would undo the new instances' work: the systemd unit just started
// stopped and its file removed (apply reported success; the next plan
// found drift). The old instances are forgotten without their undo,
// which plan and apply say, naming the instance that took over; a step
// that really leaves is undone as before, and the plan after is empty.
func TestRenamedStepsHandOver(t *testing.T) {
	w := newWorld(t, handOverBefore)
	w.kinds, w.extra = simKinds, map[string]string{} // the sim's hosts answer commands, not file checks
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}

	w.src = handOverAfter
	p := w.plan()
	want := map[string]string{
		`module.svc.step.unit["h[0]"]`:    `module.svc2.step.unit["h[0]"]`,
		`module.svc.step.service["h[1]"]`: "", // nothing to undo: no destroy command
		`step.conf["h[0]"]`:               `step.config["h[0]"]`,
		`step.app["h[1]"]`:                `step.daemon["h[1]"]`,
		`step.gone["h[0]"]`:               "",
	}
	got := map[string]*engine.Change{}
	for _, c := range p.Destroys {
		got[c.Addr] = c
	}
	for addr, to := range want {
		c := got[addr]
		switch {
		case c == nil:
			t.Errorf("%s is not destroyed", addr)
		case c.HandedTo != to:
			t.Errorf("%s: handed to %q, want %q", addr, c.HandedTo, to)
		case to != "" && !strings.Contains(c.HandedOver, "not undone: "+to+" has the same "):
			t.Errorf("%s: the plan says %q", addr, c.HandedOver)
		}
	}
	if c := got[`step.app["h[0]"]`]; c != nil && !strings.Contains(c.HandedOver, "same service app.service") {
		t.Errorf("the service's note does not name the unit: %q", c.HandedOver)
	}
	if c := got[`step.conf["h[0]"]`]; c != nil && !strings.Contains(c.HandedOver, "same path /etc/app/app.conf") {
		t.Errorf("the file's note does not name its path: %q", c.HandedOver)
	}
	// The plan hints at the moved blocks: the call and both steps (same
	// kind, same hosts), step.gone matching nothing new.
	if r := p.LikelyRenames(); !slices.Equal(r, []engine.Rename{{From: "module.svc", To: "module.svc2"}, {From: "step.app", To: "step.daemon"}, {From: "step.conf", To: "step.config"}}) {
		t.Errorf("the rename hints are %+v", r)
	}

	before := len(w.cloud.Commands("h[0]"))
	res := w.apply(p, 4)
	if len(res.Failures) != 0 {
		t.Fatalf("apply of the renames: %v", res.Failures)
	}
	var ran []string
	for _, cmd := range w.cloud.Commands("h[0]")[before:] {
		if strings.Contains(cmd, "disable --now") || strings.HasPrefix(cmd, "rm -f") {
			ran = append(ran, cmd)
		}
	}
	if !slices.Equal(ran, []string{"rm -f /etc/old.conf"}) {
		t.Errorf("undo commands run on h[0]: %q, want only step.gone's", ran)
	}
	if n := countWarnings(res, "not undone: "); n != 6 {
		t.Errorf("%d warnings say an instance was not undone, want 6 (3 steps on 2 hosts): %q", n, res.Warnings)
	}
	for addr := range want {
		if w.st.Steps[addr] != nil {
			t.Errorf("%s is still in state", addr)
		}
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("plan after the renames has changes:\n%s", summary(p))
	}

	// The plan's JSON carries the same, for the destroys only.
	w.src = handOverBefore
	p = w.plan()
	b, err := json.Marshal(p.Destroys)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `step.config[\"h[0]\"]`) {
		t.Errorf("renaming back: step.config is not handed to step.conf: %s", b)
	}
}

// TestDestroyAllUndoesEverything: `diffuser destroy` hands nothing over,
// even where two recorded instances name one file.
func TestDestroyAllUndoesEverything(t *testing.T) {
	w := newWorld(t, handOverBefore)
	w.kinds, w.extra = simKinds, map[string]string{}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	before := len(w.cloud.Commands("h[0]"))
	p := w.plan(func(o *engine.PlanOptions) { o.Destroy = true })
	for _, c := range p.Destroys {
		if c.HandedTo != "" {
			t.Errorf("destroy hands %s to %s", c.Addr, c.HandedTo)
		}
	}
	if res := w.apply(p, 4); len(res.Failures) != 0 {
		t.Fatalf("destroy: %v", res.Failures)
	}
	n := 0
	for _, cmd := range w.cloud.Commands("h[0]")[before:] {
		if strings.Contains(cmd, "disable --now") || strings.HasPrefix(cmd, "rm -f") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("destroy ran %d undo commands on h[0], want 4", n)
	}
}

// TestRenamedRunStepHinted: a run step renamed without a moved block is
// not handed over (what its destroy undoes cannot be told), so its old
// destroy runs after the renamed step, whose creates guard skipped it:
// the plan says the step looks renamed and prints the moved block. A
// step of another kind on the same hosts is not taken for it.
func TestRenamedRunStepHinted(t *testing.T) {
	const before = `recipe "t" {}
hosts "h" {}
step "hello" {
  on      = hosts.h
  run     = "echo hi > /etc/hello.marker"
  creates = "/etc/hello.marker"
  destroy = "rm -f /etc/hello.marker"
}
`
	w := newWorld(t, before)
	w.kinds, w.extra = simKinds, map[string]string{}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	w.src = strings.Replace(before, `step "hello"`, `step "hello2"`, 1) + `step "note" {
  on = hosts.h
  file {
    path    = "/etc/note"
    content = "x"
  }
}
`
	if r := w.plan().LikelyRenames(); !slices.Equal(r, []engine.Rename{{From: "step.hello", To: "step.hello2"}}) {
		t.Errorf("the rename hints are %+v, want step.hello -> step.hello2", r)
	}
}
