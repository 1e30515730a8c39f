package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readTree reads the .hcl files under dir, by path relative to it.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestModuleHistoryIntoBuiltin is a recipe written from
// docs/writing-recipes.md ("A module's own history"): v1 declares a file,
// a unit file and its service as root steps; v2 calls a local module that
// holds the file and calls builtin/systemd-unit for the unit, and whose
// moved.hcl takes the caller's old steps (caller.step.X) into its own
// step and into the nested built-in's steps. The plan moves every
// instance, names the module's history, and runs nothing.
func TestModuleHistoryIntoBuiltin(t *testing.T) {
	v1 := readTree(t, "testdata/historybuiltin/v1")
	w := newWorld(t, v1["main.hcl"])
	w.kinds = simKinds // the sim's hosts answer commands, not file checks
	w.extra = map[string]string{}
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 || res.Ran != 8 {
		t.Fatalf("v1: ran %d, failures %+v", res.Ran, res.Failures)
	}
	v2 := readTree(t, "testdata/historybuiltin/v2")
	w.src = v2["main.hcl"]
	delete(v2, "main.hcl")
	w.extra = v2
	p := w.plan()
	want := `step.banner["node[0]"] -> module.motd.step.banner["node[0]"]
step.banner["node[1]"] -> module.motd.step.banner["node[1]"]
step.refresher["node[0]"] -> module.motd.module.unit.step.service["node[0]"]
step.refresher["node[1]"] -> module.motd.module.unit.step.service["node[1]"]
step.refresher_unit["node[0]"] -> module.motd.module.unit.step.unit["node[0]"]
step.refresher_unit["node[1]"] -> module.motd.module.unit.step.unit["node[1]"]`
	if got := moveLines(p); got != want || len(p.Changes) != 0 || len(p.Destroys) != 0 {
		t.Fatalf("v2 moves:\n%s\nwant:\n%s\nchanges:\n%s", got, want, summary(p))
	}
	for _, m := range p.Moves {
		if r := m.Reason(); !strings.HasPrefix(r, "history of module.motd (./modules/motd), r/modules/motd/moved.hcl:") {
			t.Errorf("%s: reason %q", m.From, r)
		}
	}
	w.applyMovesOnly(p)
	// The unit file moved into builtin/systemd-unit's unit step, which
	// undoes itself (stop, disable, remove): state records that command
	// now, not v1's none, though nothing ran.
	for _, h := range []string{"node[0]", "node[1]"} {
		in := w.st.Steps[`module.motd.module.unit.step.unit["`+h+`"]`]
		if in == nil {
			t.Fatalf("%s: not in state after the move", h)
		}
		if !strings.HasPrefix(in.Destroy, "systemctl disable --now motd-refresh.service") {
			t.Errorf("%s: recorded destroy after the move: %q", h, in.Destroy)
		}
	}
}

// diffuser graph draws the steps of a call turned off, as the docs say,
// in a dashed cluster whose label says it is off and where; turned on,
// the cluster is a plain one.
func TestStepGraphDOTOffModule(t *testing.T) {
	src := `recipe "t" {}
variable "on" {
  type    = bool
  default = false
}
hosts "node" {}
module "u" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x"
  content = "[Service]\nExecStart=/bin/true\n"
  lifecycle {
    enabled = var.on
  }
}
`
	for _, tc := range []struct {
		vars []string
		want string
	}{
		{nil, "\t\tlabel=\"module.u (off: lifecycle enabled is false at r/main.hcl:13)\";\n\t\tstyle=\"dashed\";\n"},
		{[]string{"on=true"}, "\t\tlabel=\"module.u\";\n\t\t\"module.u.step.service\""},
	} {
		l := mustLoad(t, src, tc.vars...)
		var b strings.Builder
		if err := l.StepGraph.DOT(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("vars %v: want %q in\n%s", tc.vars, tc.want, b.String())
		}
	}
}
