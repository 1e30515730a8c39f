package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// modRecipe uses a local module twice and a built-in one, with the same
// step name at the root and in both calls.
const modRecipe = `
recipe "m" {}
hosts "server" {
  count = 2
  volume "brick" { size_gb = 1 }
}
hosts "client" {}

step "prep" {
  on  = hosts.server
  run = "echo prep"
  capture { id = "echo id" }
}

module "a" {
  source = "./mods/greet"
  on     = hosts.server
  who    = "a"
  token  = step.prep.hosts["server[0]"].outputs.id
}

module "b" {
  source = "./mods/greet"
  on     = hosts.client
  who    = "b"
  token  = "t"
  after  = [module.a]
}

module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brick.device
  target = "/data/brick"
}

step "use" {
  on  = hosts.client
  run = "echo ${module.a.greeting} ${module.data.target}"
}
`

const greetModule = `
module_info { description = "says hello" }
variable "who" { type = string }
variable "token" {
  type    = string
  default = ""
}
locals { msg = "hello ${var.who}" }
step "prep" {
  run = "echo ${local.msg} ${var.token}"
}
step "say" {
  after = [step.prep]
  run   = "echo said"
  capture { out = "echo ${var.who}" }
}
output "greeting" { value = local.msg }
`

func modWorld(t *testing.T) *world {
	w := newWorld(t, modRecipe)
	w.extra = map[string]string{"mods/greet/main.hcl": greetModule}
	w.kinds = simKinds // the sim's devices cannot be formatted for real
	return w
}

func TestModulePlanAddresses(t *testing.T) {
	w := modWorld(t)
	p := w.plan()
	got := summary(p)
	for _, want := range []string{
		`+ step.prep["server[0]"]`,
		`+ module.a.step.prep["server[1]"]`,
		`+ module.a.step.say["server[0]"]`,
		`+ module.b.step.prep["client[0]"]`,
		`+ module.data.step.format["server[0]"]`,
		`+ module.data.step.mount["server[1]"]`,
		`+ step.use["client[0]"]`,
	} {
		if !strings.Contains(got, want+"\n") && !strings.Contains(got, want+" (") {
			t.Errorf("plan lacks %s:\n%s", want, got)
		}
	}
	g := p.Loaded.Graph
	deps := map[string]map[string]bool{}
	for v := range g.Kind {
		for _, o := range g.Out(int32(v)) {
			a := g.Addr(o)
			if deps[a] == nil {
				deps[a] = map[string]bool{}
			}
			deps[a][g.Addr(int32(v))] = true
		}
	}
	// Reading step.prep through an input waits for it.
	if !deps[`module.a.step.prep["server[0]"]`][`step.prep (all)`] {
		t.Errorf("module.a.step.prep does not wait for step.prep: %v", deps[`module.a.step.prep["server[0]"]`])
	}
	// The call's after = [module.a] applies to every step of b: other
	// host set, so through the joins.
	if !deps[`module.b.step.prep["client[0]"]`][`module.a.step.say (all)`] {
		t.Errorf("module.b.step.prep does not wait for module.a: %v", deps[`module.b.step.prep["client[0]"]`])
	}
	// after inside a module pairs per host.
	if !deps[`module.a.step.say["server[1]"]`][`module.a.step.prep["server[1]"]`] {
		t.Errorf("module.a.step.say[server[1]] does not wait for its host's prep: %v", deps[`module.a.step.say["server[1]"]`])
	}
}

func TestModuleApplyThenNoOp(t *testing.T) {
	w := modWorld(t)
	res := w.apply(w.plan(), 4)
	if len(res.Failures) > 0 {
		t.Fatalf("apply failed: %+v", res.Failures)
	}
	for _, addr := range []string{`module.data.step.format["server[1]"]`, `module.b.step.say["client[0]"]`, `step.prep["server[0]"]`} {
		if w.st.Steps[addr] == nil {
			t.Errorf("state lacks %s; has %v", addr, keysOf(w.st.Steps))
		}
	}
	if in := w.st.Steps[`module.data.step.mount["server[0]"]`]; in == nil || in.Step != "module.data.step.mount" {
		t.Errorf("module instance recorded as %+v", in)
	}
	p := w.plan()
	if p.HasChanges() {
		t.Errorf("second plan not a no-op:\n%s", summary(p))
	}
	// The input read from host: each instance formats its own device.
	a0, a1 := w.st.Steps[`module.data.step.format["server[0]"]`], w.st.Steps[`module.data.step.format["server[1]"]`]
	if a0 == nil || a1 == nil || a0.Digest == a1.Digest {
		t.Errorf("per-host inputs give the same digest on both hosts")
	}
}

