package engine_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Module history: moved blocks in a module whose from names an address of
// the caller (caller.…), so every caller of the module keeps the state of
// the steps it used to declare itself without repeating the moves.

// histBefore declares in the recipe the steps the module "kit" holds
// later, and an old module call of its own.
const histBefore = `
recipe "h" {}
hosts "server" { count = 2 }
step "pkgs" {
  on  = hosts.server
  run = "echo pkgs"
}
step "conf" {
  on    = hosts.server
  after = [step.pkgs]
  run   = "echo conf"
}
module "old_mount" {
  source = "./mods/mount"
  on     = hosts.server
}
`

const histMount = `
step "mount" { run = "echo mount" }
`

// histKit holds what histBefore declared, and says where it was.
const histKit = `
step "packages" { run = "echo pkgs" }
step "config" {
  after = [step.packages]
  run   = "echo conf"
}
module "mount" { source = "../mount" }
`

const histKitMoved = `
moved {
  from = caller.step.pkgs
  to   = step.packages
}
moved {
  from = caller.step.conf
  to   = step.config
}
moved {
  from = caller.module.old_mount
  to   = module.mount
}
`

const histAfter = `
recipe "h" {}
hosts "server" { count = 2 }
module "kit" {
  source = "./mods/kit"
  on     = hosts.server
}
`

func histFiles(kitMoved string) map[string]string {
	return map[string]string{"mods/mount/main.hcl": histMount, "mods/kit/main.hcl": histKit, "mods/kit/moved.hcl": kitMoved}
}

func moveLines(p *engine.Plan) string {
	var lines []string
	for _, m := range p.Moves {
		lines = append(lines, m.From+" -> "+m.To)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// applyMovesOnly applies a plan of moves: nothing runs, and the plan
// after it is empty.
func (w *world) applyMovesOnly(p *engine.Plan) {
	w.t.Helper()
	if res := w.apply(p, 4); len(res.Failures) > 0 || res.Ran != 0 {
		w.t.Fatalf("applying the moves ran %d, failures %+v", res.Ran, res.Failures)
	}
	if p := w.plan(); p.HasChanges() {
		w.t.Fatalf("plan after the moves:\n%s", summary(p))
	}
}

func histWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, histBefore)
	w.extra = histFiles(histKitMoved)
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures[0].Err)
	}
	return w
}

// The module's history moves the caller's old steps and module into it:
// a plan of moves only, with the reason; applying it runs nothing.
func TestModuleHistoryMovesCallersState(t *testing.T) {
	w := histWorld(t)
	w.src = histAfter
	p := w.plan()
	if len(p.Changes) != 0 || len(p.Destroys) != 0 {
		t.Fatalf("the module's steps run again:\n%s", summary(p))
	}
	want := `module.old_mount.step.mount["server[0]"] -> module.kit.module.mount.step.mount["server[0]"]
module.old_mount.step.mount["server[1]"] -> module.kit.module.mount.step.mount["server[1]"]
step.conf["server[0]"] -> module.kit.step.config["server[0]"]
step.conf["server[1]"] -> module.kit.step.config["server[1]"]
step.pkgs["server[0]"] -> module.kit.step.packages["server[0]"]
step.pkgs["server[1]"] -> module.kit.step.packages["server[1]"]`
	if got := moveLines(p); got != want {
		t.Fatalf("moves:\n%s\nwant:\n%s", got, want)
	}
	for _, m := range p.Moves {
		if !strings.HasPrefix(m.Reason(), "history of module.kit (./mods/kit), r/mods/kit/moved.hcl:") {
			t.Errorf("move %s has reason %q", m.From, m.Reason())
		}
		if len(m.By) != 1 || m.By[0].By == nil || m.By[0].By.Addr != "module.kit" || m.By[0].DeclRange.Filename != "r/mods/kit/moved.hcl" {
			t.Errorf("move %s made by %+v, want one block of r/mods/kit/moved.hcl", m.From, m.By)
		}
	}
	w.applyMovesOnly(p)
}

