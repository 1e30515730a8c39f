package lang_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/internal/shell"
	"diffuser/lang"
	"diffuser/recipes"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// shellWarnings loads fsys (a recipe in r/, the built-in modules beside)
// and returns its shell-flow warnings, failing on any error.
func shellWarnings(t *testing.T, fsys fstest.MapFS) hcl.Diagnostics {
	t.Helper()
	w, _ := shellFlow(t, fsys)
	return w
}

// shellFlow is shellWarnings with the recipe's whole analysis.
func shellFlow(t *testing.T, fsys fstest.MapFS) (hcl.Diagnostics, *lang.ShellFlow) {
	t.Helper()
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, testKinds())
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Summary == "Unquoted value in a shell command" {
			if d.Severity != hcl.DiagWarning {
				t.Errorf("%s is not a warning", d.Summary)
			}
			out = append(out, d)
		} else {
			t.Errorf("unexpected diagnostic:%s", diagString(hcl.Diagnostics{d}))
		}
	}
	if len(out) != len(r.ShellFlow().Warnings) {
		t.Errorf("Load returned %d warnings, ShellFlow holds %d", len(out), len(r.ShellFlow().Warnings))
	}
	return out, r.ShellFlow()
}

// recipeFS is a recipe main.hcl (with a recipe block and a host group
// server added) and its other files, by path under r/.
func recipeFS(main string, more ...string) fstest.MapFS {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte("recipe \"t\" {}\nhosts \"server\" {\n  count = 2\n  volume \"x\" { size_gb = 1 }\n}\n" + main)}}
	for i := 0; i+1 < len(more); i += 2 {
		fsys["r/"+more[i]] = &fstest.MapFile{Data: []byte(more[i+1])}
	}
	return fsys
}

