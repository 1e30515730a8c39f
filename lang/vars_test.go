package lang_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func writeFile(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVariablePrecedence: default < site < -var-file (in order) < -var (last wins).
func TestVariablePrecedence(t *testing.T) {
	r := loadVarsRecipe(t)
	dir := t.TempDir()
	site, diags := lang.LoadSite(writeFile(t, dir, "site.hcl", "variables {\n  servers = 3\n  replica = 3\n  volume_name = \"site\"\n  debug = true\n}\n"))
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	f1 := writeFile(t, dir, "a.hcl", "servers = 4\nreplica = 2\n")
	f2 := writeFile(t, dir, "b.hcl", "servers = 5\n")
	vals, diags := r.ResolveVariables(lang.Inputs{Site: site, VarFiles: []string{f1, f2}, Vars: []string{"servers=6", "servers=7"}})
	if diags.HasErrors() {
		t.Fatalf("ResolveVariables:%s", diagString(diags))
	}
	for name, want := range map[string]cty.Value{
		"servers":     cty.NumberIntVal(7),                                         // the last -var
		"replica":     cty.NumberIntVal(2),                                         // a.hcl over the site
		"volume_name": cty.StringVal("site"),                                       // the site over the default
		"debug":       cty.True,                                                    // the site over the default
		"packages":    cty.ListVal([]cty.Value{cty.StringVal("glusterfs-server")}), // the default
	} {
		if got := vals[name]; !got.RawEquals(want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	// Without the -var flags, the later var file wins.
	vals, diags = r.ResolveVariables(lang.Inputs{Site: site, VarFiles: []string{f1, f2}})
	if diags.HasErrors() || !vals["servers"].RawEquals(cty.NumberIntVal(5)) {
		t.Errorf("servers from var files = %#v,%s; want 5", vals["servers"], diagString(diags))
	}
	vals, diags = r.ResolveVariables(lang.Inputs{})
	if diags.HasErrors() || !vals["servers"].RawEquals(cty.NumberIntVal(2)) {
		t.Errorf("servers by default = %#v,%s; want 2", vals["servers"], diagString(diags))
	}
}

func TestVarFlagParsing(t *testing.T) {
	r := loadVarsRecipe(t)
	for _, tc := range []struct {
		flag string
		name string
		want cty.Value
	}{
		{"servers=3", "servers", cty.NumberIntVal(3)},
		{"servers= 12 ", "servers", cty.NumberIntVal(12)},
		{"volume_name=gv1", "volume_name", cty.StringVal("gv1")},
		{"volume_name=007", "volume_name", cty.StringVal("007")},           // a string, not the number 7
		{"volume_name=a b=c", "volume_name", cty.StringVal("a b=c")},       // the first = splits
		{`volume_name="quoted"`, "volume_name", cty.StringVal(`"quoted"`)}, // the text, as typed
		{"volume_name=", "volume_name", cty.StringVal("")},
		{"debug=true", "debug", cty.True},
		{`packages=["glusterfs-server", "xfsprogs"]`, "packages",
			cty.ListVal([]cty.Value{cty.StringVal("glusterfs-server"), cty.StringVal("xfsprogs")})},
		{"packages=[]", "packages", cty.ListValEmpty(cty.String)},
		{`options={ "log-level" = "DEBUG" }`, "options", cty.MapVal(map[string]cty.Value{"log-level": cty.StringVal("DEBUG")})},
		{"anything=3", "anything", cty.NumberIntVal(3)},        // untyped: an expression when it is one
		{"anything=hello", "anything", cty.StringVal("hello")}, // else the text
		{"anything=[1,", "anything", cty.StringVal("[1,")},
	} {
		vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{tc.flag}})
		if diags.HasErrors() {
			t.Errorf("-var %s:%s", tc.flag, diagString(diags))
			continue
		}
		if got := vals[tc.name]; !got.RawEquals(tc.want) {
			t.Errorf("-var %s: %s = %#v, want %#v", tc.flag, tc.name, got, tc.want)
		}
	}
}

func TestVarFlagErrors(t *testing.T) {
	r := loadVarsRecipe(t)
	for _, tc := range []struct {
		flag, summary string
		subject       bool // the diagnostic points at the flag
	}{
		{"sevrers=3", "Value for undeclared variable", true},
		{"servers=three", "Invalid value for variable", true},
		{"servers=2.5.1", "Invalid value for variable", true},
		{"servers=100", "Invalid value for variable", true}, // fails the validation
		{"debug=maybe", "Invalid value for variable", true},
		{"packages=glusterfs", "Invalid value for variable", true},
		{"packages=[1,", "Invalid value for variable", true},
		{`options=["a"]`, "Invalid value for variable", true},
		{"servers=1e400", "Invalid value for variable", true}, // beyond float64: pow, ceil… would fail later
		{"servers=-1e400", "Invalid value for variable", true},
		{"anything=[1, 1e999]", "Invalid value for variable", true},
		// Below float64 but not zero: writing it as text took minutes.
		{"servers=1e-100000000", "Invalid value for variable", true},
		{"anything={a = [-1e-400]}", "Invalid value for variable", true},
		{"servers", "Invalid -var", false},
		{"=3", "Invalid -var", false},
	} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: []string{tc.flag}})
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != tc.summary {
			t.Errorf("-var %s: want one %q,%s", tc.flag, tc.summary, diagString(diags))
			continue
		}
		d := errs[0]
		if !strings.Contains(d.Detail, tc.flag) && !strings.Contains(d.Detail, strings.SplitN(tc.flag, "=", 2)[0]) {
			t.Errorf("-var %s: detail %q names neither the flag nor the variable", tc.flag, d.Detail)
		}
		if !tc.subject {
			continue
		}
		if d.Subject == nil || !strings.HasPrefix(d.Subject.Filename, "<-var ") || d.Subject.Start.Line != 1 {
			t.Errorf("-var %s: subject = %v, want <-var ...> line 1", tc.flag, d.Subject)
		}
	}
}

