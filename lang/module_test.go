package lang_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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

const moduleCases = "testdata/modules"

// fileMarker is a `# ERROR: <summary>` marker in one file of a case.
type fileMarker struct {
	File    string
	Line    int
	Summary string
}

// caseMarkers reads the markers of every .hcl file of a case directory,
// module files included, and its `# STAGE:` directive.
func caseMarkers(t *testing.T, dir, display string) ([]fileMarker, string) {
	t.Helper()
	var out []fileMarker
	stage := ""
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".hcl") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if m := directiveRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil && m[1] == "STAGE" {
				stage = m[2]
			}
			if i := strings.Index(line, "# ERROR"); i >= 0 {
				m := errorRE.FindStringSubmatch(line[i:])
				if m == nil {
					t.Fatalf("%s:%d: malformed marker", p, n)
				}
				mk := fileMarker{File: path.Join(display, filepath.ToSlash(rel)), Line: n, Summary: m[2]}
				if m[1] != "" {
					mk.Line = atoi(t, m[1])
				}
				out = append(out, mk)
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no `# ERROR: <summary>` marker", dir)
	}
	return out, stage
}

func checkFileMarkers(t *testing.T, diags hcl.Diagnostics, want []fileMarker) {
	t.Helper()
	errs := errorsOf(diags)
	if len(errs) != len(want) {
		t.Fatalf("want %d error(s) %v, got %d:%s", len(want), want, len(errs), diagString(diags))
	}
	left := append([]fileMarker(nil), want...)
	for _, d := range errs {
		if d.Subject == nil {
			t.Errorf("diagnostic %q has no Subject", d.Summary)
			continue
		}
		if strings.TrimSpace(d.Detail) == "" {
			t.Errorf("diagnostic %q has no Detail saying what to do", d.Summary)
		}
		found := -1
		for i, m := range left {
			if m.Summary == d.Summary && d.Subject.Filename == m.File && d.Subject.Start.Line == m.Line {
				found = i
				break
			}
		}
		if found < 0 {
			t.Errorf("unexpected diagnostic %s:%d %q; want %v%s", d.Subject.Filename, d.Subject.Start.Line, d.Summary, want, diagString(diags))
			continue
		}
		left = append(left[:found], left[found+1:]...)
	}
}

func moduleCaseDirs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(moduleCases)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d module cases", len(out))
	}
	return out
}

// TestInvalidModules loads every broken recipe of testdata/modules (each
// a directory with its modules) through lang, then through engine.Load
// with the real kinds, and checks that exactly the marked diagnostics
// come out, in the module files where the mistake is.
func TestInvalidModules(t *testing.T) {
	for _, name := range moduleCaseDirs(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(moduleCases, name)
			want, stage := caseMarkers(t, dir, "c")
			src := lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}
			r, diags := lang.Load(src, testKinds())
			if !diags.HasErrors() {
				var vals map[string]cty.Value
				vals, diags = r.ResolveVariables(lang.Inputs{})
				if !diags.HasErrors() {
					_, _, diags = r.Counts(vals)
				}
			}
			if stage == "engine" {
				if diags.HasErrors() {
					t.Fatalf("lang reports errors for a recipe only the engine should refuse:%s", diagString(diags))
				}
			} else {
				checkFileMarkers(t, diags, want)
			}
			_, diags = engine.Load(src, lang.Inputs{}, builtin.Kinds())
			checkFileMarkers(t, diags, want)
		})
	}
}

// A mistake inside a module points into the module's file and names the
// call, with its file and line, in the detail.
func TestModuleDiagnosticNamesCall(t *testing.T) {
	dir := filepath.Join(moduleCases, "unknown_var_in_module")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic:%s", diagString(diags))
	}
	d := diags[0]
	if d.Subject.Filename != "c/mods/a/main.hcl" || !strings.Contains(d.Detail, "In module.a, called at c/main.hcl:3") || !strings.Contains(d.Detail, `Did you mean "name"?`) {
		t.Errorf("diagnostic: %s: %s", d.Subject.Filename, d.Detail)
	}
}

// The same step name in the root and in two calls of one module are three
// steps; inputs, locals and outputs are per call.
func TestModuleNamespaces(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`
recipe "t" {}
hosts "server" { count = 2 }
step "x" {
  on  = hosts.server
  run = "echo root ${module.one.said} ${module.two.said}"
}
module "one" {
  source = "./m"
  on     = hosts.server[0]
  word   = "uno"
}
module "two" {
  source = "./m"
  on     = hosts.server[1]
  word   = "dos"
}
`)},
		"m/main.hcl": {Data: []byte(`
variable "word" { type = string }
locals { said = "said ${var.word}" }
step "x" { run = "echo ${local.said} on ${host.name}" }
output "said" { value = local.said }
`)},
	}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "t"}, testKinds())
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	var names []string
	for _, s := range r.Steps {
		names = append(names, s.Addr())
	}
	if got := strings.Join(names, " "); got != "step.x module.one.step.x module.two.step.x" {
		t.Fatalf("steps: %s", got)
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	infos := []lang.HostInfo{{Name: "server[0]", Group: "server"}, {Name: "server[1]", Group: "server", Index: 1}}
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"server": r.Group("server").GroupVal(infos)}}
	if d := s.EvalLocals(); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	for _, c := range []struct{ step, host, want string }{
		{"x", "server[0]", "echo root said uno said dos"},
		{"module.one.step.x", "server[0]", "echo said uno on server[0]"},
		{"module.two.step.x", "server[1]", "echo said dos on server[1]"},
	} {
		host := lang.HostInfo{Name: c.host, Group: "server"}.Val(nil)
		args, _, d := s.StepArgs(r.Step(c.step), host)
		if d.HasErrors() {
			t.Fatal(diagString(d))
		}
		if got := args.GetAttr("command").AsString(); got != c.want {
			t.Errorf("%s: %q, want %q", c.step, got, c.want)
		}
	}
	hosts, d := s.StepOnHosts(r.Step("module.two.step.x"))
	if d.HasErrors() || strings.Join(hosts, ",") != "server[1]" {
		t.Errorf("module.two.step.x runs on %v %s", hosts, diagString(d))
	}
}