// A caller that still declares the old address keeps its own state there:
// the module's history is not this caller's.
func TestModuleHistoryCallerStillDeclares(t *testing.T) {
	w := histWorld(t)
	// The old module call stays, and step.pkgs too; only conf goes.
	w.src = histBefore[:strings.Index(histBefore, `step "conf"`)] + `
module "old_mount" {
  source = "./mods/mount"
  on     = hosts.server
}
module "kit" {
  source = "./mods/kit"
  on     = hosts.server
}
`
	p := w.plan()
	if got, want := moveLines(p), "step.conf[\"server[0]\"] -> module.kit.step.config[\"server[0]\"]\nstep.conf[\"server[1]\"] -> module.kit.step.config[\"server[1]\"]"; got != want {
		t.Fatalf("moves:\n%s\nwant:\n%s", got, want)
	}
	got := summary(p)
	for _, want := range []string{`+ module.kit.step.packages["server[0]"]`, `+ module.kit.module.mount.step.mount["server[1]"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "step.pkgs") || strings.Contains(got, "module.old_mount") {
		t.Errorf("the caller's own steps change:\n%s", got)
	}
}

// The caller's own moved block for the same from wins over the module's.
func TestModuleHistoryCallerOverrides(t *testing.T) {
	w := histWorld(t)
	w.src = histAfter + `
step "pkgs_elsewhere" {
  on  = hosts.server
  run = "echo pkgs"
}
moved {
  from = step.pkgs
  to   = step.pkgs_elsewhere
}
`
	p := w.plan()
	lines := moveLines(p)
	if !strings.Contains(lines, `step.pkgs["server[0]"] -> step.pkgs_elsewhere["server[0]"]`) || strings.Contains(lines, "module.kit.step.packages") {
		t.Fatalf("moves:\n%s", lines)
	}
	if !strings.Contains(summary(p), `+ module.kit.step.packages["server[0]"]`) {
		t.Errorf("module.kit.step.packages is not new:\n%s", summary(p))
	}
}

// Nested: kit is called by a module "wrap"; its history names addresses in
// wrap (caller.…), where the steps lived before. The recipe moved its old
// steps into wrap first (a whole-module move of the recipe's own, then
// kit's history: a chain).
func TestModuleHistoryNested(t *testing.T) {
	w := newWorld(t, `
recipe "h" {}
hosts "server" { count = 2 }
module "old_wrap" {
  source = "./mods/oldwrap"
  on     = hosts.server
}
`)
	w.extra = histFiles(histKitMoved)
	// histBefore's steps and module call, in a module.
	w.extra["mods/oldwrap/main.hcl"] = `
step "pkgs" { run = "echo pkgs" }
step "conf" {
  after = [step.pkgs]
  run   = "echo conf"
}
module "old_mount" { source = "../mount" }
`
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures[0].Err)
	}
	w.extra["mods/wrap/main.hcl"] = `module "kit" { source = "../kit" }`
	w.src = `
recipe "h" {}
hosts "server" { count = 2 }
module "wrap" {
  source = "./mods/wrap"
  on     = hosts.server
}
moved {
  from = module.old_wrap
  to   = module.wrap
}
`
	p := w.plan()
	if len(p.Changes) != 0 || len(p.Destroys) != 0 {
		t.Fatalf("the nested module's steps run again:\n%s", summary(p))
	}
	want := `module.old_wrap.module.old_mount.step.mount["server[0]"] -> module.wrap.module.kit.module.mount.step.mount["server[0]"]
module.old_wrap.module.old_mount.step.mount["server[1]"] -> module.wrap.module.kit.module.mount.step.mount["server[1]"]
module.old_wrap.step.conf["server[0]"] -> module.wrap.module.kit.step.config["server[0]"]
module.old_wrap.step.conf["server[1]"] -> module.wrap.module.kit.step.config["server[1]"]
module.old_wrap.step.pkgs["server[0]"] -> module.wrap.module.kit.step.packages["server[0]"]
module.old_wrap.step.pkgs["server[1]"] -> module.wrap.module.kit.step.packages["server[1]"]`
	if got := moveLines(p); got != want {
		t.Fatalf("moves:\n%s\nwant:\n%s", got, want)
	}
	// Each move is the recipe's block, then kit's history, in that order.
	for _, m := range p.Moves {
		var by []string
		for _, mv := range m.By {
			by = append(by, fmt.Sprintf("%s:%d %v", mv.DeclRange.Filename, mv.DeclRange.Start.Line, mv.By != nil))
		}
		if len(by) != 2 || by[0] != "r/main.hcl:8 false" || !strings.HasPrefix(by[1], "r/mods/kit/moved.hcl:") || !strings.HasSuffix(by[1], " true") {
			t.Errorf("move %s made by %v", m.From, by)
		}
	}
	w.applyMovesOnly(p)
}

// The module called twice by one caller: both calls claim the caller's
// old steps. Only state holding them makes that an error, and the
// caller's moved block settles it.
func TestModuleHistoryAmbiguous(t *testing.T) {
	w := histWorld(t)
	twice := histAfter + `
module "kit2" {
  source = "./mods/kit"
  on     = hosts.server
}
`
	l := loadHist(t, twice, histKitMoved)
	diags := planDiags(l, w)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Ambiguous module history") ||
		!strings.Contains(diags.Error(), "module.kit") || !strings.Contains(diags.Error(), "module.kit2") {
		t.Fatalf("want an ambiguity error naming both calls, got %v", diags)
	}
	// One error per recorded step (not per instance), with the block to write.
	if errs := diags.Errs(); len(errs) != 3 {
		t.Errorf("want 3 errors (pkgs, conf, old_mount's mount), got %d: %v", len(errs), diags)
	}
	var all strings.Builder
	for _, e := range diags.Errs() {
		all.WriteString(e.Error() + "\n")
	}
	if d := all.String(); !strings.Contains(d, "moved { from = step.pkgs  to = module.kit") ||
		!strings.Contains(d, "The same holds for 1 more instance(s) of step.pkgs.") {
		t.Errorf("the errors do not give the moved block to write or the instances they cover:\n%s", d)
	}
	w.src = twice + `
moved {
  from = step.pkgs
  to   = module.kit2.step.packages
}
moved {
  from = step.conf
  to   = module.kit2.step.config
}
moved {
  from = module.old_mount
  to   = module.kit2.module.mount
}
`
	p := w.plan()
	if lines := moveLines(p); strings.Contains(lines, "module.kit.") || !strings.Contains(lines, `step.conf["server[1]"] -> module.kit2.step.config["server[1]"]`) {
		t.Fatalf("moves:\n%s", lines)
	}
}

// State that already holds a module history's target is refused, as for
// the recipe's own moved blocks.
func TestModuleHistoryTargetInState(t *testing.T) {
	w := histWorld(t)
	in := *w.st.Steps[`step.pkgs["server[0]"]`]
	in.Step = "module.kit.step.packages"
	w.st.Steps[`module.kit.step.packages["server[0]"]`] = &in
	l := loadHist(t, histAfter, histKitMoved)
	diags := planDiags(l, w)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Moved object still exists") || !strings.Contains(diags.Error(), "r/mods/kit/moved.hcl:4,10-23: Moved object still exists") {
		t.Fatalf("want a conflict at the module's block, got %v", diags)
	}
}

// planDiags plans l over w's state and returns what the plan says.
func planDiags(l *engine.Loaded, w *world) hcl.Diagnostics {
	_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	return diags
}

func loadHist(t *testing.T, src, kitMoved string) *engine.Loaded {
	t.Helper()
	l, diags := loadHistDiags(src, kitMoved)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return l
}

func loadHistDiags(src, kitMoved string) (*engine.Loaded, hcl.Diagnostics) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
	for name, s := range histFiles(kitMoved) {
		fsys["r/"+name] = &fstest.MapFile{Data: []byte(s)}
	}
	return engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
}

// A module's history is checked where it is written: a to the module does
// not declare, from inside the module itself, caller.… in to or in a
// recipe, each with the file and line and the call.
func TestModuleHistoryErrors(t *testing.T) {
	for _, c := range []struct{ name, src, moved, want string }{
		{"unknown to", histAfter, "moved {\n  from = caller.step.pkgs\n  to   = step.nope\n}\n",
			"r/mods/kit/moved.hcl:3,10-19: Moved to an unknown address; to = step.nope names no step the module declares"},
		{"from the module itself", histAfter, "moved {\n  from = caller.module.kit.step.old\n  to   = step.packages\n}\n",
			"r/mods/kit/moved.hcl:2,10-36: Moved from inside the module; from = caller.module.kit.step.old names module.kit.step.old"},
		{"kinds", histAfter, "moved {\n  from = caller.module.old_mount\n  to   = step.packages\n}\n",
			"r/mods/kit/moved.hcl:3,10-23: Moved between kinds; from = caller.module.old_mount is a module and to = step.packages a step"},
		{"caller in to", histAfter, "moved {\n  from = step.x\n  to   = caller.step.pkgs\n}\n",
			"r/mods/kit/moved.hcl:3,10-26: Invalid moved address; Only from may name an address of the caller"},
		{"caller in a recipe", histAfter + "moved {\n  from = caller.step.pkgs\n  to   = module.kit.step.packages\n}\n", "",
			"r/main.hcl:9,10-26: Invalid moved address; caller.… names an address of the namespace that calls a module; a recipe has no caller"},
		{"caller alone", histAfter, "moved {\n  from = caller\n  to   = step.packages\n}\n",
			"Invalid moved address"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := loadHistDiags(c.src, c.moved)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, diags)
			}
			if c.moved != "" && !strings.Contains(diags.Error(), "In module.kit, called at r/main.hcl:4") {
				t.Errorf("the error does not name the call: %v", diags)
			}
		})
	}
}
