package lang_test

import (
	"os"
	"path/filepath"
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
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 {
		t.Fatalf("want one warning at line 3, got %v", diags)
	}
	if v := vars["servers"]; v.AsBigFloat().String() != "3" {
		t.Fatalf("servers = %v", v)
	}
	_, diags = r.ResolveVariables(lang.Inputs{Vars: []string{"osds=4"}})
	if !diags.HasErrors() {
		t.Fatal("-var for an undeclared variable is not an error")
	}
}
