package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/workspace"
)

// TestSavedPlan: PlanSaved + Apply carries out exactly the saved plan, and
// a plan made stale by a later apply or a recipe change is refused, with
// state untouched.
func TestSavedPlan(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := os.ReadFile(planRecipe)
	if err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(dir, "recipe.hcl")
	if err := os.WriteFile(recipe, src, 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSysEnv(t, filepath.Join(dir, ".diffuser"))
	s.env.Sim = workspace.SimOptions{Enabled: true}
	in := func(vars ...string) workspace.Inputs { return workspace.Inputs{Recipe: recipe, Vars: vars} }
	save := func(path string, vars ...string) {
		t.Helper()
		pl, err := s.planOf(in(vars...), "plan")
		if err != nil {
			t.Fatalf("plan -out %s: %v", path, err)
		}
		defer pl.Close()
		if err := pl.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	applySaved := func(path string) (applied, error) {
		t.Helper()
		if !workspace.IsPlanFile(path) {
			t.Fatalf("%s is not taken for a plan file", path)
		}
		sp, err := s.env.ReadPlanFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := s.env.PlanSaved(ctx, sp)
		if err != nil {
			return applied{}, err
		}
		defer pl.Close()
		res, err := pl.Apply(ctx, workspace.ApplyOptions{PlanFile: path})
		return applied{Plan: pl.Plan, Res: res, Run: pl.Run, State: pl.WS.State}, err
	}

	p1 := filepath.Join(dir, "p1.json")
	save(p1)
	a, err := applySaved(p1)
	if err != nil {
		t.Fatalf("apply saved plan: %v", err)
	}
	if o := a.Outcome(); o.Failed != 0 || o.Done == 0 || o.Done != o.Total {
		t.Fatalf("apply saved plan: %+v", o)
	}
	if a.Run.PlanFile != p1 || a.Run.Status != workspace.RunSucceeded {
		t.Errorf("the run does not record the plan file it applied: %+v", a.Run)
	}
	s.noChanges(t, in())

	// Applying a plan with nothing to do (the CLI's SaveUnchanged) leaves
	// state and its serial alone, so another plan saved before it is not
	// made stale by it.
	p4, p5 := filepath.Join(dir, "p4.json"), filepath.Join(dir, "p5.json")
	save(p4)
	save(p5)
	serial := s.readState(t, "golden").Serial
	for _, p := range []string{p4, p5} {
		sp, err := s.env.ReadPlanFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := s.env.PlanSaved(ctx, sp)
		if err != nil {
			t.Fatalf("%s, saved before a no-op apply of another plan: %v", filepath.Base(p), err)
		}
		if pl.Plan.HasChanges() {
			t.Fatalf("%s has changes", p)
		}
		if err := pl.SaveUnchanged(); err != nil {
			t.Fatal(err)
		}
		pl.Close()
		if got := s.readState(t, "golden").Serial; got != serial {
			t.Errorf("a no-op apply of %s moved the serial from %d to %d", filepath.Base(p), serial, got)
		}
	}

	// A plan made before another apply is stale.
	p2 := filepath.Join(dir, "p2.json")
	save(p2, "greeting=bye")
	s.mustApply(t, in("greeting=hi"), "apply")
	before := s.readState(t, "golden").Serial
	_, err = applySaved(p2)
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "state changed") {
		t.Fatalf("stale plan applied, or refused without saying why: %v", err)
	}
	// It names the run that moved the serial, as `diffuser runs` lists it.
	runs, rerr := s.env.Runs("golden")
	if rerr != nil || len(runs) == 0 {
		t.Fatalf("runs: %v %d", rerr, len(runs))
	}
	if want := "apply run " + runs[0].ID + " (started "; !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "diffuser show "+runs[0].ID) {
		t.Errorf("the stale plan's error does not name the run that changed state (%s): %v", runs[0].ID, err)
	}
	if got := s.readState(t, "golden").Serial; got != before {
		t.Errorf("the refused plan changed state: serial %d, was %d", got, before)
	}

	// A plan made before the recipe changed is stale.
	p3 := filepath.Join(dir, "p3.json")
	save(p3, "greeting=hi")
	if err := os.WriteFile(recipe, append(src, []byte("\n# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := applySaved(p3); err == nil || !strings.Contains(err.Error(), "recipe changed") {
		t.Fatalf("plan for an edited recipe applied: %v", err)
	}
	if got := s.readState(t, "golden").Serial; got != before {
		t.Errorf("the refused plan changed state: serial %d, was %d", got, before)
	}
}

// planRecipe is the CLI's plan-golden recipe (a file step, a run step and
// a group of simulated hosts), shared rather than copied.
var planRecipe = filepath.Join("..", "cmd", "diffuser", "testdata", "plan", "recipe.hcl")