// A module may declare verify blocks: each call's is its own
// (module.CALL.verify.LABEL), and its expressions read the call's inputs,
// the module's locals and its own modules' outputs.
func TestModuleVerify(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`
recipe "t" {}
hosts "server" { count = 2 }
hosts "client" { count = 3 }
step "x" {
  on  = hosts.server
  run = "true"
}
verify "rt" {
  on   = hosts.client
  path = "/mnt/root"
}
module "one" {
  source  = "./m"
  clients = slice(hosts.client, 0, 2)
  stopped = hosts.server[0]
  dir     = "one"
  on_     = true
}
module "two" {
  source  = "./m"
  clients = hosts.client
  stopped = hosts.server[1]
  dir     = "two"
  on_     = false
}
`)},
		"m/main.hcl": {Data: []byte(`
variable "clients" { type = any }
variable "stopped" { type = any }
variable "dir" { type = string }
variable "on_" { type = bool }
locals { path = "/mnt/${var.dir}" }
module "svc" { source = "./svc" }
step "x" {
  on  = var.clients
  run = "true"
}
verify "rt" {
  enabled = var.on_
  on      = var.clients
  path    = local.path
  failover {
    on    = var.stopped
    stop  = module.svc.stop
    start = "start ${var.dir}"
  }
}
`)},
		"m/svc/main.hcl": {Data: []byte(`
output "stop" { value = "systemctl stop svc" }
`)},
	}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "t"}, testKinds())
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	var names []string
	for _, v := range r.Verifies {
		names = append(names, v.Name)
	}
	if got := strings.Join(names, " "); got != "rt module.one.verify.rt module.two.verify.rt" {
		t.Fatalf("verifies: %s", got)
	}
	vars, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	var servers, clients []lang.HostInfo
	for i := range 2 {
		servers = append(servers, lang.HostInfo{Name: fmt.Sprintf("server[%d]", i), Group: "server", Index: i})
	}
	for i := range 3 {
		clients = append(clients, lang.HostInfo{Name: fmt.Sprintf("client[%d]", i), Group: "client", Index: i})
	}
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{
		"server": r.Group("server").GroupVal(servers), "client": r.Group("client").GroupVal(clients)}}
	if d := s.EvalLocals(); d.HasErrors() {
		t.Fatal(diagString(d))
	}
	for i, c := range []struct {
		on            bool
		hosts, path   string
		stopped, stop string
		start         string
	}{
		{true, "client[0],client[1],client[2]", "/mnt/root", "", "", ""},
		{true, "client[0],client[1]", "/mnt/one", "server[0]", "systemctl stop svc", "start one"},
		{false, "client[0],client[1],client[2]", "/mnt/two", "server[1]", "systemctl stop svc", "start two"},
	} {
		v := r.Verifies[i]
		on, d := s.VerifyEnabled(v)
		hosts, d2 := s.VerifyHosts(v, v.On)
		path, d3 := v.Path.Value(s.VerifyCtx(v))
		if d = append(append(d, d2...), d3...); d.HasErrors() {
			t.Fatalf("%s: %s", v.Name, diagString(d))
		}
		if on != c.on || strings.Join(hosts, ",") != c.hosts || path.AsString() != c.path {
			t.Errorf("%s: enabled %v on %v path %s, want %v %s %s", v.Name, on, hosts, path.AsString(), c.on, c.hosts, c.path)
		}
		if v.Failover == nil {
			continue
		}
		fh, d := s.VerifyHosts(v, v.Failover.On)
		stop, d2 := v.Failover.Stop.Value(s.VerifyCtx(v))
		start, d3 := v.Failover.Start.Value(s.VerifyCtx(v))
		if d = append(append(d, d2...), d3...); d.HasErrors() {
			t.Fatalf("%s failover: %s", v.Name, diagString(d))
		}
		if strings.Join(fh, ",") != c.stopped || stop.AsString() != c.stop || start.AsString() != c.start {
			t.Errorf("%s failover: on %v stop %q start %q", v.Name, fh, stop.AsString(), start.AsString())
		}
	}
}

// A mistake in a module's verify block points into the module's file and
// names the call in the detail.
func TestModuleVerifyDiagnosticNamesCall(t *testing.T) {
	dir := filepath.Join(moduleCases, "verify_in_module")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if len(diags) == 0 {
		t.Fatal("no diagnostics")
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != "c/mods/a/main.hcl" || !strings.Contains(d.Detail, "(In module.a, called at c/main.hcl:4.)") {
			t.Errorf("diagnostic %q does not point into the module and name the call: %v: %s", d.Summary, d.Subject, d.Detail)
		}
	}
}

// A kind argument the engine refuses inside a built-in module (a label
// too long for xfs, passed in at the call of builtin/xfs-volume) points at
// the call's input that set it, the user's line, and names the module's
// step; a built-in module's file is not the user's to edit.
func TestModuleArgumentProblemNamesCall(t *testing.T) {
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" {
  volume "brick" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brick.device
  target = "/data"
  label  = "much-too-long-label"
}
`)}}
	_, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	errs := errorsOf(diags)
	if len(errs) != 1 {
		t.Fatalf("want one error:%s", diagString(diags))
	}
	d := errs[0]
	if d.Summary != "Invalid format label" || d.Subject == nil || d.Subject.Filename != "c/main.hcl" || d.Subject.Start.Line != 10 ||
		!strings.Contains(d.Detail, "(It is label of module.data.step.format.)") {
		t.Errorf("diagnostic %q at %v is not at the call's label input, naming the step: %s", d.Summary, d.Subject, d.Detail)
	}
}

// restart_on or reload_on on a module step that cannot restart names the
// attribute written and the call.
func TestModuleRestartOnRefusedNamesCall(t *testing.T) {
	for _, attr := range []string{"restart_on", "reload_on"} {
		fsys := fstest.MapFS{
			"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
}
`)},
			"mods/a/main.hcl": {Data: []byte(`step "conf" {
  run = "true"
}
step "x" {
  ` + attr + ` = [step.conf]
  file {
    path    = "/etc/x"
    content = "x"
  }
}
`)},
		}
		_, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
		errs := errorsOf(diags)
		if len(errs) != 1 {
			t.Fatalf("%s: want one error:%s", attr, diagString(diags))
		}
		d := errs[0]
		if d.Summary != attr+" on a step that cannot restart" || d.Subject == nil || d.Subject.Filename != "c/mods/a/main.hcl" ||
			!strings.Contains(d.Detail, "(In module.a, called at c/main.hcl:3.)") {
			t.Errorf("%s: diagnostic %q at %v: %s", attr, d.Summary, d.Subject, d.Detail)
		}
	}
}

