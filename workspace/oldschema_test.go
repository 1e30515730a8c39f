package workspace_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/state"
	"diffuser/workspace"
)

// TestOlderSchemaWarns: a workspace whose state.json an older diffuser
// wrote (schema version 1) is planned as usual, with a warning that the
// next save writes this diffuser's version, which the older ones refuse:
// an operator going back to one learns it before, not from its refusal.
// Once saved, plans no longer warn. A new workspace never warns.
func TestOlderSchemaWarns(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(text string) {
		t.Helper()
		src := "recipe \"lab\" {}\nhosts \"h\" {}\nstep \"s\" {\n  on  = hosts.h\n  run = \"echo " + text + "\"\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := &workspace.Env{DataDir: filepath.Join(dir, "data"), Sim: workspace.SimOptions{Enabled: true}}
	ctx := context.Background()
	run := func(command string) []string {
		t.Helper()
		pl, err := env.Plan(ctx, workspace.PlanRequest{Inputs: workspace.Inputs{Recipe: "./lab.hcl"}, Command: command, Lock: command == "apply"})
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		var warned []string
		for _, d := range pl.WS.Warnings {
			if d.Summary == "State written by an older diffuser" {
				warned = append(warned, d.Detail)
			}
		}
		if command == "apply" {
			if res, err := pl.Apply(ctx, workspace.ApplyOptions{}); err != nil || len(res.Failures) > 0 {
				t.Fatalf("apply: %v %+v", err, res)
			}
		}
		return warned
	}
	write("one")
	if w := run("apply"); len(w) != 0 {
		t.Errorf("a new workspace warns: %v", w)
	}
	// Make the state an older diffuser's: version 1.
	path := filepath.Join(dir, "data", "lab", state.StateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["version"] = json.RawMessage("1")
	if data, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	w := run("plan")
	if len(w) != 1 || !strings.Contains(w[0], "schema version 1") || !strings.Contains(w[0], "version 2") ||
		!strings.Contains(w[0], "written by a newer diffuser") {
		t.Fatalf("planning a version-1 state: %v", w)
	}
	write("two") // a change, so that apply saves
	if w := run("apply"); len(w) != 1 {
		t.Errorf("applying over a version-1 state: %v", w)
	}
	if w := run("plan"); len(w) != 0 {
		t.Errorf("the state saved by this diffuser still warns: %v", w)
	}
}
