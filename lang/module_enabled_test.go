package lang_test

import (
	"fmt"
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

// enabledRecipe is a recipe whose optional package repository is a
// module call turned off by lifecycle enabled when var.repo is null (as
// the glusterfs recipe's), beside a local module that nests another and
// carries a verify block, and a step after both.
func enabledRecipe(extra string) fstest.MapFS {
	return fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" { count = 2 }
variable "repo" {
  type    = any
  default = null
}
variable "wrap" {
  type    = bool
  default = false
}
locals {
  wrapped = var.wrap && true
}
module "repo" {
  source = "builtin/package-repo"
  hosts  = hosts.server
  name   = var.repo.name
  uris   = var.repo.uris
  suites = var.repo.suites
  key    = var.repo.key
  lifecycle {
    enabled = var.repo != null
  }
}
module "outer" {
  source = "./outer"
  on      = hosts.server
  clients = hosts.server
  word    = "w"
  lifecycle {
    enabled = local.wrapped
  }
}
step "pkgs" {
  on      = hosts.server
  after   = [module.repo, module.outer]
  package = ["x"]
}
output "said" { value = try(module.outer.said, "off") }
output "gone" { value = module.outer == null }
output "cond" { value = var.wrap ? module.outer.said : "off" }
` + extra)},
		"outer/main.hcl": {Data: []byte(`
variable "word" { type = string }
variable "clients" { type = any }
step "own" { run = "echo ${var.word}" }
module "inner" {
  source  = "../inner"
  clients = var.clients
  path    = "/mnt/${var.word}"
}
output "said" { value = "said ${var.word}" }
`)},
		"inner/main.hcl": {Data: []byte(`
variable "path" {
  type = string
  validation {
    condition     = substr(var.path, 0, 1) == "/"
    error_message = "path is absolute."
  }
}
variable "clients" { type = any }
step "deep" { run = "ls ${var.path}" }
verify "look" {
  on   = var.clients
  path = var.path
}
`)},
	}
}

func loadEnabled(t *testing.T, fsys fstest.MapFS, vars map[string]string) (*engine.Loaded, hcl.Diagnostics) {
	t.Helper()
	var in lang.Inputs
	for k, v := range vars {
		in.Vars = append(in.Vars, k+"="+v)
	}
	return engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "t", Modules: recipes.Modules()}, in, builtin.Kinds())
}

func instancesOf(l *engine.Loaded) map[string]int {
	out := map[string]int{}
	for s, stp := range l.Graph.Steps {
		out[stp.Name] = len(l.Graph.StepHosts[s])
	}
	return out
}

// A call whose lifecycle enabled is false has no instances, nested calls
// included; its inputs (null fields of a null variable, which would be
// errors) are not evaluated; module.NAME is null to the caller. Turned
// on, the same inputs are evaluated and checked.
func TestModuleEnabled(t *testing.T) {
	l, diags := loadEnabled(t, enabledRecipe(""), nil)
	if diags.HasErrors() {
		t.Fatalf("everything off:%s", diagString(diags))
	}
	got := instancesOf(l)
	for name, n := range got {
		want := 0
		if name == "pkgs" {
			want = 2
		}
		if n != want {
			t.Errorf("%s: %d instances, want %d", name, n, want)
		}
	}
	for _, name := range []string{"module.repo.step.key", "module.outer.step.own", "module.outer.module.inner.step.deep"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s is not in the graph (a module that is off still declares its steps): %v", name, got)
		}
	}
	s := scopeOf(t, l)
	if !s.Off(l.Recipe.Step("module.outer.module.inner.step.deep").Module) {
		t.Error("a module inside a call that is off is not off")
	}
	for name, want := range map[string]cty.Value{"said": cty.StringVal("off"), "gone": cty.True, "cond": cty.StringVal("off")} {
		v, d := outputNamed(t, l, name).Value.Value(s.Ctx(cty.NilVal))
		if d.HasErrors() || !v.RawEquals(want) {
			t.Errorf("output %s = %#v %s, want %#v", name, v, diagString(d), want)
		}
	}
	for _, v := range l.Recipe.Verifies {
		if on, d := s.VerifyEnabled(v); on || d.HasErrors() {
			t.Errorf("%s: enabled %v %s, want off", v.Name, on, diagString(d))
		}
	}

	// On: the module's steps have instances, nested ones too.
	l, diags = loadEnabled(t, enabledRecipe(""), map[string]string{"wrap": "true"})
	if diags.HasErrors() {
		t.Fatalf("outer on:%s", diagString(diags))
	}
	got = instancesOf(l)
	if got["module.outer.step.own"] != 2 || got["module.outer.module.inner.step.deep"] != 2 || got["module.repo.step.key"] != 0 {
		t.Errorf("outer on: %v", got)
	}
	s = scopeOf(t, l)
	if v, _ := outputNamed(t, l, "said").Value.Value(s.Ctx(cty.NilVal)); !v.RawEquals(cty.StringVal("said w")) {
		t.Errorf("outer on: said = %#v", v)
	}

	// On with a repository: its inputs are read and validated.
	_, diags = loadEnabled(t, enabledRecipe(""), map[string]string{"repo": `{name = "x", uris = ["https://a.example/deb"], suites = ["bookworm"], key = "not a key"}`})
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Invalid value for module input" || !strings.Contains(errs[0].Detail, "armored OpenPGP public key") {
		t.Errorf("a bad key of a module that is on:%s", diagString(diags))
	}
}

// Without lifecycle enabled the same null inputs are errors at the call:
// enabled is what keeps them from being read.
func TestModuleEnabledGuardsInputs(t *testing.T) {
	fsys := enabledRecipe("")
	src := string(fsys["main.hcl"].Data)
	fsys["main.hcl"] = &fstest.MapFile{Data: []byte(strings.Replace(src, "    enabled = var.repo != null\n", "    enabled = true\n", 1))}
	_, diags := loadEnabled(t, fsys, nil)
	if errs := errorsOf(diags); len(errs) != 4 || errs[0].Summary != "Attempt to get attribute from null value" || errs[0].Subject.Start.Line != 17 {
		t.Errorf("null repository with the module on:%s", diagString(diags))
	}
}

// An output of the recipe that reads a module that is off, without try,
// is an error naming the null value (OpenTofu's behaviour), found by
// validate: not an unknown value that would stay "known after apply".
func TestModuleEnabledOffOutputIsNull(t *testing.T) {
	fsys := enabledRecipe(`output "bare" { value = module.outer.said }`)
	line := strings.Count(string(fsys["main.hcl"].Data), "\n") + 1 // the output is the last line
	_, diags := loadEnabled(t, fsys, nil)
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Attempt to get attribute from null value" || errs[0].Subject.Start.Line != line {
		t.Errorf("reading an output of a module that is off:%s", diagString(diags))
	} else if want := "module.outer is null because the call is turned off"; !strings.Contains(errs[0].Detail, want) ||
		!strings.Contains(errs[0].Detail, "try(module.outer.said, DEFAULT)") {
		t.Errorf("the error does not say the call is off and what to write (want %q and the try):%s", want, diagString(diags))
	}
	if _, diags := loadEnabled(t, enabledRecipe(`output "bare" { value = module.outer.said }`), map[string]string{"wrap": "true"}); diags.HasErrors() {
		t.Errorf("the same output with the module on:%s", diagString(diags))
	}
}

func scopeOf(t *testing.T, l *engine.Loaded) *lang.Scope {
	t.Helper()
	s := &lang.Scope{Recipe: l.Recipe, Vars: l.Vars}
	if d := s.EvalLocals(); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	return s
}

func outputNamed(t *testing.T, l *engine.Loaded, name string) *lang.Output {
	t.Helper()
	for _, o := range l.Recipe.Outputs {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no output %q", name)
	return nil
}

// enabled may read another module's output that reads only variables.
func TestModuleEnabledReadsModuleOutput(t *testing.T) {
	fsys := enabledRecipe(`module "flag" {
  source = "./flag"
  on     = hosts.server
  v      = var.wrap
}`)
	src := string(fsys["main.hcl"].Data)
	fsys["main.hcl"] = &fstest.MapFile{Data: []byte(strings.Replace(src, "enabled = local.wrapped", "enabled = module.flag.on", 1))}
	fsys["flag/main.hcl"] = &fstest.MapFile{Data: []byte(`
variable "v" { type = bool }
output "on" { value = !var.v }
`)}
	l, diags := loadEnabled(t, fsys, nil)
	if diags.HasErrors() {
		t.Fatalf("load:%s", diagString(diags))
	}
	if got := instancesOf(l); got["module.outer.step.own"] != 2 {
		t.Errorf("enabled from a module output (true): %v", got)
	}
	l, _ = loadEnabled(t, fsys, map[string]string{"wrap": "true"})
	if got := instancesOf(l); got["module.outer.step.own"] != 0 {
		t.Errorf("enabled from a module output (false): %v", got)
	}
}

// A call inside a call that is off is off because of the outer one, even
// when its own lifecycle enabled is true: the reason given (graph, plan,
// validate) names the outer call's condition, not the inner one's.
func TestModuleEnabledNestedOffNamesOuter(t *testing.T) {
	fsys := enabledRecipe("")
	src := string(fsys["outer/main.hcl"].Data)
	fsys["outer/main.hcl"] = &fstest.MapFile{Data: []byte(strings.Replace(src, "  path    = \"/mnt/${var.word}\"\n",
		"  path    = \"/mnt/${var.word}\"\n  lifecycle {\n    enabled = true\n  }\n", 1))}
	l, diags := loadEnabled(t, fsys, nil)
	if diags.HasErrors() {
		t.Fatalf("load:%s", diagString(diags))
	}
	inner := l.Recipe.Step("module.outer.module.inner.step.deep").Module
	if l.Off[inner.Addr] == nil || l.OffCause(inner) != inner.Parent {
		t.Fatalf("inner off %v, cause %v", l.Off[inner.Addr] != nil, l.OffCause(inner).Addr)
	}
	main := string(fsys["main.hcl"].Data)
	line := strings.Count(main[:strings.Index(main, "enabled = local.wrapped")], "\n") + 1
	want := fmt.Sprintf("module.outer's lifecycle enabled is false at t/main.hcl:%d", line)
	if got := l.OffWhy(inner); got != want {
		t.Errorf("why the inner call is off: %q, want %q", got, want)
	}
	if got, want := l.OffWhy(inner.Parent), fmt.Sprintf("lifecycle enabled is false at t/main.hcl:%d", line); got != want {
		t.Errorf("why the outer call is off: %q, want %q", got, want)
	}
}

// TestModuleEnabledNamesGivenValue: a call's lifecycle enabled that is not
// a bool because of a value given from outside the recipe (-var) says
// where that value came from: the mistake is there, not in the recipe.
func TestModuleEnabledNamesGivenValue(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" {}
variable "mode" {
  type    = any
  default = true
}
module "a" {
  source = "./m"
  on     = hosts.server
  lifecycle {
    enabled = var.mode
  }
}
`)},
		"m/main.hcl": {Data: []byte("step \"s\" { run = \"true\" }\n")},
	}
	if _, diags := loadEnabled(t, fsys, nil); diags.HasErrors() {
		t.Fatalf("the default:%s", diagString(diags))
	}
	_, diags := loadEnabled(t, fsys, map[string]string{"mode": "yes"})
	got := diagString(diags)
	if !strings.Contains(got, "Invalid module enabled") || !strings.Contains(got, "var.mode is given with -var") {
		t.Fatalf("enabled from a -var value that is not a bool:%s\nwant the error to say var.mode is given with -var", got)
	}
}