// A moved block's mistakes point at the from or to expression at fault
// (file, line and column), say what is declared instead, and inside a
// module name the call.
func TestMovedDiagnosticsPrecise(t *testing.T) {
	load := func(dir string) hcl.Diagnostics {
		_, diags := lang.Load(lang.Source{FS: os.DirFS(filepath.Join(moduleCases, dir)), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
		return diags
	}
	find := func(diags hcl.Diagnostics, line int) *hcl.Diagnostic {
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Start.Line == line {
				return d
			}
		}
		t.Fatalf("no diagnostic at line %d:%s", line, diagString(diags))
		return nil
	}
	for _, c := range []struct {
		dir       string
		line, col int
		file      string
		want      []string
	}{
		{"moved_conflict", 21, 10, "c/main.hcl", []string{"to = module.a.step.nope names no step the recipe declares", "Declared: module.a.step.x."}},
		{"moved_conflict", 25, 10, "c/main.hcl", []string{"to = step.x names no step the recipe declares", "Did you mean module.a.step.x (step.x inside the module call)?"}},
		{"moved_conflict", 13, 10, "c/main.hcl", []string{"Both step.two and step.one move to module.a.step.x (the other at c/main.hcl:9)"}},
		{"moved_conflict", 17, 10, "c/main.hcl", []string{"from = module.b is a module and to = module.a.step.x a step"}},
		{"moved_still_there", 12, 10, "c/main.hcl", []string{"step.old is still declared in the recipe", "Remove or rename its block"}},
		{"moved_in_module", 6, 10, "c/mods/a/main.hcl", []string{"to = step.formt names no step the module declares", "Did you mean step.format?", "(In module.a, called at c/main.hcl:3.)"}},
		{"moved_in_module", 10, 10, "c/mods/a/main.hcl", []string{"Did you mean step.mount?", "called at c/main.hcl:3"}},
		{"moved_in_module", 13, 10, "c/mods/a/main.hcl", []string{"step.mount is still declared in the module", "called at c/main.hcl:3"}},
		{"moved_in_module", 17, 10, "c/mods/a/main.hcl", []string{"from = caller.module.a.step.y names module.a.step.y, which is this module itself", "called at c/main.hcl:3"}},
		{"moved_in_module", 22, 10, "c/mods/a/main.hcl", []string{"from = caller.step.z is a step and to = module.inner a module", "called at c/main.hcl:3"}},
	} {
		d := find(load(c.dir), c.line)
		if d.Subject.Filename != c.file || d.Subject.Start.Column != c.col {
			t.Errorf("%s line %d: subject %s:%d:%d, want %s:%d:%d", c.dir, c.line, d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, c.file, c.line, c.col)
		}
		for _, w := range c.want {
			if !strings.Contains(d.Detail, w) {
				t.Errorf("%s line %d: detail lacks %q:\n%s", c.dir, c.line, w, d.Detail)
			}
		}
	}
}

// With nothing near, an unknown to lists what is declared (at most ten).
func TestMovedUnknownToListsDeclared(t *testing.T) {
	var b strings.Builder
	b.WriteString("recipe \"t\" {}\nhosts \"server\" {}\n")
	for i := range 12 {
		fmt.Fprintf(&b, "step \"s%02d\" {\n  on  = hosts.server\n  run = \"true\"\n}\n", i)
	}
	b.WriteString("moved {\n  from = step.old\n  to   = step.completely_different\n}\n")
	_, diags := loadString(t, b.String())
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic:%s", diagString(diags))
	}
	d := diags[0]
	if d.Subject.Start.Line != 53 || d.Subject.Start.Column != 10 ||
		!strings.Contains(d.Detail, "Declared: step.s00, step.s01,") || !strings.Contains(d.Detail, "step.s09 and 2 more.") {
		t.Errorf("%s: %s", d.Subject, d.Detail)
	}
}

