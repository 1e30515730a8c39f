package engine_test

import (
	"strings"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

// everOK is a recipe whose step "mk" makes something its destroy command
// removes; var.v changes its input so that it runs again, and var.keep
// drops it from the recipe while its host stays.
const everOK = `recipe "t" {}
variable "v" { default = "1" }
variable "keep" { default = true }
hosts "a" { count = 1 }
step "mk" {
  on      = var.keep ? hosts.a : []
  run     = "echo make-${var.v}"
  destroy = "echo undo-mk"
}
step "other" {
  on  = hosts.a
  run = "echo other"
}
`

const mkAddr = `step.mk["a[0]"]`

// TestUndoOfAnInstanceThatOnceSucceeded: mk succeeds, then a changed input
// makes it fail. State keeps that it succeeded on its host; when mk leaves
// the recipe (its host stays) a failing undo is a failure, not a warning,
// and mk stays in state until an undo succeeds.
func TestUndoOfAnInstanceThatOnceSucceeded(t *testing.T) {
	w := newWorld(t, everOK)
	undoFails := true
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "make-2"):
			return 0, 3, "cannot\n"
		case strings.Contains(cmd, "undo-mk") && undoFails:
			return 0, 4, "busy\n"
		}
		return 0, 0, ""
	}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	id := w.st.Hosts["a[0]"].ProviderID
	if got := w.st.Steps[mkAddr]; got.SucceededOn != id {
		t.Fatalf("applied mk: succeeded_on %q, want %q", got.SucceededOn, id)
	}
	w.vars = []string{"v=2"}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 1 {
		t.Fatalf("second apply: failures %v, want mk", res.Failures)
	}
	got := w.st.Steps[mkAddr]
	if got.Status != state.StatusFailed || got.SucceededOn != id {
		t.Fatalf("failed mk: status %q succeeded_on %q, want failed on %q", got.Status, got.SucceededOn, id)
	}
	// The record survives the journal: load the store again.
	if back, err := w.store.Load(); err != nil || back.Steps[mkAddr].SucceededOn != id {
		t.Fatalf("reloaded state: %v, %+v", err, back.Steps[mkAddr])
	}

	w.vars = []string{"v=2", "keep=false"}
	res := w.apply(w.plan(), 4)
	if len(res.Failures) != 1 || res.Failures[0].Addr != mkAddr || len(res.Warnings) != 0 {
		t.Fatalf("removal with a failing undo: failures %v warnings %q; want one failure of %s", res.Failures, res.Warnings, mkAddr)
	}
	if w.st.Steps[mkAddr] == nil {
		t.Fatal("mk left state although its undo failed: the next destroy would never undo it")
	}
	undoFails = false
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("removal again: %v", res.Failures)
	}
	if w.st.Steps[mkAddr] != nil {
		t.Fatal("mk still in state after its undo succeeded")
	}
	if n := w.cloud.CountMatching("undo-mk"); n != 2 {
		t.Fatalf("undo-mk ran %d times, want 2", n)
	}
}

// TestUndoOfAnInstanceThatNeverSucceeded: without a success on its host
// (never, on a replaced host, or a failed record of an older file) the
// undo still runs, and its failure is a warning.
func TestUndoOfAnInstanceThatNeverSucceeded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w *world)
	}{
		{"never succeeded", func(w *world) {
			w.vars = []string{"v=2"}
			w.apply(w.plan(), 4)
		}},
		{"old failed record", func(w *world) {
			w.apply(w.plan(), 4)
			w.vars = []string{"v=2"}
			w.apply(w.plan(), 4)
			w.st.Steps[mkAddr].SucceededOn = "" // as an older version wrote it
		}},
		{"succeeded on a replaced host", func(w *world) {
			w.apply(w.plan(), 4)
			w.vars = []string{"v=2"}
			w.apply(w.plan(func(o *engine.PlanOptions) { o.Replace = []string{"a[0]"} }), 4)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, everOK)
			w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
				if strings.Contains(cmd, "make-2") || strings.Contains(cmd, "undo-mk") {
					return 0, 3, "no\n"
				}
				return 0, 0, ""
			}
			tc.setup(w)
			inst := w.st.Steps[mkAddr]
			if inst == nil || inst.Status != state.StatusFailed {
				t.Fatalf("setup: mk is %+v, want failed", inst)
			}
			if ok, _ := inst.EverSucceeded(w.st.Hosts["a[0]"].ProviderID); ok {
				t.Fatalf("setup: mk counts as succeeded on its host (succeeded_on %q)", inst.SucceededOn)
			}
			w.vars = []string{"v=2", "keep=false"}
			res := w.apply(w.plan(), 4)
			if len(res.Failures) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], mkAddr) {
				t.Fatalf("removal: failures %v warnings %q; want one warning about mk", res.Failures, res.Warnings)
			}
			if w.cloud.CountMatching("undo-mk") != 1 {
				t.Fatalf("undo-mk ran %d times, want 1", w.cloud.CountMatching("undo-mk"))
			}
			if w.st.Steps[mkAddr] != nil {
				t.Fatal("mk still in state")
			}
		})
	}
}

// TestDestroyUndoesOnceSucceededInstance: destroy of the whole cluster
// runs the undo of a failed instance that once succeeded (its host goes
// with it, so a failing undo would be a warning: here it succeeds).
func TestDestroyUndoesOnceSucceededInstance(t *testing.T) {
	w := newWorld(t, everOK)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "make-2") {
			return 0, 3, "no\n"
		}
		return 0, 0, ""
	}
	w.apply(w.plan(), 4)
	w.vars = []string{"v=2"}
	w.apply(w.plan(), 4)
	res := w.apply(w.plan(func(o *engine.PlanOptions) { o.Destroy = true }), 4)
	if len(res.Failures) != 0 || len(res.Warnings) != 0 {
		t.Fatalf("destroy: failures %v warnings %q", res.Failures, res.Warnings)
	}
	if w.cloud.CountMatching("undo-mk") != 1 || len(w.st.Steps) != 0 || len(w.st.Hosts) != 0 {
		t.Fatalf("undo-mk ran %d times; left %d steps, %d hosts", w.cloud.CountMatching("undo-mk"), len(w.st.Steps), len(w.st.Hosts))
	}
}