// lineOf is the line (from 1) of the first line of the recipe
// recipeFS makes from main that contains s.
func lineOf(t *testing.T, fsys fstest.MapFS, file, s string) int {
	t.Helper()
	for i, l := range strings.Split(string(fsys[file].Data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, s)
	return 0
}

// TestShellFlowWarning: a free string variable in a run command is one
// warning at the reference, naming the variable, where it is declared,
// the command, and what to do.
func TestShellFlowWarning(t *testing.T) {
	fsys := recipeFS(`
variable "name" {
  type        = string
  description = "a user name"
}

step "user" {
  on     = hosts.server
  run    = "useradd ${var.name} && echo ${var.name} >> /etc/users"
  unless = "id ${var.name}"
}
`)
	got := shellWarnings(t, fsys)
	if len(got) != 2 {
		t.Fatalf("want one warning for run and one for unless, got:%s", diagString(got))
	}
	decl := lineOf(t, fsys, "r/main.hcl", `variable "name"`)
	run := lineOf(t, fsys, "r/main.hcl", "useradd")
	d := got[0]
	want := hcl.Range{Filename: "r/main.hcl", Start: hcl.Pos{Line: run, Column: 23}, End: hcl.Pos{Line: run, Column: 31}}
	if d.Subject == nil || d.Subject.Filename != want.Filename || d.Subject.Start.Line != want.Start.Line ||
		d.Subject.Start.Column != want.Start.Column || d.Subject.End.Column != want.End.Column {
		t.Errorf("subject %v, want the first var.name of the run command, %s:%d,%d-%d", d.Subject, want.Filename, run, want.Start.Column, want.End.Column)
	}
	for _, s := range []string{
		fmt.Sprintf("var.name (a string any -var can set, declared at r/main.hcl:%d)", decl),
		"into the run command of step.user:",
		"shellquote(var.name)",
		`pattern = "[a-zA-Z0-9_.-]+"`, "one_of", "contains([...], var.name)",
		"it has no pattern, one_of, plain format or number type",
	} {
		if !strings.Contains(d.Detail, s) {
			t.Errorf("detail lacks %q:\n%s", s, d.Detail)
		}
	}
	if !strings.Contains(got[1].Detail, "into the unless guard of step.user") || got[1].Subject.Start.Line != run+1 {
		t.Errorf("second warning is not unless's:%s", diagString(got[1:]))
	}
}

// TestShellFlowModuleInput: a free variable passed into a module input
// that reaches a command is found through the call: at the module's
// command for a module of the recipe's own, naming the call's input; at
// the call's input for a built-in module, which the user cannot edit.
func TestShellFlowModuleInput(t *testing.T) {
	fsys := recipeFS(`
variable "unit" { type = string }
variable "opts" { type = string }

module "svc" {
  source = "./svc"
  on     = hosts.server
  unit   = "${var.unit}.service"
  label  = var.unit
}

module "sd" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  name    = "x"
  content = "[Service]\nExecStart=/usr/bin/x ${var.opts}\n"
}
`, "svc/main.hcl", `module_info { description = "svc" }
variable "unit" { type = string }
variable "label" {
  type    = string
  pattern = "[a-z]+"
}
step "start" {
  run = "systemctl start ${var.unit} # ${var.label}"
}
`)
	got := shellWarnings(t, fsys)
	if len(got) != 2 {
		t.Fatalf("want 2 warnings, got:%s", diagString(got))
	}
	own, sd := got[0], got[1]
	if own.Subject.Filename != "r/svc/main.hcl" || own.Subject.Start.Line != 8 {
		t.Errorf("module step's warning at %v, want r/svc/main.hcl:8", own.Subject)
	}
	call := lineOf(t, fsys, "r/main.hcl", `unit   = "${var.unit}.service"`)
	for _, s := range []string{
		"var.unit (a string any -var can set, declared at r/main.hcl:",
		"into the run command of module.svc.step.start",
		fmt.Sprintf("through module.svc input unit (r/main.hcl:%d)", call),
		"(In module.svc, called at r/main.hcl:",
	} {
		if !strings.Contains(own.Detail, s) {
			t.Errorf("detail lacks %q:\n%s", s, own.Detail)
		}
	}
	content := lineOf(t, fsys, "r/main.hcl", "ExecStart")
	if sd.Subject.Filename != "r/main.hcl" || sd.Subject.Start.Line != content || !strings.Contains(sd.Detail, "var.opts (a string") {
		t.Errorf("built-in module's warning at %v, want var.opts at r/main.hcl:%d:%s", sd.Subject, content, diagString(got[1:]))
	}
	for _, s := range []string{"the systemd unit that module.sd.step.", "(builtin/systemd-unit/main.hcl:", "systemd expands $ and %"} {
		if !strings.Contains(sd.Detail, s) {
			t.Errorf("detail lacks %q:\n%s", s, sd.Detail)
		}
	}
	if strings.Contains(sd.Detail, "(In module.sd") {
		t.Errorf("a warning at the call's own input names the call again:\n%s", sd.Detail)
	}
}

// TestShellFlowHeldAndQuoted: no warning for what is quoted, or held by
// its declaration (in a module too), for shell variables ($${VAR}) and
// heredoc text, for the arguments diffuser quotes itself, or for
// addresses, devices and host names (a glob, but no user's value).
func TestShellFlowHeldAndQuoted(t *testing.T) {
	fsys := recipeFS(`
variable "free"  { type = string }
variable "n"     { type = number }
variable "on"    { type = bool }
variable "ports" { type = list(number) }
variable "opts" {
  type    = string
  pattern = "[a-z0-9,=]+"
}
variable "path" {
  type   = string
  format = "absolute_path"
}
variable "mode" {
  type   = string
  one_of = ["fuse", "kernel"]
}
variable "names" {
  type    = list(string)
  pattern = "[a-z]+"
}
variable "vcheck" {
  type = string
  validation {
    condition     = length(var.vcheck) > 0 && contains(["x", "y"], var.vcheck)
    error_message = "x or y"
  }
}
variable "vregex" {
  type = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.vregex))
    error_message = "a name"
  }
}
variable "obj" { type = object({ n = number, s = string }) }

locals {
  picked = var.mode == "fuse" ? var.n : 2
  parts  = { safe = var.path, cmd = var.free }
}

step "a" {
  on      = hosts.server
  run     = "mount -o ${var.opts} ${var.path} ${var.mode} ${var.n} ${var.on} ${join(" ", var.ports)} ${join(" ", var.names)} ${var.vcheck} ${var.vregex} ${var.obj.n}"
  unless  = "test -e ${shellquote(var.free)} && ${local.picked} ${local.parts.safe} ${length(var.free)} ${sha256(var.free)} ${base64encode(var.free)} ${cidrhost(var.free, 1)}"
  creates = "/x/${var.free}"
  env     = { X = var.free }
  capture {
    k = "echo ${host.private_ip} ${host.volume.x.device} ${host.hostname} ${host.index} ${host.name} ${join(" ", hosts.server[*].private_ip)}"
  }
}

step "b" {
  on = hosts.server
  run = <<-EOT
    for f in /etc/*.conf; do echo "$${f}" $HOME $(id -u) '${shellquote(var.free)}'; done
    echo "%%{ not a directive }" ${shellquote(step.a.outputs.k)} ${shellquote(host.facts.os.id)}
  EOT
}

step "c" {
  on = hosts.server
  file {
    path    = "/etc/x.conf"
    content = "not run: ${var.free} ${step.a.outputs.k}"
  }
}

step "d" {
  on = hosts.server
  mount {
    source  = var.free
    target  = var.path
    fstype  = "nfs"
    options = var.free
  }
}

module "m" {
  source = "./mod"
  on     = hosts.server
  held   = var.free
}
`, "mod/main.hcl", `module_info { description = "m" }
variable "held" {
  type    = string
  pattern = "[a-z]+"
}
variable "def" {
  type    = string
  default = "x y"
}
step "s" {
  run = "echo ${var.held} ${var.def}"
}
`)
	if got := shellWarnings(t, fsys); len(got) != 0 {
		t.Errorf("want no warnings, got:%s", diagString(got))
	}
}

// TestShellFlowFindsHoles is the oracle for the analysis: each hole in
// this recipe and its module is found (once per source and command
// attribute), and nothing held or quoted is.
func TestShellFlowFindsHoles(t *testing.T) {
	fsys := recipeFS(`
variable "free" { type = string }
variable "loose" {
  type    = string
  pattern = "[a-z ;]+"
}
variable "dotted" {
  type    = string
  pattern = "a.b"
}
variable "folded" {
  type    = string
  pattern = "(?i)[a-z]k"
}
variable "url" {
  type   = string
  format = "url"
}
variable "quoted" {
  type   = string
  one_of = ["a", "b c"]
}
variable "vloose" {
  type = string
  validation {
    condition     = can(regex("[a-z]+", var.vloose))
    error_message = "unanchored: holds nothing"
  }
}
variable "secret" {
  type      = string
  sensitive = true
}
variable "name" { type = string }
variable "obj"  { type = object({ s = string, b = bool }) }
variable "list" { type = list(string) }

locals {
  joined = "echo ${var.free}"
  parts  = { cmd = var.free, safe = "x" }
}

step "a" {
  on      = hosts.server
  run     = "echo ${var.loose} ${var.loose} ${var.dotted} ${var.folded} ${var.quoted} ${var.vloose} ${var.secret}"
  unless  = "test ${var.loose}"
  destroy = "rm ${jsonencode({ (var.name) = 1 })}"
  capture { k = "cat ${var.url}" }
}

step "b" {
  on   = hosts.server
  run  = local.joined
}

step "b2" {
  on   = hosts.server
  wait { command = "ls ${local.parts.cmd}" }
}

step "unit" {
  on = hosts.server
  file {
    path    = "/etc/systemd/system/x.service"
    content = "ExecStart=/bin/x ${var.obj.s} ${var.obj.b}"
  }
}

step "script" {
  on = hosts.server
  file {
    path    = "/usr/local/lib/x.sh"
    mode    = "0755"
    content = "#!/bin/sh\n${var.free}\n"
  }
}

step "c" {
  on  = hosts.server
  run = "%{ for x in var.list }${x} %{ endfor }${step.a.outputs.k} ${shellquote(step.a.outputs.k)}"
}

step "d" {
  on     = hosts.server
  run    = "echo ${host.name} ${host.facts.os.family} ${join(" ", hosts.server[*].name)}"
  unless = "%{ for h in hosts.server }${h.name}%{ endfor }"
}

verify "v" {
  on   = hosts.server
  path = "/mnt"
  failover {
    on    = hosts.server[0]
    stop  = "systemctl stop ${module.m.unit}"
    start = "true"
  }
}

module "m" {
  source = "./mod"
  on     = hosts.server
  name   = var.name
  cmd    = "echo ${var.free}"
}
`, "mod/main.hcl", `module_info { description = "m" }
variable "name" { type = string }
variable "cmd" {
  type    = string
  default = "true"
}
step "s" {
  run = "systemctl start ${var.name}; ${var.cmd}"
}
output "unit" { value = "${var.name}.service" }
`)
	var got []string
	warnings, flow := shellFlow(t, fsys)
	for _, d := range warnings {
		what, _, _ := strings.Cut(d.Detail, " (")
		sink := regexp.MustCompile(`into (.*?)(:| \(|, through)`).FindStringSubmatch(d.Detail)
		if sink == nil {
			t.Errorf("no sink in %q", d.Detail)
			continue
		}
		got = append(got, fmt.Sprintf("%s -> %s @%s:%d", what, sink[1], d.Subject.Filename, d.Subject.Start.Line))
	}
	sort.Strings(got)
	at := func(file, s string) string { return fmt.Sprintf("@%s:%d", file, lineOf(t, fsys, file, s)) }
	want := []string{
		"var.loose -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"), // once, though read twice
		"var.dotted -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"),
		"var.folded -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"), // (?i)k matches the Kelvin sign
		"var.quoted -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"),
		"var.vloose -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"),
		"var.secret -> the run command of step.a " + at("r/main.hcl", "${var.loose} ${var.loose}"),
		"var.loose -> the unless guard of step.a " + at("r/main.hcl", "test ${var.loose}"),
		"var.name -> the destroy command of step.a " + at("r/main.hcl", "jsonencode"),
		"var.url -> the capture command k of step.a " + at("r/main.hcl", "cat ${var.url}"),
		"var.free -> the run command of step.b " + at("r/main.hcl", "run  = local.joined"),
		"var.free -> the wait command of step.b2 " + at("r/main.hcl", "local.parts.cmd"),
		"var.obj.s -> the content of the systemd unit that step.unit writes " + at("r/main.hcl", "ExecStart"),
		"var.free -> the content of the executed file that step.script writes " + at("r/main.hcl", `#!/bin/sh`),
		"var.list[*] -> the run command of step.c " + at("r/main.hcl", "for x in var.list"),
		"step.a.outputs.k -> the run command of step.c " + at("r/main.hcl", "for x in var.list"),
		"host.facts.os.family -> the run command of step.d " + at("r/main.hcl", "${host.name}"),
		"var.name -> the failover stop command of verify.v " + at("r/main.hcl", "systemctl stop"),
		"var.name -> the run command of module.m.step.s " + at("r/mod/main.hcl", "systemctl start"),
		"var.free -> the run command of module.m.step.s " + at("r/mod/main.hcl", "systemctl start"),
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// host.name is a glob to a shell, but no user's value: no warning,
	// and listed for the built-in recipes' test.
	got = nil
	for _, r := range flow.HostNames {
		got = append(got, fmt.Sprintf("%s:%d %s", r.Filename, r.Start.Line, fsys[r.Filename].Data[r.Start.Byte:r.End.Byte]))
	}
	run := lineOf(t, fsys, "r/main.hcl", "${host.name}")
	want = []string{fmt.Sprintf("r/main.hcl:%d host.name", run), fmt.Sprintf("r/main.hcl:%d hosts.server", run),
		fmt.Sprintf("r/main.hcl:%d hosts.server", run+1)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("host names:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestShellFlowFormatsAndPatterns: a declaration holds a variable to
// characters no shell reads specially only when every value it accepts
// is made of them: the analysis's verdicts, checked against shell.Quote.
func TestShellFlowFormatsAndPatterns(t *testing.T) {
	warns := func(decl string) bool {
		fsys := recipeFS("variable \"v\" {\n  type = string\n" + decl + "\n}\nstep \"s\" {\n  on  = hosts.server\n  run = \"echo ${var.v}\"\n}\n")
		return len(shellWarnings(t, fsys)) > 0
	}
	// A format the analysis counts as plain refuses every value a shell
	// reads as more than a word.
	for _, name := range lang.FormatNames() {
		plain := !warns(fmt.Sprintf("format = %q", name))
		c := lang.Constraints{Format: name}
		for _, v := range []string{"a;b", "/a b", "$(id)", "`id`", "a|b", "a&b", "a'b", "fe80::1%$(id)", "10.0.0.0/8;id", "http://h/$(id)", "/a%h", "a%i"} {
			if c.Check("var.v", cty.StringVal(v)) == "" && plain && shell.Quote(v) != v {
				t.Errorf("format %q counts as plain and accepts %q, which a shell reads as more than a word", name, v)
			}
		}
	}
	// A pattern holds a value only if every character it can match is
	// one shell.Quote leaves alone, and not %, which systemd expands.
	for r := rune(1); r < 256; r++ {
		held := !warns("pattern = " + hclString(regexp.QuoteMeta(string(r))))
		if held && (shell.Quote(string(r)) != string(r) || r == '%') {
			t.Errorf("pattern %q holds the value, and shell.Quote quotes it (or systemd expands it)", string(r))
		}
		if !held && shell.Quote(string(r)) == string(r) && r != '%' {
			t.Errorf("pattern %q warns, and the character is plain", string(r))
		}
	}
	for decl, held := range map[string]bool{
		`pattern = "[a-zA-Z0-9_.-]+"`:                    true,
		`pattern = "[a-z]+(,[a-z]+=[0-9]+)*"`:            true,
		`pattern = "[^;]+"`:                              false,
		`pattern = "\\S+"`:                               false,
		`pattern = "\\w+"`:                               true,
		`pattern = "(?i)[a-z]+"`:                         false, // and the Kelvin sign, U+212A
		`pattern = "[a-z:/.]+"` + "\n  format = \"url\"": true,  // every constraint must hold: one plain one is enough
	} {
		if got := !warns(decl); got != held {
			t.Errorf("%s: held %v, want %v", decl, got, held)
		}
	}
}

// hclString is s as an HCL string literal.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r >= 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String() + `"`
}

// TestShellFlowFollowsEachValueOnce: a value read twice by each of a
// chain of locals (and for expressions nested over each other) is
// followed once per name, not once per way to it: the way doubles at
// each link, 2^200 ways here, and Load must not try them.
func TestShellFlowFollowsEachValueOnce(t *testing.T) {
	const n = 200
	var b strings.Builder
	b.WriteString("variable \"v\" { type = string }\nlocals {\n  l0 = var.v\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  l%d = \"${local.l%d}${local.l%d}\"\n", i, i-1, i-1)
	}
	b.WriteString("  nest = [for a in [local.l0, local.l0] : [for b in [a, a] : [for c in [b, b] : [for d in [c, c] : [c, d, d]]]]]\n}\n")
	fmt.Fprintf(&b, "step \"s\" {\n  on  = hosts.server\n  run = \"${local.l%d} ${jsonencode(local.nest)}\"\n}\n", n)
	warnings, flow := shellFlow(t, recipeFS(b.String()))
	if len(warnings) != 1 || !strings.Contains(warnings[0].Detail, "through local.l200 (r/main.hcl:") ||
		!strings.Contains(warnings[0].Detail, ", 196 more, local.l0 (r/main.hcl:") {
		t.Errorf("want one warning for var.v, through the locals:%s", diagString(warnings))
	}
	if flow.Refs > 4*n {
		t.Errorf("%d references followed for %d locals: a value is followed once per way to it", flow.Refs, n)
	}
}