// hosts = [] at a call is how a caller turns a module off (builtin/ganesha
// documents "[] deploys nothing"): valid, and its steps have no
// instances; a value that is not hosts is still refused at the call.
func TestModuleInputEmptyHostsDeploysNothing(t *testing.T) {
	load := func(hosts string) (*engine.Loaded, hcl.Diagnostics) {
		fsys := fstest.MapFS{"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" {}
module "g" {
  source = "builtin/ganesha"
  hosts  = ` + hosts + `
  config = "NFS_CORE_PARAM {}\n"
  export = { path = "/export", pseudo = "/export", fsal = "FSAL {\n  Name = VFS;\n}\n", clients = [] }
}
`)}}
		return engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	}
	l, diags := load("[]")
	if diags.HasErrors() {
		t.Fatalf("hosts = []:%s", diagString(diags))
	}
	for s, stp := range l.Graph.Steps {
		if n := len(l.Graph.StepHosts[s]); n != 0 {
			t.Errorf("%s has %d instances, want none", stp.Name, n)
		}
	}
	if _, diags := load(`"server"`); len(errorsOf(diags)) != 1 || errorsOf(diags)[0].Summary != "Module input holds no hosts" {
		t.Errorf(`hosts = "server":%s`, diagString(diags))
	}
}

// An input the steps run on whose default is [] is an optional part of
// the module: a call that leaves it out deploys nothing there, as one
// that writes it as [] does. Such a call was refused with "on names no
// hosts" at each step (and nested call) on it, telling the author to write
// the on = var.<input> they had written.
func TestModuleInputDefaultEmptyHostsDeploysNothing(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "server" {}
module "with" {
  source = "./mods/share"
  on     = hosts.server
  name   = "a"
  index  = hosts.server
}
module "without" {
  source = "./mods/share"
  on     = hosts.server
  name   = "b"
}
`)},
		"mods/share/main.hcl": {Data: []byte(`variable "name" {
  type = string
}
variable "index" {
  type    = list(any)
  default = []
}
step "data" {
  run = "mkdir -p /srv/${var.name}"
}
step "index_conf" {
  on  = var.index
  run = "echo ${var.name} > /etc/index-${var.name}"
}
module "index" {
  source  = "builtin/systemd-unit"
  on      = var.index
  name    = "index-${var.name}"
  content = "[Service]\nExecStart=/bin/true\n"
}
verify "index" {
  on   = var.index
  path = "/srv/${var.name}"
}
`)},
	}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatalf("index left out, its default []:%s", diagString(diags))
	}
	want := map[string]int{
		"module.with.step.data": 1, "module.with.step.index_conf": 1, "module.with.module.index.step.unit": 1, "module.with.module.index.step.service": 1,
		"module.without.step.data": 1, "module.without.step.index_conf": 0, "module.without.module.index.step.unit": 0, "module.without.module.index.step.service": 0,
	}
	for s, stp := range l.Graph.Steps {
		if n, ok := want[stp.Addr()]; ok && len(l.Graph.StepHosts[s]) != n {
			t.Errorf("%s has %d instances, want %d", stp.Addr(), len(l.Graph.StepHosts[s]), n)
		}
	}
}

// A module call's after that names nothing is the caller's mistake: its
// error is at the call and names the module around the call (none at the
// root), not the module called.
func TestCallAfterErrorNamesCaller(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "a" {}
module "site" {
  source = "./mods/site"
  on     = hosts.a
  after  = [module.nope]
}
module "outer" {
  source = "./mods/outer"
  on     = hosts.a
}
`)},
		"mods/site/main.hcl": {Data: []byte("step \"x\" {\n  run = \"true\"\n}\n")},
		"mods/outer/main.hcl": {Data: []byte(`module "inner" {
  source = "../site"
  after  = [step.nah]
}
`)},
	}
	_, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	errs := errorsOf(diags)
	if len(errs) != 2 {
		t.Fatalf("want two errors:%s", diagString(diags))
	}
	for _, d := range errs {
		switch {
		case d.Summary == "Unknown module":
			if d.Subject == nil || d.Subject.Filename != "c/main.hcl" || d.Subject.Start.Line != 6 || strings.Contains(d.Detail, "(In module") {
				t.Errorf("root call's after: %s at %v: %s", d.Summary, d.Subject, d.Detail)
			}
		case d.Summary == "Unknown step":
			if d.Subject == nil || d.Subject.Filename != "c/mods/outer/main.hcl" || !strings.HasSuffix(d.Detail, "(In module.outer, called at c/main.hcl:8.)") {
				t.Errorf("nested call's after: %s at %v: %s", d.Summary, d.Subject, d.Detail)
			}
		default:
			t.Errorf("unexpected %s: %s", d.Summary, d.Detail)
		}
	}
}

// TestModuleFanOutLinear: evaluating a recipe that calls a module many
// times costs in proportion to the calls. Every input, local and output
// used to be evaluated in a context holding every module's outputs: a
// thousand calls took ten seconds. Allocations, unlike time, do not
// depend on the machine's load: twice the calls may allocate a little
// more than twice as much, not four times.
func TestModuleFanOutLinear(t *testing.T) {
	allocs := func(calls int) float64 {
		var b strings.Builder
		b.WriteString("recipe \"t\" {}\nhosts \"server\" {}\n")
		for i := range calls {
			fmt.Fprintf(&b, "module \"m%d\" {\n  source = \"./m\"\n  on     = hosts.server\n  word   = \"w%d\"\n}\n", i, i)
		}
		fsys := fstest.MapFS{
			"main.hcl":   {Data: []byte(b.String())},
			"m/main.hcl": {Data: []byte("variable \"word\" { type = string }\nlocals { said = \"said ${var.word}\" }\nstep \"x\" { run = \"echo ${local.said}\" }\noutput \"said\" { value = local.said }\n")},
		}
		return testing.AllocsPerRun(1, func() {
			r, diags := lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "t"}, testKinds())
			if diags.HasErrors() {
				t.Fatal(diagString(diags))
			}
			vars, diags := r.ResolveVariables(lang.Inputs{})
			if _, _, d := r.Counts(vars); append(diags, d...).HasErrors() {
				t.Fatal(diagString(append(diags, d...)))
			}
		})
	}
	small, large := allocs(150), allocs(600)
	if ratio := large / small; ratio > 5 {
		t.Errorf("4x the module calls allocate %.1fx as much (%.0f vs %.0f): evaluation grows faster than the recipe", ratio, large, small)
	}
}

// TestSymlinksStayInside: through DirFS, a symbolic link inside the
// recipe's directory is followed while it stays inside; one leading out
// (a module directory, a module's file, a file() argument) is refused in
// words, naming the source or file, and nothing outside is read. Without
// it a module source "./m" linked to /etc read files there, and printed
// their lines in diagnostics.
func TestSymlinksStayInside(t *testing.T) {
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := "root:x:0:0:secret\n"
	for name, data := range map[string]string{"m/main.hcl": "step \"x\" { run = \"true\" }\n", "secret": secret} {
		if err := os.WriteFile(filepath.Join(outside, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	call := func(src string) string {
		return "recipe \"t\" {}\nhosts \"server\" {}\nmodule \"a\" {\n  source = \"" + src + "\"\n  on     = hosts.server\n}\n"
	}
	for _, tc := range []struct {
		name    string
		links   map[string]string // link name in the recipe -> target
		files   map[string]string
		summary string // "" loads
		detail  string
	}{
		{"module_dir_out", map[string]string{"m": filepath.Join(outside, "m")}, map[string]string{"main.hcl": call("./m")},
			"Module source outside the recipe", `"./m" is, or is inside, a symbolic link to outside the recipe's directory`},
		{"module_file_out", map[string]string{"m/main.hcl": filepath.Join(outside, "secret")}, map[string]string{"main.hcl": call("./m")},
			"Cannot read module file", "m/main.hcl is, or is inside, a symbolic link to outside the recipe's directory"},
		{"file_out", map[string]string{"pw": filepath.Join(outside, "secret")},
			map[string]string{"main.hcl": "recipe \"t\" {}\nhosts \"server\" {}\nstep \"s\" {\n  on  = hosts.server\n  run = \"echo ${file(\"pw\")}\"\n}\n"},
			"Error in function call", "pw is, or is inside, a symbolic link to outside"},
		{"module_dir_in", map[string]string{"m": "mods/real"},
			map[string]string{"main.hcl": call("./m"), "mods/real/main.hcl": "step \"x\" { run = \"true\" }\n"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, target := range tc.links {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, p); err != nil {
					t.Fatal(err)
				}
			}
			fsys, err := lang.DirFS(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, diags := lang.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
			if !diags.HasErrors() && r != nil {
				vars, d := r.ResolveVariables(lang.Inputs{})
				diags = append(diags, d...)
				s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{"server": r.Group("server").GroupVal([]lang.HostInfo{{Name: "server[0]", Group: "server"}})}}
				diags = append(diags, s.EvalLocals()...)
				for _, st := range r.Steps {
					_, _, d := s.StepArgs(st, lang.HostInfo{Name: "server[0]", Group: "server"}.Val(nil))
					diags = append(diags, d...)
				}
			}
			if tc.summary == "" {
				if diags.HasErrors() {
					t.Fatalf("a link inside the recipe:%s", diagString(diags))
				}
				return
			}
			errs := errorsOf(diags)
			if len(errs) != 1 || errs[0].Summary != tc.summary || !strings.Contains(errs[0].Detail, tc.detail) {
				t.Fatalf("want one %q saying %q:%s", tc.summary, tc.detail, diagString(diags))
			}
			if strings.Contains(diagString(diags), "secret") {
				t.Errorf("the diagnostic shows the file outside:%s", diagString(diags))
			}
		})
	}
}

