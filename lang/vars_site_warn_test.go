package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
)

// A site file serves several recipes: a value for a variable this recipe
// does not declare is a warning, not an error (as in Terraform's tfvars);
// on the command line it stays an error.
func TestSiteValueForOtherRecipeIsAWarning(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "diffuser.hcl")
	if err := os.WriteFile(site, []byte("variables {\n  servers = 3\n  osds = 4\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, diags := lang.LoadSite(site)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte("recipe \"r\" {}\nvariable \"servers\" { type = number }\n")}}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: "r"}, map[string]hcldec.Spec{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vars, diags := r.ResolveVariables(lang.Inputs{Site: s})
	if diags.HasErrors() {
		t.Fatalf("site value for another recipe's variable is an error: %s", diags)
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 ||
		strings.Contains(diags[0].Detail, "Did you mean") {
		t.Fatalf("want one warning at line 3 (osds is no typo of servers), got %v", diags)
	}
	// Named with its file and line, but with no source to quote: the
	// line may hold another recipe's secret, and the warning comes on
	// every run.
	if got, want := diags[0].Subject.Filename, "<osds in "+site+">"; got != want {
		t.Errorf("warning names %q, want %q (no loaded file: the line is not shown)", got, want)
	}
	// A typo of a variable the recipe has is still only a warning (the
	// site may serve a recipe that has it), and says the near name.
	if err := os.WriteFile(site, []byte("variables {\n  serverz = 3\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, diags = lang.LoadSite(site); diags.HasErrors() {
		t.Fatal(diags)
	}
	_, diags = r.ResolveVariables(lang.Inputs{Site: s, Vars: []string{"servers=2"}})
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, `Did you mean "servers"?`) {
		t.Fatalf("site typo: %v", diags)
	}
	if v := vars["servers"]; v.AsBigFloat().String() != "3" {
		t.Fatalf("servers = %v", v)
	}
	_, diags = r.ResolveVariables(lang.Inputs{Vars: []string{"osds=4"}})
	if !diags.HasErrors() {
		t.Fatal("-var for an undeclared variable is not an error")
	}
}
