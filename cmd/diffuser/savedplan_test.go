package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSavedPlanEditedCLI: a saved plan whose variables were edited by
// hand (servers=4 made servers=6) is refused before anything runs, naming
// the variable and the plan file, blaming neither the recipe nor state;
// nothing runs or is remembered, and the unedited plan applies. The saved
// plan's actions were run for 4 servers against the recipe evaluated
// with 6, and apply failed at pool_prune blaming the recipe, with
// servers = 6 remembered.
func TestSavedPlanEditedCLI(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	saved, edited := filepath.Join(e.dir, "p.plan"), filepath.Join(e.dir, "p2.plan")
	e.must("plan", "glusterfs", "--simulate", "-var", "servers=4", "-out", saved)
	b, err := os.ReadFile(saved)
	if err != nil || !strings.Contains(string(b), `"servers=4"`) {
		t.Fatalf("%s: %v\n%s", saved, err, b)
	}
	e.write("p2.plan", strings.Replace(string(b), `"servers=4"`, `"servers=6"`, 1))

	code, out, errs := e.run("apply", edited, "-auto-approve", "--progress", "quiet")
	if code == 0 {
		t.Fatalf("the edited plan applied:\n%s%s", out, errs)
	}
	if want := "Error: the saved plan is stale: var.servers is not what it was made with (the plan file was edited); run plan again\n"; errs != want {
		t.Errorf("the refusal:\n%s\nwant:\n%s", errs, want)
	}
	if strings.Contains(out, "step.") {
		t.Errorf("apply ran:\n%s", out)
	}
	if out := e.must("vars", "glusterfs"); !strings.Contains(out, "remembers no inputs") {
		t.Errorf("the refused plan's inputs are remembered:\n%s", out)
	}
	if out := e.must("apply", saved, "--progress", "quiet"); !strings.Contains(out, "Apply finished") {
		t.Errorf("the saved plan, unedited:\n%s", out)
	}
}