// TestRestartOnStepAndModuleOfOneName: step.a and module.a are two
// references in after, restart_on and reload_on. restart_on = [module.a]
// beside after = [step.a] used to be dropped from the service's after
// (so the service did not wait for the module's steps that restart it),
// and restart_on = [step.a] with reload_on = [module.a] was refused as
// naming step.a twice. A step naming itself in restart_on is told so.
func TestRestartOnStepAndModuleOfOneName(t *testing.T) {
	main := `
recipe "t" {}
hosts "server" {}
module "a" {
  source = "./m"
  on     = hosts.server
}
step "a" {
  on  = hosts.server
  run = "true"
}
step "svc" {
  on         = hosts.server
  after      = [step.a]
  restart_on = [module.a]
  service { name = "x" }
}
step "svc2" {
  on         = hosts.server
  restart_on = [step.a]
  reload_on  = [module.a]
  service { name = "y" }
}
`
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(main)}, "m/main.hcl": {Data: []byte("step \"x\" { run = \"true\" }\n")}}
	r, diags := loadFS(fsys)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, name := range []string{"svc", "svc2"} {
		var after []string
		for _, ref := range r.Step(name).After {
			after = append(after, ref.Name)
		}
		sort.Strings(after)
		if got := strings.Join(after, " "); got != "a module.a.step.x" {
			t.Errorf("%s waits for %q, want a and module.a.step.x", name, got)
		}
	}
	_, diags = loadString(t, `
recipe "t" {}
hosts "server" {}
step "svc" {
  on         = hosts.server
  restart_on = [step.svc]
  service { name = "x" }
}
`)
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `Step "svc" lists itself in restart_on`) {
		t.Errorf("a service restarting on itself:%s", diagString(diags))
	}
}

// An input named after a Terraform or OpenTofu meta-argument that the
// module does not declare says what diffuser writes instead.
func TestModuleMetaArgumentInputHints(t *testing.T) {
	for name, want := range map[string]string{
		"enabled_as_input": "write lifecycle { enabled = CONDITION } in the module block",
		"version_arg":      "Modules have no versions",
	} {
		dir := filepath.Join(moduleCases, name)
		_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
		if errs := errorsOf(diags); len(errs) != 1 || !strings.Contains(errs[0].Detail, want) {
			t.Errorf("%s: want one error saying %q:%s", name, want, diagString(diags))
		}
	}
}

// A moved address written with quotes, an instance key or without
// "step." is refused with the address to write instead; the caller.
// form is explained only inside a module.
func TestMovedAddressHints(t *testing.T) {
	dir := filepath.Join(moduleCases, "moved_address_hints")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	want := map[int]string{
		14: "Write it without quotes: from = step.brick.",
		18: "A moved block moves every instance of a step (from = step.old_mount); to move one instance, use diffuser state mv",
		23: "Did you mean to = module.data.step.format?",
	}
	errs := errorsOf(diags)
	if len(errs) != len(want) {
		t.Fatalf("want %d errors:%s", len(want), diagString(diags))
	}
	for _, d := range errs {
		if w := want[d.Subject.Start.Line]; !strings.Contains(d.Detail, w) || strings.Contains(d.Detail, "caller.") {
			t.Errorf("line %d: want %q (and no caller. in a recipe), got %s", d.Subject.Start.Line, w, d.Detail)
		}
	}
}