func TestVarFiles(t *testing.T) {
	names, err := filepath.Glob("testdata/varfiles/bad/*.hcl")
	if err != nil || len(names) < 8 {
		t.Fatalf("var-file corpus: %d files, %v", len(names), err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cf := parseCorpusFile(t, name, src)
			r := loadVarsRecipe(t)
			_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{name}})
			checkMarkers(t, diags, name, cf.Markers)
			if r.Files[name] == nil {
				t.Errorf("Recipe.Files lacks %s: the CLI could not show the offending line", name)
			}
		})
	}
}

func TestVarFileNotText(t *testing.T) {
	r := loadVarsRecipe(t)
	dir := t.TempDir()
	nul := writeFile(t, dir, "nul.hcl", "servers = 3\nvolume_name = \"a\x00\"\n")
	huge := writeFile(t, dir, "huge.hcl", "servers = 3\n"+strings.Repeat("#", lang.MaxFileSize))
	for _, tc := range []struct {
		file, summary string
		line          int
	}{{nul, "Binary file", 2}, {huge, "File too large", 1}} {
		_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{tc.file}})
		checkMarkers(t, diags, tc.file, []marker{{Line: tc.line, Summary: tc.summary}})
	}
	missing := filepath.Join(dir, "missing.tfvars")
	_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{missing}})
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Cannot read variables file" || !strings.Contains(errs[0].Detail, missing) {
		t.Errorf("missing var file:%s", diagString(diags))
	}
}

func TestValidationsAndSensitive(t *testing.T) {
	r := loadVarsRecipe(t)
	vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"servers=64", "password=hunter2"}})
	if diags.HasErrors() {
		t.Fatalf("servers=64 is within the validation:%s", diagString(diags))
	}
	pw := vals["password"]
	if !pw.HasMark(lang.Sensitive) {
		t.Errorf("password = %#v, want it marked sensitive", pw)
	}
	if got, _ := pw.Unmark(); !got.RawEquals(cty.StringVal("hunter2")) {
		t.Errorf("password = %#v, want hunter2", got)
	}
	if vals["servers"].HasMark(lang.Sensitive) {
		t.Errorf("servers is marked sensitive; only sensitive variables are")
	}
	for _, v := range r.Variables {
		if (v.Name == "password") != v.Sensitive {
			t.Errorf("variable %s: Sensitive = %v", v.Name, v.Sensitive)
		}
	}
	// A value computed from a sensitive variable stays sensitive.
	src := `
recipe "t" {}
variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
}
locals {
  cmd = "join --token ${var.token}"
}
`
	rr, vv := mustLoad(t, src, lang.Inputs{})
	s := &lang.Scope{Recipe: rr, Vars: vv}
	if diags := s.EvalLocals(); diags.HasErrors() {
		t.Fatalf("EvalLocals:%s", diagString(diags))
	}
	if !s.Locals["cmd"].HasMark(lang.Sensitive) {
		t.Errorf("local.cmd = %#v, want it marked sensitive", s.Locals["cmd"])
	}
}

