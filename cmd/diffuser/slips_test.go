package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stateOf reads a workspace's state file as JSON (recipe, serial, hosts).
func stateOf(t *testing.T, data, ws string) (recipe string, serial float64, hosts int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, ws, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Recipe string         `json:"recipe"`
		Serial float64        `json:"serial"`
		Hosts  map[string]any `json:"hosts"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st.Recipe, st.Serial, len(st.Hosts)
}

// --sim-profile and --sim-seed without --simulate are refused before
// anything is loaded or launched: ignored, the command would run for real.
func TestSimFlagsNeedSimulate(t *testing.T) {
	data := t.TempDir()
	prof := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(prof, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"--sim-profile", prof}, {"--sim-seed", "3"}, {"--sim-seed", "0"}} {
		for _, command := range []string{"plan", "apply", "destroy", "verify"} {
			args := append([]string{command, "glusterfs", "--data-dir", data, "-auto-approve"}, extra...)
			if command == "plan" || command == "verify" {
				args = append([]string{command, "glusterfs", "--data-dir", data}, extra...)
			}
			res := badRun(t, args...)
			want := extra[0] + " is for simulated runs only: add --simulate"
			if res.code != 1 || !strings.Contains(res.stderr, want) {
				t.Errorf("diffuser %s: exit %d, want 1 and %q\n%s%s", strings.Join(args, " "), res.code, want, res.stdout, res.stderr)
			}
		}
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("refused commands left %d entries in the data directory", len(entries))
	}
	// With --simulate they are taken; a missing profile names its flag.
	res := badRun(t, "plan", "glusterfs", "--data-dir", data, "--simulate", "--sim-profile", filepath.Join(data, "none.json"))
	if res.code != 1 || !strings.Contains(res.stderr, "simulation profile (--sim-profile, format in docs/scale.md): open ") {
		t.Errorf("missing profile: exit %d\n%s", res.code, res.stderr)
	}
	if res := badRun(t, "plan", "glusterfs", "--data-dir", data, "--simulate", "--sim-profile", prof, "--sim-seed", "3"); res.code != 0 {
		t.Errorf("--simulate with both: exit %d\n%s", res.code, res.stderr)
	}
}

// A workspace made by a --simulate run, planned with a real provider,
// says to pass --simulate (not -provider sim, which is no provider), and
// the destroy it suggests works.
func TestSimulatedHostsHintSaysSimulate(t *testing.T) {
	data := t.TempDir()
	if res := badRun(t, "apply", "nfs", "--data-dir", data, "--simulate", "-auto-approve", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("apply: exit %d\n%s", res.code, res.stderr)
	}
	res := badRun(t, "plan", "nfs", "--data-dir", data, "--provider", "docker")
	const want = "they were made by a --simulate run: pass --simulate, or first destroy them with: diffuser destroy nfs --simulate"
	if res.code != 1 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "-provider sim") {
		t.Fatalf("plan --provider docker over simulated hosts: exit %d, want %q\n%s", res.code, want, res.stderr)
	}
	if res := badRun(t, "destroy", "nfs", "--data-dir", data, "--simulate", "-auto-approve", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("the suggested destroy: exit %d\n%s", res.code, res.stderr)
	}
	if _, _, hosts := stateOf(t, data, "nfs"); hosts != 0 {
		t.Errorf("%d hosts left after the suggested destroy", hosts)
	}
}

// Another recipe planned or applied on a workspace that holds a cluster
// is refused before anything changes (the plan would tear the cluster
// down to build the other); destroy with any recipe still works, and an
// empty workspace takes any recipe.
func TestOtherRecipeOnWorkspaceRefused(t *testing.T) {
	data := t.TempDir()
	if res := badRun(t, "apply", "glusterfs", "--data-dir", data, "--simulate", "-auto-approve", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("apply: exit %d\n%s", res.code, res.stderr)
	}
	_, serial, hosts := stateOf(t, data, "glusterfs")
	want := `workspace glusterfs holds what recipe "glusterfs" made (` // host and instance counts follow
	for _, args := range [][]string{
		{"plan", "nfs", "--workspace", "glusterfs"},
		{"apply", "nfs", "--workspace", "glusterfs", "-auto-approve"},
		{"plan", "ceph", "--workspace", "glusterfs", "-var", "osds=1"},
	} {
		res := badRun(t, append(args, "--data-dir", data, "--simulate")...)
		if res.code != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "-workspace NAME") {
			t.Errorf("diffuser %s: exit %d, want 1 and %q\n%s", strings.Join(args, " "), res.code, want, res.stderr)
		}
	}
	if recipe, s, h := stateOf(t, data, "glusterfs"); recipe != "glusterfs" || s != serial || h != hosts {
		t.Errorf("refused commands changed state: recipe %q serial %v→%v hosts %d→%d", recipe, serial, s, hosts, h)
	}
	if res := badRun(t, "destroy", "nfs", "--workspace", "glusterfs", "--data-dir", data, "--simulate", "-auto-approve", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("destroy with another recipe: exit %d\n%s", res.code, res.stderr)
	}
	if res := badRun(t, "plan", "nfs", "--workspace", "glusterfs", "--data-dir", data, "--simulate"); res.code != 0 {
		t.Errorf("another recipe on the emptied workspace: exit %d\n%s", res.code, res.stderr)
	}
}

// Commands that cannot mean anything on simulated hosts say so, rather
// than run ssh at "server[0]" or fail every bench probe.
func TestSimulatedWorkspaceSSHAndBench(t *testing.T) {
	data := t.TempDir()
	if res := badRun(t, "apply", "nfs", "--data-dir", data, "--simulate", "-auto-approve", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("apply: exit %d\n%s", res.code, res.stderr)
	}
	res := badRun(t, "ssh", "nfs", "server[0]", "--data-dir", data, "--print")
	if res.code != 1 || !strings.Contains(res.stderr, "host server[0] of workspace nfs was made by a --simulate run: it exists only in state") {
		t.Errorf("ssh: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = badRun(t, "bench", "nfs", "--data-dir", data, "--simulate")
	if res.code != 1 || !strings.Contains(res.stderr, "--simulate has none to measure: diffuser verify --simulate checks a simulated workspace") {
		t.Errorf("bench --simulate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := badRun(t, "verify", "nfs", "--data-dir", data, "--simulate"); res.code != 0 {
		t.Errorf("verify --simulate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// A wrong number of arguments names the command's usage line.
func TestArgCountErrorsShowUsage(t *testing.T) {
	for _, c := range []struct {
		args  []string
		usage string
	}{
		{[]string{"validate", "glusterfs", "extra"}, "usage: diffuser validate RECIPE [flags] (see diffuser validate -h)"},
		{[]string{"state", "push", "glusterfs", "FILE"}, "usage: diffuser state push WORKSPACE [flags] (see diffuser state push -h)"},
		{[]string{"plan"}, "usage: diffuser plan RECIPE [flags] (see diffuser plan -h)"},
	} {
		res := badRun(t, c.args...)
		if res.code != 1 || !strings.Contains(res.stderr, "arg(s)") || !strings.Contains(res.stderr, c.usage) {
			t.Errorf("diffuser %s: exit %d, want %q\n%s", strings.Join(c.args, " "), res.code, c.usage, res.stderr)
		}
	}
}
