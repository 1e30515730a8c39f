package lang_test

import (
	"fmt"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func remembered(vars map[string]lang.RememberedVar) lang.RememberedVars {
	return lang.RememberedVars{Vars: vars, From: "diffuser vars vars"}
}

// TestRememberedPrecedence: default < site < remembered < -var-file < -var,
// and Sources says which one each value came from.
func TestRememberedPrecedence(t *testing.T) {
	r := loadVarsRecipe(t)
	dir := t.TempDir()
	site, diags := lang.LoadSite(writeFile(t, dir, "site.hcl", "variables {\n  servers = 3\n  replica = 3\n  volume_name = \"site\"\n  debug = true\n}\n"))
	if diags.HasErrors() {
		t.Fatalf("LoadSite:%s", diagString(diags))
	}
	mem := remembered(map[string]lang.RememberedVar{
		"servers":     {Value: cty.NumberIntVal(6)},
		"replica":     {Value: cty.NumberIntVal(4)},
		"volume_name": {Value: cty.StringVal("remembered")},
		// Typed JSON round-trips collections; a list of strings stays one.
		"packages": {Value: cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		"options":  {Value: cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")})},
	})
	f := writeFile(t, dir, "a.hcl", "replica = 5\n")
	res, diags := r.Resolve(lang.Inputs{Site: site, Remembered: mem, VarFiles: []string{f}, Vars: []string{"volume_name=flag"}})
	if diags.HasErrors() {
		t.Fatalf("Resolve:%s", diagString(diags))
	}
	for name, want := range map[string]struct {
		val cty.Value
		src lang.VarSource
	}{
		"servers":     {cty.NumberIntVal(6), lang.FromRemembered}, // remembered over the site
		"replica":     {cty.NumberIntVal(5), lang.FromVarFile},    // the var file over remembered
		"volume_name": {cty.StringVal("flag"), lang.FromVar},      // -var over everything
		"debug":       {cty.True, lang.FromSite},                  // not remembered: the site
		"packages":    {cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), lang.FromRemembered},
		"options":     {cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")}), lang.FromRemembered},
		"anything":    {cty.NullVal(cty.DynamicPseudoType), lang.FromDefault},
	} {
		if got := res.Values[name]; !got.RawEquals(want.val) {
			t.Errorf("%s = %#v, want %#v", name, got, want.val)
		}
		if got := res.Sources[name]; got != want.src {
			t.Errorf("%s comes from %d, want %d", name, got, want.src)
		}
	}
	// The site's servers = 3 lost to a different remembered 6: one warning
	// at its line naming both values and the way out. replica (a var file
	// wins) and volume_name (-var wins) are not the remembered value's doing.
	var warns []string
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warns = append(warns, fmt.Sprintf("%s:%d: %s: %s", d.Subject.Filename, d.Subject.Start.Line, d.Summary, d.Detail))
		}
	}
	if len(warns) != 1 || !strings.HasSuffix(strings.SplitN(warns[0], ": ", 2)[0], "site.hcl:2") ||
		!strings.Contains(warns[0], "The site file sets servers = 3, but the last apply of this workspace ran with 6") ||
		!strings.Contains(warns[0], "-var servers=VALUE") || !strings.Contains(warns[0], "-remembered=false") {
		t.Errorf("warnings:\n%s\nwant one for servers at site.hcl:2", strings.Join(warns, "\n"))
	}
	// A remembered value equal to the site file's is no news.
	same := remembered(map[string]lang.RememberedVar{"servers": {Value: cty.NumberIntVal(3)}})
	if _, diags := r.Resolve(lang.Inputs{Site: site, Remembered: same}); len(diags) != 0 {
		t.Errorf("remembered as the site file says:%s", diagString(diags))
	}
	// Without remembered values the site wins again.
	res, diags = r.Resolve(lang.Inputs{Site: site})
	if diags.HasErrors() || !res.Values["servers"].RawEquals(cty.NumberIntVal(3)) || res.Sources["servers"] != lang.FromSite {
		t.Errorf("servers without memory = %#v (%d),%s; want 3 from the site", res.Values["servers"], res.Sources["servers"], diagString(diags))
	}
}

// TestRememberedSensitive: a remembered sensitive variable has no value;
// not given again, it is an error naming it and what to do; given again,
// the new value is used and marked.
func TestRememberedSensitive(t *testing.T) {
	r := loadVarsRecipe(t)
	mem := remembered(map[string]lang.RememberedVar{
		"password": {Sensitive: true},
		"servers":  {Value: cty.NumberIntVal(4)},
	})
	_, diags := r.Resolve(lang.Inputs{Remembered: mem})
	errs := errorsOf(diags)
	if len(errs) != 1 || errs[0].Summary != "Sensitive variable not given again" {
		t.Fatalf("want one error for the password:%s", diagString(diags))
	}
	for _, want := range []string{`"password"`, "-var password=", "-var-file", "-remembered=false", "diffuser vars vars"} {
		if !strings.Contains(errs[0].Detail, want) {
			t.Errorf("detail lacks %q: %s", want, errs[0].Detail)
		}
	}
	if errs[0].Subject == nil || errs[0].Subject.Start.Line == 0 || !strings.Contains(errs[0].Subject.Filename, "recipe.hcl") {
		t.Errorf("subject = %v, want the variable's declaration", errs[0].Subject)
	}
	// A site value does not stand in for it: the remembered one outranks it
	// and nobody knows what it was.
	site, d := lang.LoadSite(writeFile(t, t.TempDir(), "site.hcl", "variables {\n  password = \"from-site\"\n}\n"))
	if d.HasErrors() {
		t.Fatal(diagString(d))
	}
	if _, diags := r.Resolve(lang.Inputs{Site: site, Remembered: mem}); len(errorsOf(diags)) != 1 {
		t.Errorf("a site value hides the forgotten sensitive variable:%s", diagString(diags))
	}
	for _, in := range []lang.Inputs{
		{Remembered: mem, Vars: []string{"password=again"}},
		{Remembered: mem, VarFiles: []string{writeFile(t, t.TempDir(), "pw.hcl", "password = \"again\"\n")}},
	} {
		res, diags := r.Resolve(in)
		if diags.HasErrors() {
			t.Fatalf("given again:%s", diagString(diags))
		}
		pw := res.Values["password"]
		if got, _ := pw.Unmark(); !pw.HasMark(lang.Sensitive) || !got.RawEquals(cty.StringVal("again")) {
			t.Errorf("password = %#v, want the marked value given again", pw)
		}
		if !res.Values["servers"].RawEquals(cty.NumberIntVal(4)) {
			t.Errorf("servers = %#v, want the remembered 4", res.Values["servers"])
		}
	}
	// A remembered value of a variable that became sensitive is used, marked.
	res, diags := r.Resolve(lang.Inputs{Remembered: remembered(map[string]lang.RememberedVar{"password": {Value: cty.StringVal("old")}})})
	if diags.HasErrors() || !res.Values["password"].HasMark(lang.Sensitive) {
		t.Errorf("remembered plain value of a sensitive variable: %#v,%s", res.Values["password"], diagString(diags))
	}
}

// TestRememberedStale: the recipe changed since the last apply. A value
// for a variable it no longer declares is a warning; one that no longer
// converts or validates is an error naming the remembered value.
func TestRememberedStale(t *testing.T) {
	r := loadVarsRecipe(t)
	res, diags := r.Resolve(lang.Inputs{Remembered: remembered(map[string]lang.RememberedVar{"gone": {Value: cty.NumberIntVal(1)}})})
	if diags.HasErrors() || len(diags) != 1 || diags[0].Summary != "Remembered value for a variable the recipe no longer declares" ||
		!strings.Contains(diags[0].Detail, "var.gone") {
		t.Errorf("undeclared remembered variable:%s", diagString(diags))
	}
	if res.Values == nil {
		t.Error("a warning stopped resolution")
	}
	for name, val := range map[string]cty.Value{
		"servers":  cty.StringVal("many"), // the recipe made it a number since
		"packages": cty.MapVal(map[string]cty.Value{"a": cty.StringVal("b")}),
	} {
		_, diags = r.Resolve(lang.Inputs{Remembered: remembered(map[string]lang.RememberedVar{name: {Value: val}})})
		errs := errorsOf(diags)
		if len(errs) != 1 || !strings.Contains(errs[0].Detail, "last apply") || !strings.Contains(errs[0].Detail, "-var "+name+"=") ||
			errs[0].Subject == nil || !strings.HasPrefix(errs[0].Subject.Filename, "<remembered "+name) {
			t.Errorf("remembered %s = %#v:%s", name, val, diagString(diags))
		}
	}
	_, diags = r.Resolve(lang.Inputs{Remembered: remembered(map[string]lang.RememberedVar{"servers": {Value: cty.NumberIntVal(100)}})})
	errs := errorsOf(diags)
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "between 1 and 64") || errs[0].Subject == nil ||
		errs[0].Subject.Filename != "<remembered servers = 100 (diffuser vars vars)>" {
		t.Errorf("remembered value failing validation:%s", diagString(diags))
	}
}