// TestRequiredVariable: a variable without default must be given.
func TestRequiredVariable(t *testing.T) {
	src := "recipe \"t\" {}\nvariable \"token\" { type = string }\n"
	r, diags := loadString(t, src)
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	_, diags = r.ResolveVariables(lang.Inputs{})
	checkMarkers(t, diags, "t/main.hcl", []marker{{Line: 2, Summary: "Missing variable"}})
	vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"token=abc"}})
	if diags.HasErrors() || !vals["token"].RawEquals(cty.StringVal("abc")) {
		t.Errorf("token = %#v,%s; want abc", vals["token"], diagString(diags))
	}
}

// TestVarFlagHostileValues: what a person types after -var NAME= is data.
// A string variable takes the text as typed (no template, no function,
// no shell); a list, map or object takes a constant HCL value, and one
// that is not says why, where (the column of the -var as shown) and how
// to write it, instead of taking it as a string and saying a string is no
// list.
func TestVarFlagHostileValues(t *testing.T) {
	r := loadVarsRecipe(t)
	for _, flag := range []string{
		"volume_name=$(touch /tmp/pwned)", "volume_name=`id`", `volume_name=${file("/etc/passwd")}`,
		`volume_name=%{ for x in [1] }x%{ endfor }`, "volume_name=a'b\"c\\d", "volume_name=line\nline",
		"volume_name=\x1b[31mred", "volume_name=ünïcödé", "volume_name=" + strings.Repeat("x", 100_000),
	} {
		vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{flag}})
		if diags.HasErrors() {
			t.Errorf("-var %.40q:%s", flag, diagString(diags))
			continue
		}
		if got, want := vals["volume_name"], cty.StringVal(strings.SplitN(flag, "=", 2)[1]); !got.RawEquals(want) {
			t.Errorf("-var %.40q: volume_name = %#v, want the text as typed", flag, got)
		}
	}
	for _, tc := range []struct{ flag, detail string }{
		{`packages=["a", ${x}]`, `This one is not: Invalid character: This character is not used within the language (at column 16).`},
		{`packages=["a",`, `This one is not: Missing expression: Expected the start of an expression, but found the end of the file (at column 15).`},
		{`packages=["a" "b"]`, `This one is not: Missing item separator`},
		{`packages=[file("/etc/passwd")]`, `This one is not: Function calls not allowed: Functions may not be called here (at column 11).`},
		{`packages=[var.volume_name]`, `This one is not: Variables not allowed`},
		{`options={ a = env("HOME") }`, `This one is not: Function calls not allowed`},
		{`options={ a = b }`, `This one is not: Variables not allowed`},
		{`options={`, `This one is not: Missing expression: Expected the start of an expression, but found the end of the file (at column 10).`},
		{"packages=" + strings.Repeat("[", 300) + strings.Repeat("]", 300), `Variable "packages" must be list(string)`},
		// A bare word is taken as the text: the message says how a list is written.
		{"packages=glusterfs", `A list on the command line is written in HCL: -var 'packages=["glusterfs"]'.`},
		{"packages=10.0.0.0/24", `-var 'packages=["10.0.0.0/24"]'`},
	} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: []string{tc.flag}})
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != "Invalid value for variable" || !strings.Contains(errs[0].Detail, tc.detail) {
			t.Errorf("-var %.60s: want one Invalid value for variable with %q,%s", tc.flag, tc.detail, diagString(diags))
			continue
		}
		if s := errs[0].Subject; s == nil || s.Filename != "<-var "+tc.flag+">" {
			t.Errorf("-var %.60s: subject %v, want the flag", tc.flag, s)
		}
	}
}

