package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/workspace"

	"github.com/hashicorp/hcl/v2"
)

// TestOtherRecipeSourceWarns: a workspace applied with one recipe
// directory, planned with another whose recipe block has the same label
// (a copy being changed, the built-in after a local copy), says so before
// the changes: they make the cluster the other recipe's. The same
// directory, named another way (relative, absolute), says nothing, nor
// does a destroy.
func TestOtherRecipeSourceWarns(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		src := "recipe \"lab\" {}\nhosts \"h\" {}\nstep \"s\" {\n  on  = hosts.h\n  run = \"echo " + d + "\"\n}\n"
		if err := os.WriteFile(filepath.Join(dir, d, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := &workspace.Env{DataDir: filepath.Join(dir, "data"), Sim: workspace.SimOptions{Enabled: true}}
	ctx := context.Background()
	plan := func(recipe string, destroy bool) hcl.Diagnostics {
		t.Helper()
		pl, err := env.Plan(ctx, workspace.PlanRequest{Inputs: workspace.Inputs{Recipe: recipe}, Command: "plan", Destroy: destroy})
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		var warned hcl.Diagnostics
		for _, d := range pl.WS.Warnings {
			if d.Summary == "Another recipe than the last apply's" {
				warned = append(warned, d)
			}
		}
		return warned
	}
	pl, err := env.Plan(ctx, workspace.PlanRequest{Inputs: workspace.Inputs{Recipe: "./a"}, Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := pl.Apply(ctx, workspace.ApplyOptions{}); err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	pl.Close()

	if w := plan("./a", false); len(w) != 0 {
		t.Errorf("the same directory warns: %v", w)
	}
	if w := plan(filepath.Join(dir, "a"), false); len(w) != 0 {
		t.Errorf("the same directory by its absolute path warns: %v", w)
	}
	w := plan("./b", false)
	if len(w) != 1 || !strings.Contains(w[0].Detail, "last applied with the recipe in "+filepath.Join(dir, "a")) ||
		!strings.Contains(w[0].Detail, "this reads the recipe in "+filepath.Join(dir, "b")) {
		t.Errorf("another directory with the same label: %v", w)
	}
	if w := plan("./b", true); len(w) != 0 {
		t.Errorf("a destroy warns: %v", w)
	}
}
