package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"diffuser/workspace"
)

// The built-in recipes were rewritten on modules (issue 16). A cluster
// applied with the recipe as it was before (testdata/prerewrite/NAME, from
// commit bb676a7) must plan as no-op with the rewritten recipe, apart from
// the instances docs/recipes/NAME.md lists as re-running. Each case
// applies the old recipe on the simulator, plans the new one and compares
// the changes with the documented ones; then applies the new one and
// checks that a second plan is empty (the moves were persisted).
func TestPrerewriteStatePlansAsDocumented(t *testing.T) {
	cases := []struct {
		recipe string
		vars   []string
		want   []string // the plan's changes, sorted, as simWorld.plan writes them
	}{
		// docs/recipes/glusterfs.md: brick_at_boot (remounting the brick
		// after a restart) is new, so each server gets its unit and service.
		{recipe: "glusterfs", want: []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
		}},
		{recipe: "glusterfs", vars: []string{"servers=4", "clients=2"}, want: []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.service["server[2]"] (then restart because module.brick_at_boot.step.unit["server[2]"] will change)`,
			`+ module.brick_at_boot.step.service["server[3]"] (then restart because module.brick_at_boot.step.unit["server[3]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
			`+ module.brick_at_boot.step.unit["server[2]"]`,
			`+ module.brick_at_boot.step.unit["server[3]"]`,
		}},
		{recipe: "glusterfs", vars: []string{"servers=3", "replica=1", "disperse=3"}, want: []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.service["server[2]"] (then restart because module.brick_at_boot.step.unit["server[2]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
			`+ module.brick_at_boot.step.unit["server[2]"]`,
		}},
		// docs/recipes/nfs.md: the run steps that restarted the daemons
		// became service steps (moved blocks); each updates once.
		{recipe: "nfs", want: []string{`~ step.kernel_statd["server[0]"] (inputs changed)`}},
		{recipe: "nfs", vars: []string{"server=ganesha", "mount=libnfs", "clients=3"}, want: []string{
			`~ step.ganesha_lock["server[0]"] (inputs changed)`,
			`~ step.gvfs_service["client[0]"] (inputs changed)`,
			`~ step.gvfs_service["client[1]"] (inputs changed)`,
			`~ step.gvfs_service["client[2]"] (inputs changed)`,
		}},
		{recipe: "nfs", vars: []string{"clients=0"}, want: []string{`~ step.kernel_statd["server[0]"] (inputs changed)`}},
		{recipe: "orangefs"},
		{recipe: "orangefs", vars: []string{"client_mount=fuse", "servers=3", "clients=3"}},
	}
	for _, c := range cases {
		name := c.recipe
		if len(c.vars) > 0 {
			name += "/" + strings.Join(c.vars, ",")
		}
		t.Run(name, func(t *testing.T) {
			w := newSimWorld(t)
			w.env = &workspace.Env{DataDir: w.env.DataDir, Sim: workspace.SimOptions{Enabled: true}} // simulated kinds
			old := filepath.Join("testdata", "prerewrite", c.recipe, "main.hcl")
			src, err := os.ReadFile(old)
			if err != nil {
				t.Fatal(err)
			}
			pre := w.recipe(c.recipe+"-prerewrite", string(src))
			cur, err := filepath.Abs(filepath.Join("..", "recipes", c.recipe, "main.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			ws := "old"
			if res := planWithVars(t, w, pre, ws, c.vars, true); res != nil {
				t.Fatalf("applying the pre-rewrite recipe: %v", res)
			}
			if got := planLines(t, w, pre, ws, c.vars); len(got) != 0 {
				t.Fatalf("the pre-rewrite recipe does not settle on the simulator: %v", got)
			}
			got := planLines(t, w, cur, ws, c.vars)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("planning the rewritten recipe over pre-rewrite state:\n got %d changes:\n  %s\nwant %d:\n  %s",
					len(got), strings.Join(got, "\n  "), len(c.want), strings.Join(c.want, "\n  "))
			}
			if res := planWithVars(t, w, cur, ws, c.vars, true); res != nil {
				t.Fatalf("applying the rewritten recipe: %v", res)
			}
			if got := planLines(t, w, cur, ws, c.vars); len(got) != 0 {
				t.Errorf("plan after applying the rewritten recipe: %v", got)
			}
		})
	}
}

// planLines plans recipe in ws with vars and returns its changes as
// simWorld.plan does (moves are not changes: they run nothing).
func planLines(t *testing.T, w *simWorld, recipe, ws string, vars []string) []string {
	t.Helper()
	in := w.inputs(recipe, ws)
	in.Vars = vars
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: in, Command: "plan", Refresh: true})
	if err != nil {
		t.Fatalf("plan %s: %v", recipe, err)
	}
	defer pl.Close()
	var out []string
	for _, c := range append(pl.Plan.Changes, pl.Plan.Destroys...) {
		line := c.Action.Symbol() + " " + c.Addr
		if c.Reason != "" {
			line += " (" + c.Reason + ")"
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// planWithVars applies recipe in ws with vars; it returns the failures.
func planWithVars(t *testing.T, w *simWorld, recipe, ws string, vars []string, apply bool) any {
	t.Helper()
	in := w.inputs(recipe, ws)
	in.Vars = vars
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: in, Command: "apply", Lock: true, Refresh: true})
	if err != nil {
		t.Fatalf("plan for apply of %s: %v", recipe, err)
	}
	defer pl.Close()
	res, err := pl.Apply(context.Background(), workspace.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply %s: %v", recipe, err)
	}
	if len(res.Failures) > 0 {
		return res.Failures
	}
	return nil
}
