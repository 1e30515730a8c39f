package lang_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"
	"diffuser/recipes"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const constraintsRecipe = `recipe "t" {}

variable "servers" {
  type    = number
  default = 2
  min     = 1
  max     = 9
  integer = true
}

variable "mode" {
  type    = string
  default = "fuse"
  one_of  = ["fuse", "kernel"]
}

variable "network" {
  type        = string
  default     = ""
  format      = "cidr"
  allow_empty = true
}

variable "password" {
  type      = string
  default   = "secret-1"
  sensitive = true
  pattern   = "[a-z]+-[0-9]"
}

variable "export_to" {
  type    = list(string)
  default = []
  format  = "host"
}

variable "sizes" {
  type    = map(number)
  default = {}
  min     = 1
}

variable "label" {
  type    = string
  default = null
  format  = "identifier"
}

variable "path" {
  type    = string
  default = "/srv"
  format  = "absolute_path"
  validation {
    condition     = var.path != "/srv/forbidden"
    error_message = "path must not be /srv/forbidden."
  }
}
`

// oneError resolves r with in and returns its only error.
func oneError(t *testing.T, r *lang.Recipe, in lang.Inputs) *hcl.Diagnostic {
	t.Helper()
	_, diags := r.ResolveVariables(in)
	errs := errorsOf(diags)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %d:%s", len(errs), diagString(diags))
	}
	return errs[0]
}

// Each constraint refuses a bad value with the validation errors' summary,
// located where the value was given (-var, -var-file line, site file line),
// naming the variable, the value and what is allowed.
func TestConstraintErrors(t *testing.T) {
	r, diags := loadString(t, constraintsRecipe)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, c := range []struct {
		vars   []string
		file   string // a -var-file's content
		at     string // then the Subject's end, "FILE:LINE"
		want   []string
		wantNo string
	}{
		{vars: []string{"servers=0"}, want: []string{"var.servers is 0", "a whole number, from 1 to 9"}},
		{vars: []string{"servers=10"}, want: []string{"var.servers is 10", "from 1 to 9"}},
		{vars: []string{"servers=2.5"}, want: []string{"var.servers is 2.5", "a whole number"}},
		{vars: []string{"mode=nfs"}, want: []string{`var.mode is "nfs"`, `one of "fuse", "kernel"`}},
		{vars: []string{"network=10.0.0.0"}, want: []string{`var.network is "10.0.0.0"`, "a CIDR block", `or empty ("")`}},
		{vars: []string{"password=hunter2"}, want: []string{"var.password is (sensitive)", `"[a-z]+-[0-9]"`}, wantNo: "hunter2"},
		{vars: []string{`export_to=["10.0.0.1", "a b"]`}, want: []string{`var.export_to[1] is "a b"`, "each element must be an IP address or a host name"}},
		{vars: []string{`sizes={ a = 2, b = 0 }`}, want: []string{`var.sizes["b"] is 0`, "at least 1"}},
		{vars: []string{"path=srv"}, want: []string{`var.path is "srv"`, "an absolute path"}},
		{vars: []string{"path=/srv/forbidden"}, want: []string{"var.path: path must not be /srv/forbidden."}},
		{file: "mode = \"fuse\"\n\nservers = 12\n", at: "v.tfvars:3", want: []string{"var.servers is 12"}},
	} {
		in := lang.Inputs{Vars: c.vars}
		if c.file != "" {
			in.VarFiles = []string{writeFile(t, t.TempDir(), "v.tfvars", c.file)}
		}
		d := oneError(t, r, in)
		if d.Summary != "Invalid value for variable" {
			t.Errorf("%v: summary %q", c.vars, d.Summary)
		}
		for _, w := range c.want {
			if !strings.Contains(d.Detail, w) {
				t.Errorf("%v%s: detail %q lacks %q", c.vars, c.file, d.Detail, w)
			}
		}
		if c.wantNo != "" && (strings.Contains(d.Detail, c.wantNo) || strings.Contains(d.Subject.Filename, c.wantNo)) {
			t.Errorf("%v: the sensitive value shows: %s: %s", c.vars, d.Subject.Filename, d.Detail)
		}
		switch {
		case c.at != "":
			if got := d.Subject.Filename + ":" + strconv.Itoa(d.Subject.Start.Line); !strings.HasSuffix(got, c.at) {
				t.Errorf("subject %s, want …%s", got, c.at)
			}
		case strings.HasPrefix(c.vars[0], "password"):
			if d.Subject.Filename != "<sensitive var.password>" {
				t.Errorf("subject %s", d.Subject.Filename)
			}
		default:
			if d.Subject.Filename != "<-var "+c.vars[0]+">" {
				t.Errorf("subject %s, want the -var", d.Subject.Filename)
			}
		}
	}
	// Good values pass, null passes where it is the default.
	vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"servers=9", "mode=kernel", "network=10.0.0.0/8",
		`export_to=["10.0.0.1", "fd00::1", "node-1"]`, "password=abc-1", "path=/a/b"}})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	if !vals["label"].IsNull() {
		t.Errorf("label = %#v", vals["label"])
	}
}

