package recipes

import (
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/internal/shell"
	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

// holesIn runs the analysis (shellflow_test.go) over fsys.
func holesIn(t *testing.T, fsys fs.FS) ([]Hole, *flow) {
	t.Helper()
	f, err := loadFlow(fsys)
	if err != nil {
		t.Fatal(err)
	}
	f.run(func(name string) []byte {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	keys := slices.Sorted(maps.Keys(f.holes))
	out := make([]Hole, len(keys))
	for i, k := range keys {
		out[i] = f.holes[k]
	}
	return out, f
}

// allHCL is every built-in recipe and module file at its path under
// recipes/: FS() holds the recipes and their own modules, Modules() the
// standard library (modules/NAME).
func allHCL(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	for _, src := range []fs.FS{files, modules} {
		err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(src, name)
			out[name] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestUserValuesQuotedInCommands: nothing a user types becomes shell code
// unless the recipe says so. Every value that reaches a place a shell
// (or systemd) reads in a built-in recipe or module — a variable, through
// locals, module inputs and outputs; a capture; a host fact — is inside
// shellquote(...) there, or its variable's declaration holds it to
// characters no shell reads specially (shell.Quote's plain set, less the
// % systemd expands).
func TestUserValuesQuotedInCommands(t *testing.T) {
	holes, f := holesIn(t, allHCL(t))
	for _, h := range holes {
		t.Error(h)
	}
	if f.Sinks < 60 || f.Refs < 300 {
		t.Fatalf("only %d commands and %d references analysed: the walk is broken", f.Sinks, f.Refs)
	}
	t.Logf("%d shell-read expressions, %d references followed; variables that reach them held by their declarations:\n%s",
		f.Sinks, f.Refs, strings.Join(slices.Sorted(maps.Keys(f.held)), "\n"))
}

// TestExampleRecipesQuoteUserValues: the recipes in examples/, which users
// copy to write their own, hold the same rule (with the standard library
// modules they call).
func TestExampleRecipesQuoteUserValues(t *testing.T) {
	all := fstest.MapFS{}
	ex := os.DirFS("../examples/recipes")
	for _, src := range []fs.FS{ex, modules} {
		err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(name, ".hcl") {
				return err
			}
			b, err := fs.ReadFile(src, name)
			all[name] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	holes, f := holesIn(t, all)
	for _, h := range holes {
		t.Errorf("examples/recipes/%s", h)
	}
	if f.Sinks < 20 {
		t.Fatalf("only %d commands analysed in examples/recipes: the walk is broken", f.Sinks)
	}
}

// TestShellFlowFindsHoles is the oracle for the analysis: each hole in
// this little recipe and its module is found, and nothing held or quoted
// is.
func TestShellFlowFindsHoles(t *testing.T) {
	fsys := fstest.MapFS{
		"r/main.hcl": {Data: []byte(`
variable "free"    { type = string }
variable "opts" {
  type = string
  pattern = "[a-z0-9,=]+"
}
variable "loose" {
  type = string
  pattern = "[a-z ;]+"
}
variable "dotted" {
  type = string
  pattern = "a.b"
}
variable "path" {
  type = string
  format = "absolute_path"
}
variable "url" {
  type = string
  format = "url"
}
variable "mode" {
  type = string
  one_of = ["a", "b"]
}
variable "n"       { type = number }
variable "list" {
  type = list(string)
  pattern = "[a-z]+"
}
variable "vcheck"  {
  type = string
  validation {
    condition     = length(var.vcheck) > 0 && contains(["x", "y"], var.vcheck)
    error_message = "x or y"
  }
}
variable "name"    { type = string }
variable "obj"     { type = object({ s = string, b = bool }) }

locals {
  joined = "echo ${var.free}"
  picked = var.mode == "a" ? var.n : 2
  parts  = { cmd = var.free, safe = var.path }
}

step "a" {
  run     = "mount -o ${var.opts} ${var.path} ${var.mode} ${var.n} ${join(" ", var.list)} ${var.vcheck}"
  unless  = "test ${var.loose}"
  destroy = "rm ${var.dotted}; ${shellquote(var.free)} ${local.picked} ${local.parts.safe}"
  creates = "/x/${var.free}"
  capture { k = "cat ${var.url}" }
}

step "b" {
  run = local.joined
  wait { command = "ls ${local.parts.cmd}" }
  file {
    path    = "/etc/systemd/system/x.service"
    content = "ExecStart=/bin/x ${var.obj.s} ${var.obj.b}"
  }
}

step "c" {
  file {
    path    = "/etc/x.conf"
    content = "not run: ${var.free}"
  }
  run = "%{ for x in var.list }${x} %{ endfor }${step.a.outputs.k} ${shellquote(step.a.outputs.k)}"
}

step "d" {
  run = "echo ${host.name} ${host.private_ip} ${host.facts.os.family} ${hosts.server[0].hostname} ${join(" ", hosts.server[*].private_ip)} ${join(" ", [for h in hosts.server : h.volume.x.device])}"
  unless = "%{ for h in hosts.server }${h.name}%{ endfor }"
}

verify "v" {
  failover {
    on    = []
    stop  = "systemctl stop ${module.m.unit}"
    start = "true"
  }
}

module "m" {
  source = "./mod"
  name   = var.name
  held   = var.free
  cmd    = "echo ${var.free}"
}
`)},
		"r/mod/main.hcl": {Data: []byte(`
module_info { description = "m" }
variable "name" { type = string }
variable "held" {
  type = string
  pattern = "[a-z]+"
}
variable "cmd" {
  type = string
  default = "true"
}
variable "def" {
  type = string
  default = "x"
}
step "s" {
  run = "systemctl start ${var.name} ${var.held} ${var.def}; ${var.cmd}"
}
output "unit" { value = "${var.name}.service" }
`)},
	}
	holes, _ := holesIn(t, fsys)
	var got []string
	for _, h := range holes {
		got = append(got, h.What+" -> "+strings.Fields(h.Sink)[0]+" "+strings.Fields(h.Sink)[1])
	}
	sort.Strings(got)
	want := []string{
		`step.a.outputs.k -> step "c"`,
		`host.facts.os.family -> step "d"`,
		`host.name -> step "d"`,
		`hosts.server[*].name -> step "d"`,
		`var.dotted (a value a user sets) -> step "a"`,
		`var.free (a value a user sets) -> step "b"`,  // local.joined; local.parts.cmd in the wait
		`var.free (a value a user sets) -> step "s"`,  // module input cmd
		`var.loose (a value a user sets) -> step "a"`, // pattern allows ; and space
		`var.name (a value a user sets) -> step "s"`,  // module input name
		`var.name (a value a user sets) -> verify "v"`,
		`var.obj.s (a value a user sets) -> step "b"`, // a unit's ExecStart
		`var.url (a value a user sets) -> step "a"`,   // format url allows $ ; |
	}
	// var.free reaches step "b" twice (run, wait): one line per reference.
	want = append(want, `var.free (a value a user sets) -> step "b"`)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("holes found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		for _, h := range holes {
			t.Log(h)
		}
	}
}

// TestSafeFormatsAreShellSafe: the formats the analysis counts as holding
// a value to plain characters refuse hostile values, and every format lang
// knows is classified.
func TestSafeFormatsAreShellSafe(t *testing.T) {
	for r := rune(0); r < 256; r++ {
		if shellSafe(string(r)) && shell.Quote(string(r)) != string(r) {
			t.Errorf("the analysis counts %q as plain, and shell.Quote quotes it", r)
		}
	}
	for _, name := range lang.FormatNames() {
		safe, known := safeFormats[name]
		if !known {
			t.Errorf("format %q is new: classify it in safeFormats (is every value it accepts made of quoteSafe characters?)", name)
			continue
		}
		c := lang.Constraints{Format: name}
		for _, v := range []string{"a;b", "/a b", "$(id)", "`id`", "a|b", "a&b", "a'b", "fe80::1%$(id)", "10.0.0.0/8;id", "http://h/$(id)", "/a%h", "a%i"} {
			msg := c.Check("var.x", cty.StringVal(v))
			if msg == "" && safe && !shellSafe(v) {
				t.Errorf("format %q accepts %q, which a shell reads as more than a word", name, v)
			}
		}
	}
}