// TestVarFlagNotText: a -var value that is not UTF-8 text (a shell's
// $'\xff') or holds a NUL (only a program can pass one) is refused naming
// the flag and saying how to pass binary data; it used to be taken, then
// recorded in state (remembered inputs, a step's arguments, outputs) as
// U+FFFD, so what state said was applied was not what ran. The value is not
// quoted (the variable may be sensitive); valid text, U+FFFD included, is
// taken as typed for every type of variable.
func TestVarFlagNotText(t *testing.T) {
	r := loadVarsRecipe(t)
	for _, flag := range []string{"volume_name=caf\xe9", "volume_name=ab\x00cd", "servers=3\xff", "packages=[\"a\xff\"]", "options={a = \"\xc3\"}"} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: []string{flag}})
		errs := errorsOf(diags)
		name, _, _ := strings.Cut(flag, "=")
		if len(errs) != 1 || errs[0].Summary != "Invalid -var" || !strings.Contains(errs[0].Detail, "The value of -var "+name+" ") ||
			!strings.Contains(errs[0].Detail, "base64 -d") {
			t.Errorf("-var %q: want one Invalid -var naming %s and saying how to pass binary data,%s", flag, name, diagString(diags))
			continue
		}
		if _, raw, _ := strings.Cut(flag, "="); strings.Contains(errs[0].Detail, raw) {
			t.Errorf("-var %q: the detail quotes the value: %q", flag, errs[0].Detail)
		}
	}
	vals, diags := r.ResolveVariables(lang.Inputs{Vars: []string{"volume_name=\ufffd ✓"}})
	if diags.HasErrors() || vals["volume_name"].AsString() != "\ufffd ✓" {
		t.Errorf("valid text refused:%s", diagString(diags))
	}
}

// TestVarFileValueNotText: what -var checks as typed is held to the same
// rule from a file: a "\u0000" escape of an HCL or JSON variables file
// (in a string, a list element or a map key) and bytes of a JSON file that
// are not UTF-8 (its parser takes them) are refused naming the variable,
// the file and where in the value, without quoting the value; it used to
// reach commands (a NUL) or state (recorded as U+FFFD).
func TestVarFileValueNotText(t *testing.T) {
	r := loadVarsRecipe(t)
	dir := t.TempDir()
	for _, c := range []struct{ file, body, want string }{
		{"nul.tfvars", "volume_name = \"s3cr3t\\u0000x\"\n", "var.volume_name (given with -var-file) holds a NUL byte (at byte 6)"},
		{"list.tfvars", "packages = [\"a\", \"s3cr3t\\u0000\"]\n", "var.packages (given with -var-file) [1] holds a NUL byte (at byte 6)"},
		{"key.tfvars", "options = {\"s3cr3t\\u0000\" = \"x\"}\n", "var.options (given with -var-file) a key of the value holds a NUL byte"},
		{"latin1.json", "{\"volume_name\": \"s3cr3tcaf\xe9\"}\n", "latin1.json is not UTF-8 text (an invalid byte at line 1)"},
		{"nul.json", "{\"options\": {\"k\": \"s3cr3t\\u0000\"}}\n", `var.options (given with -var-file) ["k"] holds a NUL byte`},
	} {
		f := writeFile(t, dir, c.file, c.body)
		_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{f}})
		errs := errorsOf(diags)
		if len(errs) != 1 || !strings.Contains(errs[0].Detail, c.want) || !strings.Contains(errs[0].Detail, "base64 -d") ||
			errs[0].Subject == nil || errs[0].Subject.Filename != f {
			t.Errorf("%s: want one error at the file saying %q:%s", c.file, c.want, diagString(diags))
			continue
		}
		if strings.Contains(errs[0].Detail, "s3cr3t") {
			t.Errorf("%s: the detail quotes the value: %q", c.file, errs[0].Detail)
		}
	}
	// -var text is checked as typed; an HCL escape in a list it parses is
	// checked as a file's is.
	_, diags := r.ResolveVariables(lang.Inputs{Vars: []string{`packages=["a", "s3cr3t\u0000"]`}})
	if errs := errorsOf(diags); len(errs) != 1 || !strings.Contains(errs[0].Detail, "var.packages (given with -var) [1] holds a NUL byte (at byte 6)") ||
		strings.Contains(errs[0].Detail, "s3cr3t") {
		t.Errorf("-var with a \\u0000 escape:%s", diagString(diags))
	}
}

