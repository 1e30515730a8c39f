package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSiteBesideRecipeNotRead: a recipe directory's diffuser.hcl is never
// part of the recipe; loaded from another directory, diffuser reads the
// site file of the working directory (or none), so it warns that the one
// beside the recipe is not read. Run there, or named by -site, it is the
// site file and there is nothing to say.
func TestSiteBesideRecipeNotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my recipe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	recipe := "recipe \"r\" {}\nhosts \"h\" { count = 1 }\nstep \"s\" {\n  on  = hosts.h\n  run = \"true\"\n}\n"
	site := "default_provider = \"docker\"\n"
	for name, text := range map[string]string{"main.hcl": recipe, "diffuser.hcl": site} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	elsewhere := t.TempDir()
	e := &Env{DataDir: filepath.Join(elsewhere, ".diffuser")}
	warned := func(in Inputs) bool {
		t.Helper()
		ws, err := e.Load(in)
		if err != nil {
			t.Fatalf("load %+v: %v", in, err)
		}
		defer ws.Close()
		for _, d := range ws.Warnings {
			if d.Summary == "Site file beside the recipe not read" {
				if !strings.Contains(d.Detail, filepath.Join(dir, "diffuser.hcl")) || !strings.Contains(d.Detail, "no site file") {
					t.Errorf("the warning does not name the file and what is used instead: %s", d.Detail)
				}
				return true
			}
		}
		return false
	}
	t.Chdir(elsewhere)
	if !warned(Inputs{Recipe: dir}) {
		t.Error("a recipe loaded from elsewhere with a site file beside it: no warning that it is not read")
	}
	if warned(Inputs{Recipe: dir, Site: filepath.Join(dir, "diffuser.hcl")}) {
		t.Error("warned although -site names the file beside the recipe")
	}
	t.Chdir(dir)
	if warned(Inputs{Recipe: "."}) {
		t.Error("warned although the run is in the recipe directory, whose diffuser.hcl is the site file")
	}
}