// A site file's value is located on its line; a remembered one says how
// to give it again.
func TestConstraintErrorSources(t *testing.T) {
	r, diags := loadString(t, constraintsRecipe)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	dir := t.TempDir()
	site, diags := lang.LoadSite(writeFile(t, dir, "site.hcl", "variables {\n  mode = \"fuse\"\n  servers = 0\n}\n"))
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	d := oneError(t, r, lang.Inputs{Site: site})
	if d.Subject.Filename != filepath.Join(dir, "site.hcl") || d.Subject.Start.Line != 3 || !strings.Contains(d.Detail, "var.servers is 0") {
		t.Errorf("site: %s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Detail)
	}
	mem := lang.RememberedVars{From: "diffuser vars t", Vars: map[string]lang.RememberedVar{"mode": {Value: cty.StringVal("nfs")}}}
	d = oneError(t, r, lang.Inputs{Remembered: mem})
	if !strings.Contains(d.Subject.Filename, "remembered mode") || !strings.Contains(d.Detail, `var.mode is "nfs"`) || !strings.Contains(d.Detail, "-remembered=false") {
		t.Errorf("remembered: %s: %s", d.Subject.Filename, d.Detail)
	}
	// A null given for a variable whose default is not null is refused.
	d = oneError(t, r, lang.Inputs{VarFiles: []string{writeFile(t, dir, "n.tfvars", "mode = null\n")}})
	if !strings.Contains(d.Detail, "var.mode is null") {
		t.Errorf("null: %s", d.Detail)
	}
}

// A module input that breaks the module variable's constraints is refused
// at the call, naming the module and where the constraint is declared.
func TestConstraintModuleInput(t *testing.T) {
	dir := filepath.Join(moduleCases, "constraint_input")
	r, diags := lang.Load(lang.Source{FS: os.DirFS(dir), Dir: ".", Display: "c", Modules: recipes.Modules()}, testKinds())
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	vals, diags := r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	_, _, diags = r.Counts(vals)
	errs := errorsOf(diags)
	if len(errs) != 1 {
		t.Fatalf("want one error:%s", diagString(diags))
	}
	d := errs[0]
	for _, w := range []string{"module.a input port is 0", "a whole number, from 1 to 65535", "./mods/a", "constrained at c/mods/a/main.hcl:3"} {
		if !strings.Contains(d.Detail, w) {
			t.Errorf("detail %q lacks %q", d.Detail, w)
		}
	}
	if d.Subject.Filename != "c/main.hcl" || d.Subject.Start.Line != 6 {
		t.Errorf("subject %s:%d, want the call's input c/main.hcl:6", d.Subject.Filename, d.Subject.Start.Line)
	}
}

// Describe is what errors say is allowed.
func TestConstraintsDescribe(t *testing.T) {
	for _, c := range []struct {
		c    lang.Constraints
		want string
	}{
		{lang.Constraints{Min: cty.NumberIntVal(1)}, "at least 1"},
		{lang.Constraints{Max: cty.NumberIntVal(7)}, "at most 7"},
		{lang.Constraints{Min: cty.NumberIntVal(1), Max: cty.NumberIntVal(7), Integer: true}, "a whole number, from 1 to 7"},
		{lang.Constraints{Integer: true}, "a whole number"},
		{lang.Constraints{OneOf: []cty.Value{cty.StringVal("a"), cty.StringVal("b")}}, `one of "a", "b"`},
		{lang.Constraints{Format: "sha256", AllowEmpty: true}, `a SHA-256 digest: 64 lowercase hex digits or empty ("")`},
		{lang.Constraints{Pattern: "[a-z]+"}, `a string matching the pattern "[a-z]+" as a whole`},
		{lang.Constraints{}, ""},
	} {
		if got := c.c.Describe(); got != c.want {
			t.Errorf("Describe = %q, want %q", got, c.want)
		}
	}
}

// Each named format, on values it takes and values it refuses.
func TestFormats(t *testing.T) {
	for _, c := range []struct {
		format  string
		ok, bad []string
	}{
		{"absolute_path", []string{"/a", "/srv/nfs", "/a.b/c_d-e"}, []string{"", "/", "a/b", "/a/", "/a b", "/a//b", "/a@b"}},
		{"identifier", []string{"a", "Fs_1"}, []string{"", "1a", "_a", "a-b"}},
		{"host", []string{"10.0.0.1", "fd00::1", "node-1.example.org"}, []string{"", "a b", "a_b", "a/b"}},
		{"cidr", []string{"10.0.0.0/16", "10.0.0.1/32", "fd00::/8"}, []string{"", "10.0.0.0", "10.0.0.0/33", "x/8"}},
		{"url", []string{"https://a/b.tar.gz", "http://a", "ftp://a/b"}, []string{"", "a/b", "file:///a", "https://a b", "https://a'b", "https://"}},
		{"sha256", []string{strings.Repeat("0f", 32)}, []string{"", strings.Repeat("0F", 32), strings.Repeat("0", 63)}},
	} {
		r, diags := loadString(t, "recipe \"t\" {}\nvariable \"v\" {\n  type   = string\n  format = \""+c.format+"\"\n}\n")
		if diags.HasErrors() {
			t.Fatal(diagString(diags))
		}
		for _, v := range c.ok {
			if _, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"v=" + v}}); diags.HasErrors() {
				t.Errorf("format %s refuses %q:%s", c.format, v, diagString(diags))
			}
		}
		for _, v := range c.bad {
			if _, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"v=" + v}}); !diags.HasErrors() {
				t.Errorf("format %s takes %q", c.format, v)
			}
		}
	}
	if got := strings.Join(lang.FormatNames(), " "); got != "absolute_path cidr host identifier sha256 url" {
		t.Errorf("FormatNames = %s", got)
	}
}