// A module's moved block written with the caller's view of the module's
// addresses: a to that is the module's own step with its call's prefix
// says to drop the prefix, and such a from (which names a nested call no
// state holds, so the move would do nothing) is a warning saying the
// same.
func TestMovedSelfPrefixed(t *testing.T) {
	dir := filepath.Join(moduleCases, "moved_self_prefixed")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	var errs, warns []*hcl.Diagnostic
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "relative to the module: write to = step.settings.") {
		t.Errorf("to = module.share.step.settings:%s", diagString(errs))
	}
	if len(warns) != 1 || warns[0].Summary != "Moved from an address inside itself" || warns[0].Subject.Start.Line != 9 ||
		!strings.Contains(warns[0].Detail, "Write from = step.old for a step of this module, or from = caller.step.old") {
		t.Errorf("from = module.share.step.old:%s", diagString(warns))
	}
}

// An input set from host does not stop a call whose module has an output
// reading that input, while nothing reads the output (systemd-unit's
// unit): the recipe loads and its steps get each host's value.
func TestHostInputUnreadOutput(t *testing.T) {
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(`
recipe "t" {}
hosts "node" { count = 2 }
module "u" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x-${host.hostname}"
  content = "[Service]\nExecStart=/bin/sleep infinity\n"
}
`)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "t", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatalf("a host input of an output nobody reads:%s", diagString(diags))
	}
	if n := len(l.Graph.StepHosts); n != 2 {
		t.Errorf("%d steps, want unit and service", n)
	}
}

// after = [module.u.step.service] and [step.a["node[0]"]], and restart_on =
// [module.u.step.unit], say what to write instead, and what it does: the
// step (or the call's service steps) waits or restarts, not module.u.
func TestAfterEntryHints(t *testing.T) {
	dir := filepath.Join(moduleCases, "after_module_step")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	checkDetailsByLine(t, diags, map[int]string{
		13: "write after = [module.u]: this step then waits for every step of module.u",
		18: "Write step.a: the pairing rules",
		23: "write restart_on = [module.u]: this service then restarts (a run step runs its command again) when any step of module.u changes",
		31: "write restart_on = [module.u]: this call's service steps then restart when any step of module.u changes",
		37: "write reload_on = [module.u]: this service then reloads when any step of module.u changes",
	})
	for _, d := range diags {
		if strings.Contains(d.Detail, "module.u restarts") || strings.Contains(d.Detail, "module.u waits") {
			t.Errorf("line %d says the module waits or restarts: %s", d.Subject.Start.Line, d.Detail)
		}
	}
}

// restart_on = [step.index] inside a module, naming a step of the
// caller, says that a module cannot see it and that the call's own
// restart_on is the way; reading its outputs, that an input is. A module
// called twice makes it one error naming both calls: the hint named the
// call, so each call had an error of its own at the same line.
func TestCallerStepInModule(t *testing.T) {
	for _, attr := range []string{"restart_on", "after", "outputs"} {
		t.Run(attr, func(t *testing.T) {
			ref := "  " + attr + " = [step.index]\n"
			if attr == "outputs" {
				ref = "  after = [step.env]\n  precondition {\n    condition     = step.index.outputs.ok == \"yes\"\n    error_message = \"not ok\"\n  }\n"
			}
			fsys := fstest.MapFS{
				"main.hcl": {Data: []byte(`recipe "t" {}
hosts "web" {}
step "index" {
  on  = hosts.web
  run = "true"
}
module "daemon" {
  source = "./m"
  on     = hosts.web
}
module "daemon2" {
  source = "./m"
  on     = hosts.web
}
`)},
				"m/main.hcl": {Data: []byte(`step "env" { run = "true" }
step "ready" {
` + ref + `  service { name = "app" }
}
`)},
			}
			_, diags := loadFS(fsys)
			does := map[string]string{
				"restart_on": "Name it in the restart_on of the call instead (restart_on = [step.index] in the module block that calls this module; the calls are named below): a call's restart_on is that of every service step in it, nested calls included",
				"after":      "Name it in the after of the call instead (after = [step.index] in the module block that calls this module; the calls are named below): a call's after orders every step in it",
				"outputs":    "Pass what the module needs in as an input instead: a variable of the module, set in the module block that calls it (e.g. index_ok = step.index.outputs.ok; the calls are named below)",
			}[attr]
			line := map[string]int{"outputs": 5}[attr]
			if line == 0 {
				line = 3
			}
			checkDetailsByLine(t, diags, map[int]string{line: `There is no step named "index". Known: env, ready. A module cannot see its caller's steps: step.index is declared at t/main.hcl:3, outside the module. ` +
				does + `. (In module.daemon, called at t/main.hcl:7; module.daemon2, called at t/main.hcl:11.)`})
		})
	}
}

// checkDetailsByLine checks that diags hold one error per line of want,
// each with want's text in its detail.
func checkDetailsByLine(t *testing.T, diags hcl.Diagnostics, want map[int]string) {
	t.Helper()
	errs := errorsOf(diags)
	if len(errs) != len(want) {
		t.Fatalf("want %d errors:%s", len(want), diagString(diags))
	}
	for _, d := range errs {
		if _, ok := want[d.Subject.Start.Line]; !ok {
			t.Errorf("line %d: error not wanted there: %s", d.Subject.Start.Line, d.Detail)
		} else if !strings.Contains(d.Detail, want[d.Subject.Start.Line]) {
			t.Errorf("line %d: want %q in %s", d.Subject.Start.Line, want[d.Subject.Start.Line], d.Detail)
		}
	}
}

// The call's on where the module runs on an input: the missing input
// says to put the hosts there.
func TestHostsInputAsOn(t *testing.T) {
	dir := filepath.Join(moduleCases, "hosts_input_as_on")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if errs := errorsOf(diags); len(errs) != 1 || !strings.Contains(errs[0].Detail, "The module's steps run on var.hosts, not on the call's on: write hosts = <the hosts> in place of on.") {
		t.Errorf("want one error saying where the hosts go:%s", diagString(diags))
	}
}

