package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/workspace"
)

// TestBuiltinRecipeShadowedByDirectory: a directory in the working
// directory named like a built-in recipe (a clone of GlusterFS's sources
// in glusterfs/) is what `plan glusterfs` reads, as any path is; the
// error it gives says the built-in exists and how to name it
// (builtin/glusterfs), and builtin/glusterfs reads the built-in whatever
// is here. A saved plan of the built-in, and a destroy --expired of a
// workspace its last apply made with it, read the built-in too: they read
// the directory, and the plan was refused as stale (its recipe changed).
func TestBuiltinRecipeShadowedByDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := &workspace.Env{DataDir: filepath.Join(dir, "data"), Sim: workspace.SimOptions{Enabled: true}}
	ctx := context.Background()
	pl, err := env.Plan(ctx, workspace.PlanRequest{Inputs: workspace.Inputs{Recipe: "glusterfs"}, Command: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "p.plan")
	if err := pl.Save(saved); err != nil {
		t.Fatal(err)
	}
	pl.Close()

	if err := os.MkdirAll(filepath.Join(dir, "glusterfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "glusterfs", "README"), []byte("GlusterFS sources\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = env.Load(workspace.Inputs{Recipe: "glusterfs"})
	if err == nil || !strings.Contains(err.Error(), "no .hcl files in glusterfs") || !strings.Contains(err.Error(), "builtin/glusterfs") {
		t.Errorf("plan glusterfs with a glusterfs directory here: %v; want it to name builtin/glusterfs", err)
	}
	ws, err := env.Load(workspace.Inputs{Recipe: "builtin/glusterfs"})
	if err != nil || !ws.Source.Builtin || ws.Name != "glusterfs" {
		t.Fatalf("builtin/glusterfs: %+v, %v", ws, err)
	}
	sp, err := env.ReadPlanFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	pl, err = env.PlanSaved(ctx, sp)
	if err != nil {
		t.Fatalf("the saved plan of the built-in, a glusterfs directory here: %v", err)
	}
	ttl := time.Hour
	pl.Request.TTL = &ttl
	if res, err := pl.Apply(ctx, workspace.ApplyOptions{}); err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	pl.Close()
	// destroy --expired names the recipe as the workspace recorded it.
	env.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	due, _, err := env.Expired("glusterfs")
	if err != nil || len(due) != 1 || due[0].RecipeArg != "builtin/glusterfs" {
		t.Errorf("expired: %+v, %v; want the built-in named builtin/glusterfs", due, err)
	}
}