func TestModuleTarget(t *testing.T) {
	w := modWorld(t)
	p := w.plan(func(o *engine.PlanOptions) { o.Targets = []string{"module.a"} })
	got := summary(p)
	if !strings.Contains(got, `module.a.step.say["server[1]"]`) {
		t.Errorf("-target module.a lacks its steps:\n%s", got)
	}
	if strings.Contains(got, "module.b.") || strings.Contains(got, "module.data.") || strings.Contains(got, "step.use") {
		t.Errorf("-target module.a plans other steps:\n%s", got)
	}
	if !strings.Contains(got, `step.prep["server[0]"]`) {
		t.Errorf("-target module.a lacks what it depends on (step.prep):\n%s", got)
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// beforeModules is a recipe written before modules: its package, format
// and mount steps have the arguments builtin/xfs-volume gives them.
const beforeModules = `
recipe "m" {}
hosts "server" {
  count = 2
  volume "brick" { size_gb = 1 }
}
step "xfsprogs" {
  on      = hosts.server
  package = ["xfsprogs"]
}
step "brick" {
  on    = hosts.server
  after = [step.xfsprogs]
  format {
    device = host.volume.brick.device
    fstype = "xfs"
  }
}
step "brick_mount" {
  on    = hosts.server
  after = [step.brick]
  mount {
    source  = host.volume.brick.device
    target  = "/data/brick"
    fstype  = "xfs"
    fstab   = true
  }
}
`

const afterModules = `
recipe "m" {}
hosts "server" {
  count = 2
  volume "brick" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brick.device
  target = "/data/brick"
}
moved {
  from = step.xfsprogs
  to   = module.data.step.packages
}
moved {
  from = step.brick
  to   = module.data.step.format
}
moved {
  from = step.brick_mount
  to   = module.data.step.mount
}
`

// Steps moved into a module with the same meaning are renamed in state,
// not run again; apply persists the rename, and the plan after it is a
// no-op even without the moved blocks.
func TestMovedIntoModuleIsNoOp(t *testing.T) {
	w := newWorld(t, beforeModules)
	w.kinds = simKinds
	w.extra = map[string]string{}
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	before := w.st.Steps[`step.brick["server[1]"]`]
	if before == nil {
		t.Fatalf("state lacks step.brick: %v", keysOf(w.st.Steps))
	}
	w.src = afterModules
	p := w.plan()
	if len(p.Changes) != 0 || len(p.Destroys) != 0 {
		t.Fatalf("moved steps plan changes:\n%s", summary(p))
	}
	if len(p.Moves) != 6 {
		t.Fatalf("moves = %+v, want 6", p.Moves)
	}
	var b strings.Builder
	for _, m := range p.Moves {
		b.WriteString(m.From + " -> " + m.To + "\n")
	}
	want := `step.brick["server[0]"] -> module.data.step.format["server[0]"]
step.brick["server[1]"] -> module.data.step.format["server[1]"]
step.brick_mount["server[0]"] -> module.data.step.mount["server[0]"]
step.brick_mount["server[1]"] -> module.data.step.mount["server[1]"]
step.xfsprogs["server[0]"] -> module.data.step.packages["server[0]"]
step.xfsprogs["server[1]"] -> module.data.step.packages["server[1]"]
`
	if b.String() != want {
		t.Errorf("moves:\n%s\nwant:\n%s", b.String(), want)
	}
	if !p.HasChanges() {
		t.Errorf("a plan with moves has nothing to apply")
	}
	if res := w.apply(p, 4); len(res.Failures) > 0 || res.Ran != 0 {
		t.Fatalf("applying moves ran %d, failures %+v", res.Ran, res.Failures)
	}
	after := w.st.Steps[`module.data.step.format["server[1]"]`]
	if after == nil || w.st.Steps[`step.brick["server[1]"]`] != nil {
		t.Fatalf("state after the move: %v", keysOf(w.st.Steps))
	}
	if after.Digest != before.Digest || after.Step != "module.data.step.format" {
		t.Errorf("moved instance %+v, was %+v", after, before)
	}
	// Without the moved blocks now: nothing to do.
	w.src = strings.Split(afterModules, "moved {")[0]
	p = w.plan()
	if p.HasChanges() {
		t.Errorf("plan after the move was applied:\n%s", summary(p))
	}
}

func TestMovedConflict(t *testing.T) {
	w := newWorld(t, beforeModules)
	w.kinds = simKinds
	w.extra = map[string]string{}
	w.apply(w.plan(), 4)
	// Both the old and the new address in state: refuse.
	in := *w.st.Steps[`step.brick["server[0]"]`]
	in.Step = "module.data.step.format"
	w.st.Steps[`module.data.step.format["server[0]"]`] = &in
	l := mustLoadFS(t, afterModules)
	_, diags := l.Plan(t.Context(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test"})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Moved object still exists") {
		t.Fatalf("want a conflict, got %v", diags)
	}
	// Every server's brick conflicts: one error for the step, counting the rest.
	for i := 1; i < 2; i++ {
		in := *w.st.Steps[fmt.Sprintf(`step.brick["server[%d]"]`, i)]
		in.Step = "module.data.step.format"
		w.st.Steps[fmt.Sprintf(`module.data.step.format["server[%d]"]`, i)] = &in
	}
	_, diags = l.Plan(t.Context(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test"})
	if errs := diags.Errs(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "The same holds for 1 more instance(s) of step.brick.") {
		t.Errorf("want one error for the step's two instances, got %v", diags)
	}
}

// TestModuleGraphDOTGolden: module steps are drawn in one cluster per
// module instance (testdata/graph/modules.dot; -update rewrites it).
func TestModuleGraphDOTGolden(t *testing.T) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(modRecipe)}, "r/mods/greet/main.hcl": {Data: []byte(greetModule)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var got bytes.Buffer
	if err := l.StepGraph.DOT(&got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`subgraph "cluster_module.a"`, `"module.a.step.prep" -> "module.a.step.say"`, `"step.prep" -> "module.a.step.prep"`, `"module.a.step.say" -> "module.b.step.prep"`} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("graph lacks %s:\n%s", want, got.String())
		}
	}
	path := filepath.Join("testdata", "graph", "modules.dot")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make it with -update)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("graph differs from %s:\n%s", path, got.String())
	}
}