// Reading an output of a call that is off in a local or in another call's
// input is explained as in a step: the call is off, read it with try.
func TestOffModuleReadExplained(t *testing.T) {
	dir := filepath.Join(moduleCases, "enabled_off_read")
	for _, load := range []func() hcl.Diagnostics{
		func() hcl.Diagnostics {
			r, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
			if diags.HasErrors() {
				return diags
			}
			vals, diags := r.ResolveVariables(lang.Inputs{})
			if diags.HasErrors() {
				return diags
			}
			_, _, diags = r.Counts(vals)
			return diags
		},
		func() hcl.Diagnostics {
			_, diags := engine.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
			return diags
		},
	} {
		errs := errorsOf(load())
		if len(errs) != 2 {
			t.Fatalf("want 2 errors, got %d", len(errs))
		}
		for _, d := range errs {
			if n := strings.Count(d.Detail, "module.data is null because the call is turned off"); n != 1 || !strings.Contains(d.Detail, "try(module.data.target, DEFAULT)") {
				t.Errorf("line %d: want the explanation once, got %s", d.Subject.Start.Line, d.Detail)
			}
		}
	}
}

// file() in a module: relative to the module's directory, confined to it,
// and both errors say so (not "the recipe's directory").
func TestModuleFilePaths(t *testing.T) {
	dir := filepath.Join(moduleCases, "module_file_paths")
	_, diags := engine.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	want := map[int]string{
		6: `"../../top.txt" is outside the module's directory (mods/a): a module reads only its own files; pass a file of the caller in as an input`,
		9: `(paths in a module are relative to the module's directory, mods/a)`,
	}
	errs := errorsOf(diags)
	if len(errs) != 2 {
		t.Fatalf("want 2 errors:%s", diagString(diags))
	}
	for _, d := range errs {
		if !strings.Contains(d.Detail, want[d.Subject.Start.Line]) || strings.Contains(d.Detail, "recipe's directory") {
			t.Errorf("line %d: want %q, got %s", d.Subject.Start.Line, want[d.Subject.Start.Line], d.Detail)
		}
	}
}

// The engine's checks of a module's verify block name the call, as every
// other error in a module file does.
func TestModuleVerifyValuesNameCall(t *testing.T) {
	dir := filepath.Join(moduleCases, "verify_in_module_values")
	_, diags := engine.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	errs := errorsOf(diags)
	if len(errs) != 2 {
		t.Fatalf("want 2 errors:%s", diagString(diags))
	}
	for _, d := range errs {
		if !strings.Contains(d.Detail, "(In module.a, called at c/main.hcl:7.)") {
			t.Errorf("%s: the detail does not name the call: %s", d.Summary, d.Detail)
		}
	}
}

// A git address or a registry address as a module source says that
// diffuser fetches nothing and what to do instead.
func TestRemoteModuleSource(t *testing.T) {
	dir := filepath.Join(moduleCases, "remote_source")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	errs := errorsOf(diags)
	if len(errs) != 2 {
		t.Fatalf("want 2 errors:%s", diagString(diags))
	}
	for _, d := range errs {
		if !strings.Contains(d.Detail, "diffuser fetches no modules") {
			t.Errorf("line %d: %s", d.Subject.Start.Line, d.Detail)
		}
	}
}

// A caller reading a module's step or one of its inputs is told that
// only outputs are readable, and where the input's value is.
func TestModuleInnerReadHints(t *testing.T) {
	dir := filepath.Join(moduleCases, "module_inner_read")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	checkDetailsByLine(t, diags, map[int]string{
		13: "A caller reads a module only through its output blocks (module.data.NAME), not its steps",
		17: "device is an input of the module, set at c/main.hcl:8",
	})
}

// One host for a list input says to put it in a list.
func TestOneHostForListInput(t *testing.T) {
	dir := filepath.Join(moduleCases, "one_host_for_list")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if errs := errorsOf(diags); len(errs) != 1 || !strings.Contains(errs[0].Detail, "hosts.server[0] is one host, and input hosts of module.ganesha (builtin/ganesha) is a list(any): write hosts = [hosts.server[0]].") {
		t.Errorf("want one error with the fix:%s", diagString(diags))
	}
}

// An error in a call's input expression is the caller's: no "(In
// module.u, called at ...)", which points into the module's files.
func TestInputErrorNotAnnotatedAsModule(t *testing.T) {
	dir := filepath.Join(moduleCases, "facts_typo_at_input")
	_, diags := engine.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	errs := errorsOf(diags)
	if len(errs) != 1 || strings.Contains(errs[0].Detail, "In module.u") || !strings.Contains(errs[0].Detail, "memory_mb") {
		t.Errorf("want one error without the module's annotation:%s", diagString(diags))
	}
}

// A mistake in a module's file is one error however many calls the
// module has, naming each call; a mistake in a call's on, which every
// step of the module (and of a nested call without on) inherits, is one
// error at the call, naming no call.
func TestModuleRepeatsMerged(t *testing.T) {
	for _, c := range []struct{ dir, want, not string }{
		{"two_calls_one_typo", "(In module.a, called at c/main.hcl:4; module.b, called at c/main.hcl:8.)", ""},
		{"call_on_typo", `Did you mean "alpha"?`, "(In "},
		{"nested_unknown_input_two_calls", `Module module.unit (builtin/systemd-unit) has no variable "colour". Its inputs: content, enabled, name, state. (In module.a, called at c/main.hcl:4; module.b, called at c/main.hcl:8.)`, ""},
	} {
		dir := filepath.Join(moduleCases, c.dir)
		_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
		if len(diags) != 1 {
			t.Fatalf("%s: want one diagnostic:%s", c.dir, diagString(diags))
		}
		if d := diags[0].Detail; !strings.HasSuffix(d, c.want) || (c.not != "" && strings.Contains(d, c.not)) {
			t.Errorf("%s: detail %q, want it to end in %q", c.dir, d, c.want)
		}
	}
}

