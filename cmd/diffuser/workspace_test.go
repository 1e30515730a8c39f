package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkspaceListDelete: list shows the applied workspace; delete
// refuses while hosts exist (saying to destroy first) and leaves the
// state as it was, deletes after destroy, and with -force warns about the
// hosts it leaves running.
func TestWorkspaceListDelete(t *testing.T) {
	e, recipe := miscEnv(t)
	lines := strings.Split(strings.TrimSpace(e.must("workspace", "list")), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "MODIFIED") {
		t.Fatalf("workspace list:\n%s", strings.Join(lines, "\n"))
	}
	if f := strings.Fields(lines[1]); len(f) < 6 || f[0] != "misc" || f[1] != "misc" || f[2] != "sim" || f[3] != "3" || f[4] != "3" {
		t.Errorf("workspace list row: %q", lines[1])
	}

	dir := filepath.Join(e.data, "misc")
	before, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.run("workspace", "delete", "misc")
	if code != 1 || !strings.Contains(errs, "3 host(s) and 3 step instance(s)") || !strings.Contains(errs, "diffuser destroy misc -workspace misc") ||
		!strings.Contains(errs, "-force") {
		t.Errorf("delete with hosts: exit %d\n%s", code, errs)
	}
	if after, err := os.ReadFile(filepath.Join(dir, "state.json")); err != nil || string(after) != string(before) {
		t.Errorf("a refused delete changed state: %v", err)
	}
	if code, _, errs := e.run("workspace", "delete", "../misc"); code != 1 || !strings.Contains(errs, "not a workspace name") {
		t.Errorf("delete ../misc: exit %d\n%s", code, errs)
	}

	e.must("destroy", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	if out := e.must("workspace", "delete", "misc"); !strings.Contains(out, "Deleted workspace misc") {
		t.Errorf("delete after destroy:\n%s", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists: %v", dir, err)
	}
	if out := e.must("workspace", "list"); !strings.Contains(out, "No workspaces under") {
		t.Errorf("list after delete:\n%s", out)
	}

	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	code, out, errs := e.run("workspace", "delete", "misc", "-force")
	if code != 0 || !strings.Contains(out, "Deleted workspace misc") ||
		!strings.Contains(errs, "its 3 host(s) were not destroyed and nothing tracks them now: client[0], server[0], server[1] (provider sim, cluster misc-") {
		t.Errorf("delete -force: exit %d\n%s%s", code, out, errs)
	}
}