const nestedRecipe = `
recipe "n" {}
hosts "server" { count = 3 }
module "outer" {
  source = "./mods/outer"
  on     = hosts.server
  leader = hosts.server[0]
}
step "after_all" {
  on    = hosts.server[2]
  run   = "echo ${module.outer.id}"
}
`

const outerModule = `
variable "leader" {}
module "inner" {
  source = "../inner"
  who    = var.leader.name
}
step "lead" {
  on    = var.leader
  after = [module.inner]
  run   = "echo lead"
  capture { id = "echo id" }
}
output "id" { value = step.lead.outputs.id }
`

const innerModule = `
variable "who" { type = string }
step "everywhere" {
  run = "echo ${var.who} on ${host.name}"
}
`

// Nested modules: the inner call inherits the outer call's on, the outer
// module runs a step on the host its input names, its output reads that
// step's capture, and a root step reading the output waits for it.
func TestNestedModules(t *testing.T) {
	w := newWorld(t, nestedRecipe)
	w.kinds = simKinds
	w.extra = map[string]string{"mods/outer/main.hcl": outerModule, "mods/inner/main.hcl": innerModule}
	p := w.plan()
	got := summary(p)
	for _, want := range []string{
		`module.outer.module.inner.step.everywhere["server[2]"]`,
		`module.outer.step.lead["server[0]"]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `module.outer.step.lead["server[1]"]`) {
		t.Errorf("on = var.leader ran on more than the leader:\n%s", got)
	}
	g := p.Loaded.Graph
	deps := map[string]bool{}
	for v := range g.Kind {
		for _, o := range g.Out(int32(v)) {
			deps[g.Addr(int32(v))+" -> "+g.Addr(o)] = true
		}
	}
	for _, e := range []string{
		`module.outer.step.lead (all) -> step.after_all["server[2]"]`,
		`module.outer.module.inner.step.everywhere (all) -> module.outer.step.lead["server[0]"]`,
	} {
		if !deps[e] {
			t.Errorf("graph lacks %s", e)
		}
	}
	if res := w.apply(p, 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	in := w.st.Steps[`module.outer.module.inner.step.everywhere["server[1]"]`]
	if in == nil {
		t.Fatalf("state lacks the inner step: %v", keysOf(w.st.Steps))
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("second plan:\n%s", summary(p))
	}
	// -replace of one module instance replans only that one.
	p = w.plan(func(o *engine.PlanOptions) { o.Replace = []string{`module.outer.step.lead["server[0]"]`} })
	if got := summary(p); !strings.Contains(got, `module.outer.step.lead["server[0]"]`) || strings.Contains(got, "everywhere") {
		t.Errorf("-replace of a module instance:\n%s", got)
	}
	// Destroy goes through modules too.
	p = w.plan(func(o *engine.PlanOptions) { o.Destroy = true })
	n := 0
	for _, c := range p.Destroys {
		if strings.HasPrefix(c.Addr, "module.") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("destroy plans %d module instances, want 4:\n%s", n, summary(p))
	}
	w.apply(p, 4)
	if len(w.st.Steps) != 0 {
		t.Errorf("state after destroy: %v", keysOf(w.st.Steps))
	}
}

// A module's address parses in every form the CLI takes.
func TestParseModuleAddress(t *testing.T) {
	for in, want := range map[string]string{
		`module.data`:                            "module module.data",
		`module.a.module.b`:                      "module module.a.module.b",
		`module.data.step.format`:                "step module.data.step.format",
		`module.data.step.format["server[0]"]`:   `step instance module.data.step.format["server[0]"]`,
		`module.a.module.b.step.x["client[12]"]`: `step instance module.a.module.b.step.x["client[12]"]`,
	} {
		a, err := engine.ParseAddress(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := a.Kind.String() + " " + a.String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{`module.`, `module.data.step`, `module.data[0]`, `module.data.step.x["server"]`, `module.1x.step.y`, `module.a.steps.x`} {
		if _, err := engine.ParseAddress(in); err == nil {
			t.Errorf("%s parsed", in)
		}
	}
}

// TestModuleTargetUnknownSuggests: a -target that matches nothing lists
// the module forms -target takes and suggests the nearest address, for
// plan (the recipe) and destroy (the state) alike.
func TestModuleTargetUnknownSuggests(t *testing.T) {
	w := modWorld(t)
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(w.src)}, "r/mods/greet/main.hcl": {Data: []byte(greetModule)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, w.kinds)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	plan := func(destroy bool, target string) string {
		_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test", Destroy: destroy,
			Targets:  []string{target},
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		if !diags.HasErrors() {
			t.Fatalf("-target %s: no error", target)
		}
		return diags.Error()
	}
	for _, c := range []struct{ target, want string }{
		{"module.aa", "Did you mean module.a?"},
		{`module.data.step.formt["server[1]"]`, `Did you mean module.data.step.format["server[1]"]?`},
	} {
		if got := plan(false, c.target); !strings.Contains(got, "module.NAME, module.NAME.step.NAME") || !strings.Contains(got, c.want) {
			t.Errorf("plan -target %s: %s", c.target, got)
		}
	}
	w.apply(w.plan(), 4)
	if got := plan(true, "module.dat"); !strings.Contains(got, "module.NAME, module.NAME.step.NAME") || !strings.Contains(got, "Did you mean module.data?") {
		t.Errorf("destroy -target module.dat: %s", got)
	}
}

// TestModuleTargetIncompleteAddress: an address cut short after a module
// (module.data.step, the step's name missing, or module.data.module) is no
// module's address and names nothing: -target refuses it at plan, and
// destroy -target refuses it instead of destroying every step of
// module.data (it matched as a prefix of module.data.step.format).
func TestModuleTargetIncompleteAddress(t *testing.T) {
	w := modWorld(t)
	w.apply(w.plan(), 4)
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(w.src)}, "r/mods/greet/main.hcl": {Data: []byte(greetModule)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, w.kinds)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, target := range []string{"module.data.step", "module.data.module", "module.a.step"} {
		for _, destroy := range []bool{false, true} {
			p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test", Destroy: destroy,
				Targets:  []string{target},
				Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), "Unknown target") {
				n := 0
				if p != nil {
					n = len(p.Destroys)
				}
				t.Errorf("destroy=%v -target %s: no error (%d destroys planned): %v", destroy, target, n, diags)
			} else if target == "module.data.step" && !strings.Contains(diags.Error(), "The step's name is missing: module.data.step.NAME names one step of the module (module.data.step.format, module.data.step.mount, module.data.step.packages), module.data every step under it.") {
				t.Errorf("destroy=%v -target %s: no hint: %v", destroy, target, diags)
			}
		}
	}
	// The module itself still takes every step under it.
	if !engine.TargetsStep("module.data", "module.data.step.format") || !engine.TargetsStep("module.a", "module.a.module.b.step.x") ||
		engine.TargetsStep("module.data.step", "module.data.step.format") || engine.TargetsStep("module.a.module", "module.a.module.b.step.x") {
		t.Error("TargetsStep matches a cut-short module address, or not a module")
	}
}

// TestModuleReplaceUnknownSuggests: -replace of a whole module names its
// instances (it takes one at a time), and a misspelt instance is answered
// with the nearest.
func TestModuleReplaceUnknownSuggests(t *testing.T) {
	w := modWorld(t)
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(w.src)}, "r/mods/greet/main.hcl": {Data: []byte(greetModule)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, w.kinds)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, c := range []struct{ replace, want string }{
		{"module.data", `-replace "module.data" names a whole step or module; -replace re-runs one step instance (or replaces one host) at a time, so name each of its instances (module.data.step.format["server[0]"], `},
		{`module.data.step.formt["server[1]"]`, `Did you mean module.data.step.format["server[1]"]?`},
	} {
		_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test", Replace: []string{c.replace},
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("-replace %s: %v\nwant %q", c.replace, diags, c.want)
		}
		if c.replace == "module.data" && (strings.Contains(diags.Error(), "names no host") || strings.Contains(diags.Error(), "Unknown replace address")) {
			t.Errorf("-replace of a module that exists says it names nothing: %v", diags)
		}
	}
}

// A module call turned off by lifecycle enabled after an apply destroys
// its instances, and only them (their recorded destroy runs, as for a step
// removed from the recipe); turned on again, they are created anew. The
// rest of the recipe stays a no-op throughout.
func TestModuleEnabledOffDestroysItsInstances(t *testing.T) {
	src := strings.Replace(modRecipe, `  who    = "b"
  token  = "t"
  after  = [module.a]
`, `  who    = "b"
  token  = "t"
  after  = [module.a]
  lifecycle {
    enabled = var.b
  }
`, 1) + `
variable "b" {
  type    = bool
  default = true
}
`
	w := modWorld(t)
	w.src = src
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	if w.st.Steps[`module.b.step.say["client[0]"]`] == nil {
		t.Fatalf("module.b not applied: %v", keysOf(w.st.Steps))
	}

	w.vars = []string{"b=false"}
	p := w.plan()
	var destroyed []string
	for _, c := range p.Destroys {
		destroyed = append(destroyed, c.Addr)
	}
	// Reverse order: say waits for prep, so it goes first.
	if got := strings.Join(destroyed, " "); got != `module.b.step.say["client[0]"] module.b.step.prep["client[0]"]` || len(p.Changes) != 0 {
		t.Fatalf("b=false plans:\n%s", summary(p))
	}
	// The reason names the call and its condition, not "no longer in the
	// recipe": the call is still there.
	for _, c := range p.Destroys {
		if want := "module.b is turned off: lifecycle enabled is false at r/main.hcl:29"; c.Reason != want {
			t.Errorf("%s: reason %q, want %q", c.Addr, c.Reason, want)
		}
	}
	if res := w.apply(p, 4); len(res.Failures) > 0 {
		t.Fatalf("apply b=false: %+v", res.Failures)
	}
	for addr := range w.st.Steps {
		if strings.HasPrefix(addr, "module.b.") {
			t.Errorf("%s still in state after the module was turned off", addr)
		}
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("second plan with b=false:\n%s", summary(p))
	}
	l := w.load()
	for _, target := range []string{"module.b", `module.b.step.say["client[0]"]`} {
		_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
			Targets:  []string{target},
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		if len(diags) != 1 || diags[0].Summary != "Target turned off" || !strings.Contains(diags[0].Detail, "lifecycle enabled is false at r/main.hcl:29") {
			t.Errorf("-target %s of a module that is off: %s", target, diags.Error())
		}
	}

	w.vars = nil
	p = w.plan()
	if s := summary(p); strings.Count(s, "module.b.step.") != 2 || strings.Count(s, "\n") != 2 || len(p.Destroys) != 0 {
		t.Errorf("b=true again plans:\n%s", s)
	}
}
