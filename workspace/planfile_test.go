package workspace_test

import (
	"context"
	"encoding/json"
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
		s.savePlan(t, in(vars...), path)
	}
	applySaved := func(path string) (applied, error) {
		t.Helper()
		return s.applySaved(t, path)
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

// TestSavedPlanNoLongerMatches: a saved plan that its inputs no longer
// make is refused before anything runs, saying what differs and what
// changed: its -var edited by hand (new hosts: the saved plan's actions
// were run for a recipe evaluated with the edited value, and apply failed
// halfway), an action deleted from it (the change was made a no-op and
// left out), a site file variable changed, a file the recipe reads
// changed (the same action with other arguments), a -var-file changed
// (not "the recipe"), and for a plan file that kept no file digests, the
// recipe or its -var-files together.
func TestSavedPlanNoLongerMatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := os.ReadFile(planRecipe)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	motd := write("motd.txt", "one\n")
	recipe := write("recipe.hcl", string(src)+`
step "motd" {
  on = hosts.head
  file {
    path    = "/etc/motd"
    content = file("motd.txt")
  }
}
`)
	s := newSysEnv(t, filepath.Join(dir, ".diffuser"))
	s.env.Sim = workspace.SimOptions{Enabled: true}
	save := func(name string, in workspace.Inputs) string {
		t.Helper()
		path := filepath.Join(dir, name)
		in.Recipe = recipe
		s.savePlan(t, in, path)
		return path
	}
	edit := func(path, old, new string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q (%v)", path, old, err)
		}
		write(filepath.Base(path), strings.Replace(string(b), old, new, 1))
	}
	// editJSON rewrites a plan file's JSON object with f.
	editJSON := func(path string, f func(m map[string]json.RawMessage)) {
		t.Helper()
		var m map[string]json.RawMessage
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatal(err)
		}
		f(m)
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		write(filepath.Base(path), string(b))
	}
	serial := func() uint64 {
		st, err := s.env.ReadState("golden")
		if err != nil {
			return 0 // nothing applied yet
		}
		return st.Serial
	}
	refused := func(path string, want ...string) {
		t.Helper()
		before := serial()
		sp, err := s.env.ReadPlanFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := s.env.PlanSaved(ctx, sp)
		if err == nil {
			pl.Close()
			t.Fatalf("%s applied", filepath.Base(path))
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the refusal lacks %q:\n%v", filepath.Base(path), w, err)
			}
		}
		if strings.Contains(err.Error(), "recipe changed") {
			t.Errorf("%s: the refusal blames the recipe:\n%v", filepath.Base(path), err)
		}
		if got := serial(); got != before {
			t.Errorf("%s: the refused plan changed state: serial %d, was %d", filepath.Base(path), got, before)
		}
	}

	edited := save("edited.plan", workspace.Inputs{Vars: []string{"workers=2"}})
	edit(edited, `"workers=2"`, `"workers=3"`)
	refused(edited, "the saved plan is stale: var.workers is not what it was made with (the plan file was edited); run plan again")
	if st, err := s.env.ReadState("golden"); err == nil && (len(st.Hosts) > 0 || len(st.Steps) > 0) {
		t.Errorf("the refused plan launched %d hosts, ran %d steps", len(st.Hosts), len(st.Steps))
	}

	left := save("left.plan", workspace.Inputs{})
	editJSON(left, func(m map[string]json.RawMessage) {
		var actions map[string]string
		if err := json.Unmarshal(m["actions"], &actions); err != nil || actions[`step.motd["head[0]"]`] != "create" {
			t.Fatalf("actions %v (%v)", actions, err)
		}
		delete(actions, `step.motd["head[0]"]`)
		m["actions"], _ = json.Marshal(actions)
	})
	refused(left, "the saved plan no longer matches what apply would do now (the recipe, its variables and state are as they were: "+
		"a file the recipe reads (file, templatefile) changed, or the plan file was edited, or another diffuser version made it); run plan again:\n"+
		`  step.motd["head[0]"]: not in the saved plan, now create`)

	s.mustApply(t, workspace.Inputs{Recipe: recipe}, "apply")

	site := write("site.hcl", "variables {\n  greeting = \"bye\"\n}\n")
	other := save("site.plan", workspace.Inputs{Site: site})
	edit(site, "bye", "ciao")
	refused(other, "the saved plan is stale: var.greeting is not what it was made with (the site file "+site+" changed since it was made)")

	edit(motd, "one", "two")
	reads := save("reads.plan", workspace.Inputs{})
	edit(motd, "two", "three")
	refused(reads, "(the recipe, its variables and state are as they were: a file the recipe reads (file, templatefile) changed,",
		`  step.motd["head[0]"]: update with other arguments than the saved plan's`)
	edit(motd, "three", "one")

	vars := write("more.tfvars", "workers = 2\n")
	byFile := save("varfile.plan", workspace.Inputs{VarFiles: []string{vars}})
	edit(vars, "2", "3")
	refused(byFile, "the saved plan is stale: since it was made, -var-file "+vars+" changed; run plan again")

	// A plan file from before it kept digests of its files, variables and
	// arguments.
	editJSON(byFile, func(m map[string]json.RawMessage) {
		if m["files"] == nil || m["var_digests"] == nil {
			t.Fatalf("%s keeps no digests of its files or variables: %s", byFile, m)
		}
		delete(m, "files")
		delete(m, "var_digests")
		delete(m, "digests")
	})
	refused(byFile, "since it was made, the recipe or a -var-file it was made with ("+vars+") changed")
	edit(vars, "3", "2")
	sp, err := s.env.ReadPlanFile(byFile)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.env.PlanSaved(ctx, sp)
	if err != nil {
		t.Fatalf("a plan file without digests, its inputs as they were: %v", err)
	}
	pl.Close()
}
