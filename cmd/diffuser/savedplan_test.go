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

// TestApplyPlanFileRefusesPlanFlags: apply PLANFILE ran exactly the saved
// plan and silently ignored -target, -replace, -refresh=false and the
// other flags a saved plan fixes (apply plan.out -target step.one applied
// both steps). Each is now refused, naming the flag, before anything runs
// or is recorded; --ttl, which shapes no plan, was ignored too and now
// gives the deadline.
func TestApplyPlanFileRefusesPlanFlags(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	r := e.write("pf/main.hcl", `recipe "pf" {}
hosts "node" {}
step "one" {
  on  = hosts.node
  run = "echo one"
}
step "two" {
  on  = hosts.node
  run = "echo two"
}
`)
	file := func(name, content string) string { return e.write(name, content) }
	saved := filepath.Join(e.dir, "p.plan")
	e.must("plan", r, "-provider", "sim", "-out", saved)
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"-target", "step.one"}, "target"},
		{[]string{"--replace", `step.one["node[0]"]`}, "replace"},
		{[]string{"-refresh=false"}, "refresh"},
		{[]string{"--refresh"}, "refresh"},
		{[]string{"-var-file", file("v.hcl", "")}, "var-file"},
		{[]string{"-site", file("site.hcl", "")}, "site"},
		{[]string{"-provider", "sim"}, "provider"},
		{[]string{"-workspace", "pf"}, "workspace"},
		{[]string{"-remembered=false"}, "remembered"},
		{[]string{"--simulate"}, "simulate"},
		{[]string{"--simulate", "--sim-profile", file("prof.json", "{}")}, "sim-profile"},
		{[]string{"--simulate", "--sim-seed", "7"}, "sim-seed"},
	} {
		code, out, errs := e.run(append([]string{"apply", saved, "--progress", "quiet"}, c.args...)...)
		want := "Error: --" + c.name + " cannot be given with a plan file: the plan file fixes "
		if code != exitError || !strings.HasPrefix(errs, want) || !strings.Contains(errs, "give --"+c.name+" to plan -out instead") {
			t.Errorf("apply PLANFILE %q: exit %d, want %d and %q...:\n%s%s", c.args, code, exitError, want, out, errs)
		}
		if strings.Contains(out, "step.") {
			t.Errorf("apply PLANFILE %q ran:\n%s", c.args, out)
		}
	}
	if _, err := os.Stat(filepath.Join(e.data, "pf", "state.json")); err == nil {
		t.Fatal("a refused apply PLANFILE wrote state")
	}
	if out := e.must("apply", saved, "--progress", "quiet", "--ttl", "4h"); !strings.Contains(out, "Apply finished") {
		t.Fatalf("apply PLANFILE --ttl:\n%s", out)
	}
	st, _ := os.ReadFile(filepath.Join(e.data, "pf", "state.json"))
	if !strings.Contains(string(st), `"expires"`) {
		t.Errorf("apply PLANFILE --ttl 4h gave no deadline:\n%s", st)
	}
}