// A misspelt argument of the call itself (aftr) is named, not only the
// module's inputs listed.
func TestModuleCallArgumentTypo(t *testing.T) {
	dir := filepath.Join(moduleCases, "call_argument_typo")
	_, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "Did you mean after, the call's own argument") {
		t.Fatalf("want one diagnostic suggesting after:%s", diagString(diags))
	}
}

// TestTooManySteps: a recipe has at most lang.MaxSteps steps, every module
// instance's counted. A module of 20,000 steps called 50 times made a
// million and took 8 GB and 108 s to validate; now the step past the bound
// is the one error, on its line, naming the module's call, and loading
// stops there (the allocations of the 50 calls are those of the first
// few). MaxSteps steps load.
func TestTooManySteps(t *testing.T) {
	steps := func(n int, on string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "step \"s%d\" {\n  %s\n  run = \"true\"\n}\n", i, on)
		}
		return b.String()
	}
	head := "recipe \"t\" {}\nhosts \"h\" { count = 1 }\n"
	t.Run("at_the_bound", func(t *testing.T) {
		if _, diags := loadString(t, head+steps(lang.MaxSteps, "on = hosts.h")); diags.HasErrors() {
			t.Fatalf("MaxSteps steps:%s", diagString(diags))
		}
	})
	t.Run("root", func(t *testing.T) {
		_, diags := loadString(t, head+steps(lang.MaxSteps+1, "on = hosts.h"))
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != "Too many steps" || errs[0].Subject.Start.Line != 3+4*lang.MaxSteps ||
			!strings.Contains(errs[0].Detail, fmt.Sprintf("more than %d steps", lang.MaxSteps)) {
			t.Fatalf("want one Too many steps on the last step's line:%s", diagString(diags))
		}
	})
	t.Run("module_instances", func(t *testing.T) {
		var calls strings.Builder
		for i := range 50 {
			fmt.Fprintf(&calls, "module \"m%d\" {\n  source = \"./m\"\n  on     = hosts.h\n}\n", i)
		}
		fsys := fstest.MapFS{
			"main.hcl":   {Data: []byte(head + calls.String())},
			"m/main.hcl": {Data: []byte(steps(lang.MaxSteps/4, "# on the call's hosts"))},
		}
		var diags hcl.Diagnostics
		allocs := testing.AllocsPerRun(1, func() { _, diags = loadFS(fsys) })
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != "Too many steps" || errs[0].Subject.Filename != "t/m/main.hcl" ||
			!strings.Contains(errs[0].Detail, "In module.m4, called at t/main.hcl:19") {
			t.Fatalf("want one Too many steps in the fifth call:%s", diagString(diags))
		}
		oneCall := fstest.MapFS{"main.hcl": {Data: []byte(head + "module \"m0\" {\n  source = \"./m\"\n  on     = hosts.h\n}\n")}, "m/main.hcl": fsys["m/main.hcl"]}
		var one hcl.Diagnostics
		single := testing.AllocsPerRun(1, func() { _, one = loadFS(oneCall) })
		if one.HasErrors() {
			t.Fatal(diagString(one))
		}
		if allocs > 8*single {
			t.Errorf("50 calls past the bound allocate %.0f, %.1fx one call's %.0f: loading went on past it", allocs, allocs/single, single)
		}
	})
}

// A call's on that names no hosts is one mistake at the call, however
// many steps of the module (and of the modules it calls) inherit it: it
// was one "on names no hosts" per step, all at the same line, each
// naming one step and telling to write on = hosts.<group> in it.
func TestCallOnNoHostsOnce(t *testing.T) {
	for _, on := range []string{`"web"`, `local.names`} {
		fsys := fstest.MapFS{
			"main.hcl": {Data: []byte(`recipe "t" {}
hosts "web" { count = 2 }
locals {
  names = ["web"]
}
module "site" {
  source = "./mods/site"
  on     = ` + on + `
}
`)},
			"mods/site/main.hcl": {Data: []byte(`step "a" {
  run = "true"
}
step "b" {
  run = "true"
}
module "inner" {
  source = "builtin/systemd-unit"
  name    = "x"
  content = "[Service]\nExecStart=/bin/true\n"
}
`)},
		}
		_, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
		errs := errorsOf(diags)
		if len(errs) != 1 {
			t.Fatalf("on = %s: want one error at the call, got:%s", on, diagString(diags))
		}
		d := errs[0]
		if d.Subject.Filename != "c/main.hcl" || d.Subject.Start.Line != 8 || !strings.Contains(d.Detail, "module.site") ||
			!strings.Contains(d.Detail, "on = hosts.<group>") {
			t.Errorf("on = %s: %s: %s", on, d.Subject, d.Detail)
		}
	}
}

// A module's verify block on an input that the call sets to no hosts is
// the call's mistake, as for the module's steps: one error at the input,
// naming the verify block. It was an error at the verify block in the
// module's file telling to pass hosts in as an input, which the caller did.
func TestVerifyOnInputHoldsNoHosts(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
hosts "web" {}
module "site" {
  source  = "./mods/site"
  servers = "web"
}
`)},
		"mods/site/main.hcl": {Data: []byte(`variable "servers" {
  type = list(any)
}
verify "page" {
  on   = slice(var.servers, 0, 1)
  path = "/srv"
}
`)},
	}
	_, diags := engine.Load(lang.Source{FS: fsys, Dir: ".", Display: "c", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	errs := errorsOf(diags)
	if len(errs) != 1 {
		t.Fatalf("want one error, got:%s", diagString(diags))
	}
	d := errs[0]
	if d.Summary != "Module input holds no hosts" || d.Subject.Filename != "c/main.hcl" || d.Subject.Start.Line != 5 ||
		!strings.Contains(d.Detail, "module.site.verify.page") {
		t.Errorf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
	}
}