// TestVarFilesJSON: a -var-file named *.json is one JSON object, a
// property per variable, its strings taken as written (no templates);
// every mistake is one error at its line. A JSON file named otherwise is
// told to be named .json.
func TestVarFilesJSON(t *testing.T) {
	r := loadVarsRecipe(t)
	dir := t.TempDir()
	ok := writeFile(t, dir, "ok.json", "{\n  \"servers\": 3,\n  \"volume_name\": \"${file(\\\"/etc/passwd\\\")} $(id) %{ if true }x%{ endif }\",\n"+
		"  \"packages\": [\"a\", \"b\"],\n  \"options\": {\"log-level\": \"DEBUG\"}\n}\n")
	vals, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{ok}})
	if diags.HasErrors() {
		t.Fatalf("ok.json:%s", diagString(diags))
	}
	for name, want := range map[string]cty.Value{
		"servers":     cty.NumberIntVal(3),
		"volume_name": cty.StringVal(`${file("/etc/passwd")} $(id) %{ if true }x%{ endif }`),
		"packages":    cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"options":     cty.MapVal(map[string]cty.Value{"log-level": cty.StringVal("DEBUG")}),
	} {
		if got := vals[name]; !got.RawEquals(want) {
			t.Errorf("ok.json: %s = %#v, want %#v", name, got, want)
		}
	}
	for _, tc := range []struct {
		name, src, summary string
		line               int
	}{
		{"array.json", "[1]\n", "Incorrect JSON value type", 1},
		{"truncated.json", "{\n  \"servers\": 2\n", "Unclosed object", 1},
		{"empty.json", "", "Missing value", 1},
		{"wrong_type.json", "{\n  \"servers\": \"three\"\n}\n", "Invalid value for variable", 2},
		{"duplicate.json", "{\n  \"servers\": 2,\n  \"servers\": 3\n}\n", "Duplicate attribute definition", 3},
		{"undeclared.json", "{\n  \"sevrers\": 2\n}\n", "Value for undeclared variable", 2},
		{"huge_number.json", "{\n  \"servers\": 1e400\n}\n", "Invalid value for variable", 2},
		{"nested_list.json", "{\n  \"packages\": [[\"a\"]]\n}\n", "Invalid value for variable", 2},
		{"deep.json", "{\"packages\": " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}", "Nested too deep", 1},
		{"not_named_json.hcl", "{\n  \"servers\": 2\n}\n", "Argument or block definition required", 1},
	} {
		f := writeFile(t, dir, tc.name, tc.src)
		_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{f}})
		checkMarkers(t, diags, f, []marker{{Line: tc.line, Summary: tc.summary}})
		if tc.name == "not_named_json.hcl" && !strings.Contains(diagString(diags), "looks like JSON: a JSON variables file is read as JSON when its name ends in .json") {
			t.Errorf("%s: no hint to name it .json:%s", tc.name, diagString(diags))
		}
	}
}

// TestVarFileWithBlocksSaysWhereTheyGo: a site file or a recipe given as
// -var-file says what a variables file holds and where the others go.
func TestVarFileWithBlocksSaysWhereTheyGo(t *testing.T) {
	r := loadVarsRecipe(t)
	for _, f := range []string{"testdata/varfiles/bad/block.hcl", "testdata/varfiles/recipe.hcl"} {
		_, diags := r.ResolveVariables(lang.Inputs{VarFiles: []string{f}})
		errs := errorsOf(diags)
		if len(errs) != 1 || !strings.HasSuffix(errs[0].Detail, "A -var-file holds only NAME = VALUE lines; a recipe is the command's argument, a site file (provider and variables blocks) goes to -site.") {
			t.Errorf("%s:%s", f, diagString(diags))
		}
	}
}

// TestSensitiveValueFromFileNotQuoted: a sensitive variable's value from a
// -var-file (HCL or JSON) or a site file's variables block that is wrong
// is reported at the file and line, but the line (which holds the value)
// is not shown: the diagnostic's range names no loaded file. It used to
// be quoted in the source snippet.
func TestSensitiveValueFromFileNotQuoted(t *testing.T) {
	const secret = "hunter2-S3CRET"
	dir := t.TempDir()
	for _, tc := range []struct {
		file, src, summary string
		line               int
		site               bool
	}{
		{"wrong_type.hcl", "servers = 2\npassword = [\"" + secret + "\"]\n", "Invalid value for variable", 2, false},
		{"wrong_type.json", "{\n  \"password\": [\"" + secret + "\"]\n}\n", "Invalid value for variable", 2, false},
		{"function.hcl", "password = upper(\"" + secret + "\")\n", "Function calls not allowed", 1, false},
		{"site.hcl", "variables {\n  password = [\"" + secret + "\"]\n}\n", "Invalid value for variable", 2, true},
	} {
		r := loadVarsRecipe(t)
		f := writeFile(t, dir, tc.file, tc.src)
		in := lang.Inputs{VarFiles: []string{f}}
		var files map[string]*hcl.File
		if tc.site {
			site, d := lang.LoadSite(f)
			if d.HasErrors() {
				t.Fatalf("%s:%s", tc.file, diagString(d))
			}
			in = lang.Inputs{Site: site}
			files = site.Files
		}
		_, diags := r.ResolveVariables(in)
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != tc.summary {
			t.Errorf("%s: want one %q:%s", tc.file, tc.summary, diagString(diags))
			continue
		}
		if s := errs[0].Subject; s == nil || s.Filename != "<sensitive var.password in "+f+">" || s.Start.Line != tc.line {
			t.Errorf("%s: subject %v, want <sensitive var.password in %s> line %d", tc.file, s, f, tc.line)
		}
		for k, v := range r.Files {
			if files == nil {
				files = map[string]*hcl.File{}
			}
			files[k] = v
		}
		var out strings.Builder
		_ = hcl.NewDiagnosticTextWriter(&out, files, 0, false).WriteDiagnostics(diags)
		if strings.Contains(out.String(), secret) || strings.Contains(errs[0].Detail, secret) {
			t.Errorf("%s: the secret is printed:\n%s", tc.file, out.String())
		}
	}
}