// docs/writing-recipes.md has a row for every format, and for every
// constraint attribute.
func TestConstraintDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/writing-recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, f := range lang.FormatNames() {
		if !strings.Contains(doc, "\n| `"+f+"` | ") {
			t.Errorf("docs/writing-recipes.md has no row for format %q", f)
		}
	}
	for _, a := range []string{"`min = N`", "`integer = true`", "`one_of = [...]`", "`format = \"NAME\"`", "`pattern = \"RE\"`", "`allow_empty = true`"} {
		if !strings.Contains(doc, "\n| "+a) {
			t.Errorf("docs/writing-recipes.md has no row for %s", a)
		}
	}
}

// docs/writing-recipes.md's restart_on section shows every form of entry
// the loader takes (its "Invalid restart_on entry" error names them):
// step.NAME and module.NAME.
func TestRestartOnDocs(t *testing.T) {
	b, err := os.ReadFile("../docs/writing-recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(b), "## Restart on change")
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, form := range []string{"restart_on = [step.", "restart_on = [module."} {
		if !strings.Contains(sec, form) {
			t.Errorf("the restart_on section of docs/writing-recipes.md shows no %s...]", form)
		}
	}
}

// A module input or a host count that refuses a value given with -var
// says where the value came from: the mistake is on the command line, not
// on the line the error points at. The recipe's default says nothing.
func TestRefusedValueNamesItsSource(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`recipe "t" {}
variable "label" {
  type    = string
  default = "blue"
}
variable "chunks" {
  type    = number
  default = 2
}
hosts "chunk" { count = var.chunks }
module "m" {
  source = "./m"
  on     = hosts.chunk
  label  = var.label
}
`)},
		"m/main.hcl": {Data: []byte("variable \"label\" {\n  type    = string\n  pattern = \"[a-z0-9-]+\"\n}\nstep \"s\" { run = \"echo ${var.label}\" }\n")},
	}
	r, diags := loadFS(fsys)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, c := range []struct {
		vars []string
		want string
	}{
		{[]string{"label=Blue Sky"}, "The value comes from outside the recipe: var.label is given with -var; change it there."},
		{[]string{"chunks=2.5"}, "not 2.5. The value comes from outside the recipe: var.chunks is given with -var; change it there."},
	} {
		res, diags := r.Resolve(lang.Inputs{Vars: c.vars})
		if diags.HasErrors() {
			t.Fatal(diagString(diags))
		}
		_, _, diags = r.CountsOf(res)
		if len(diags) != 1 || !strings.HasSuffix(diags[0].Detail, c.want) {
			t.Errorf("-var %v: want one error ending %q:%s", c.vars, c.want, diagString(diags))
		}
	}
	// A validation block that refuses it says so too.
	vfs := fstest.MapFS{
		"main.hcl":   {Data: []byte("recipe \"t\" {}\nvariable \"size\" { default = 2 }\nhosts \"chunk\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on     = hosts.chunk\n  size   = var.size\n}\n")},
		"m/main.hcl": {Data: []byte("variable \"size\" {\n  type = number\n  validation {\n    condition     = var.size <= 10\n    error_message = \"At most 10.\"\n  }\n}\nstep \"s\" { run = \"echo ${var.size}\" }\n")},
	}
	vr, diags := loadFS(vfs)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	res, diags := vr.Resolve(lang.Inputs{Vars: []string{"size=20"}})
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	want := "The value comes from outside the recipe: var.size is given with -var; change it there."
	if _, _, diags := vr.CountsOf(res); len(diags) != 1 || !strings.Contains(diags[0].Detail, "At most 10.") || !strings.HasSuffix(diags[0].Detail, want) {
		t.Errorf("-var size=20 refused by a validation: want one error ending %q:%s", want, diagString(diags))
	}
	// Through Counts (no sources), and with the default, nothing is said.
	vals, _ := r.ResolveVariables(lang.Inputs{Vars: []string{"label=Blue Sky"}})
	if _, _, diags := r.Counts(vals); len(diags) != 1 || strings.Contains(diags[0].Detail, "outside the recipe") {
		t.Errorf("Counts without sources:%s", diagString(diags))
	}
}
