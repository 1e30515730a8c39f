package workspace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/workspace"
)

const destroyCmdRecipe = `recipe "golden" {}
variable "undo" { default = "exit 3" }
variable "note" { default = "a" }
hosts "h" {}
step "conf" {
  on      = hosts.h
  run     = "echo conf"
  destroy = var.undo
}
step "note" {
  on  = hosts.h
  run = "echo ${var.note}"
}
`

// TestDestroyCommandEditRecorded: a step's destroy command edited while
// the step has nothing else to do is recorded (the plan lists it; nothing
// runs): by an apply with nothing else to do, and by one that changes
// other steps. It was never recorded, so a fixed command never replaced
// the failing one. (-var undo=true makes the untyped variable a bool: the
// engine crashed on it, "not a string"; it is the command "true" now.)
func TestDestroyCommandEditRecorded(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "recipe.hcl")
	if err := os.WriteFile(recipe, []byte(destroyCmdRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSysEnv(t, filepath.Join(dir, ".diffuser"))
	s.env.Sim = workspace.SimOptions{Enabled: true}
	in := func(vars ...string) workspace.Inputs { return workspace.Inputs{Recipe: recipe, Vars: vars} }
	recorded := func() string {
		t.Helper()
		return s.readState(t, "golden").Steps[`step.conf["h[0]"]`].Destroy
	}
	s.mustApply(t, in(), "apply")
	if got := recorded(); got != "exit 3" {
		t.Fatalf("recorded destroy %q", got)
	}

	// Only the destroy command changes: no changes, but it is listed and
	// recorded.
	pl, err := s.planOf(in("undo=true"), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if pl.Plan.HasChanges() || strings.Join(pl.Plan.DestroysChanged(), " ") != `step.conf["h[0]"]` {
		t.Errorf("plan: changes %v, destroys changed %v", pl.Plan.HasChanges(), pl.Plan.DestroysChanged())
	}
	pl.Close()
	s.mustApply(t, in("undo=true"), "apply")
	if got := recorded(); got != "true" {
		t.Errorf("after an apply with nothing else to do, the recorded destroy is %q, want true", got)
	}
	s.noChanges(t, in("undo=true"))

	// With another change in the same apply.
	a := s.mustApply(t, in("undo=echo undone", "note=b"), "apply")
	if o := a.Outcome(); o.Done != 1 {
		t.Errorf("apply ran %d instances, want note's 1", o.Done)
	}
	if got := recorded(); got != "echo undone" {
		t.Errorf("after an apply changing another step, the recorded destroy is %q, want %q", got, "echo undone")
	}
}