// TestUndeclaredValueNotQuoted: a value given for a variable the recipe
// does not declare (a misspelt name: -var pasword=..., or a variables file
// shared with another recipe) is refused naming the flag or the file and
// line, and the name, but not the value: it may be the secret of the
// variable meant, and the error went to the terminal and CI logs whole.
func TestUndeclaredValueNotQuoted(t *testing.T) {
	const secret = "hunter2-S3CRET"
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		in    func() (lang.Inputs, string) // and the file the error names
		where string
		line  int
	}{
		{"-var", func() (lang.Inputs, string) { return lang.Inputs{Vars: []string{"pasword=" + secret}}, "" }, "<-var pasword>", 1},
		{"hcl", func() (lang.Inputs, string) {
			f := writeFile(t, dir, "shared.hcl", "servers = 2\npasword = \""+secret+"\"\n")
			return lang.Inputs{VarFiles: []string{f}}, f
		}, "<pasword in %s>", 2},
		{"json", func() (lang.Inputs, string) {
			f := writeFile(t, dir, "shared.json", "{\n  \"pasword\": \""+secret+"\"\n}\n")
			return lang.Inputs{VarFiles: []string{f}}, f
		}, "<pasword in %s>", 2},
	} {
		r := loadVarsRecipe(t)
		in, f := tc.in()
		_, diags := r.ResolveVariables(in)
		errs := errorsOf(diags)
		if len(errs) != 1 || errs[0].Summary != "Value for undeclared variable" || !strings.Contains(errs[0].Detail, `no variable "pasword"`) {
			t.Errorf("%s: want one undeclared-variable error naming pasword:%s", tc.name, diagString(diags))
			continue
		}
		want := tc.where
		if f != "" {
			want = fmt.Sprintf(tc.where, f)
		}
		if s := errs[0].Subject; s == nil || s.Filename != want || s.Start.Line != tc.line {
			t.Errorf("%s: subject %v, want %s line %d", tc.name, s, want, tc.line)
		}
		var out strings.Builder
		_ = hcl.NewDiagnosticTextWriter(&out, r.Files, 0, false).WriteDiagnostics(diags)
		if strings.Contains(out.String(), secret) || strings.Contains(diagString(diags), secret) {
			t.Errorf("%s: the value is printed:\n%s", tc.name, out.String())
		}
	}
}

// TestLongValueClipped: a value an error names is cut after
// lang.MaxShownValue bytes, saying how long it was: -var port=1e308 named
// all 309 digits, a thousand-character string all its characters.
func TestLongValueClipped(t *testing.T) {
	r, _ := loadString(t, `recipe "t" {}
variable "port" {
  type = number
  min  = 1
  max  = 65535
}
variable "name" {
  type    = string
  default = "a"
  pattern = "[a-z]{1,20}"
}
`)
	for _, tc := range []struct{ v, want string }{
		{"port=1e308", "var.port is 1" + strings.Repeat("0", 99) + "… (309 bytes in all); it must be from 1 to 65535"},
		{"name=" + strings.Repeat("é", 500), `var.name is "` + strings.Repeat("é", 50) + `"… (1000 bytes in all); it must be a string matching`},
	} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: []string{tc.v}})
		if !strings.Contains(diagString(diags), tc.want) {
			t.Errorf("-var %.20s: want %q in%s", tc.v, tc.want, diagString(diags))
		}
	}
}
