package lang_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
)

const invalidDir = "testdata/invalid"

func invalidFiles(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(invalidDir, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 40 {
		t.Fatalf("only %d invalid recipes in %s", len(names), invalidDir)
	}
	return names
}

// loadLang runs what engine.Load runs from lang, stopping at the first
// stage that reports an error: Load, ResolveVariables, CheckPreconditions,
// Counts.
func loadLang(name string, vars []string) (*lang.Recipe, hcl.Diagnostics) {
	src := lang.Source{FS: os.DirFS(invalidDir), Dir: ".", File: filepath.Base(name), Display: invalidDir}
	r, diags := lang.Load(src, testKinds())
	if diags.HasErrors() {
		return r, diags
	}
	vals, d := r.ResolveVariables(lang.Inputs{Vars: vars})
	diags = append(diags, d...)
	if d.HasErrors() {
		return r, diags
	}
	d = r.CheckPreconditions(vals)
	diags = append(diags, d...)
	if d.HasErrors() {
		return r, diags
	}
	_, _, d = r.Counts(vals)
	return r, append(diags, d...)
}

// TestInvalidRecipes loads every broken recipe of the corpus with lang
// alone and checks that exactly the marked diagnostic comes out. Problems
// only the engine's step graph finds (cycles, `# STAGE: engine`) must pass
// lang and be reported by engine.BuildStepGraph.
func TestInvalidRecipes(t *testing.T) {
	for _, name := range invalidFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cf := parseCorpusFile(t, name, src)
			file := path.Join(invalidDir, filepath.Base(name))
			r, diags := loadLang(name, cf.Vars)
			if cf.Stage == "engine" {
				if diags.HasErrors() {
					t.Fatalf("lang reports errors for a recipe only the engine should refuse:%s", diagString(diags))
				}
				return // TestInvalidRecipesEngine checks the marker
			}
			checkMarkers(t, diags, file, cf.Markers)
			if r == nil || r.Files[file] == nil {
				t.Errorf("Recipe.Files lacks %s: the CLI could not show the offending line", file)
			}
		})
	}
}

// TestInvalidRecipesEngine loads the same corpus the way the CLI does,
// through engine.Load with the real step kinds.
func TestInvalidRecipesEngine(t *testing.T) {
	kinds := builtin.Kinds()
	for _, name := range invalidFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cf := parseCorpusFile(t, name, src)
			file := path.Join(invalidDir, filepath.Base(name))
			l, diags := engine.Load(lang.Source{FS: os.DirFS(invalidDir), Dir: ".", File: filepath.Base(name), Display: invalidDir},
				lang.Inputs{Vars: cf.Vars}, kinds)
			checkMarkers(t, diags, file, cf.Markers)
			if l == nil || l.Recipe == nil || l.Recipe.Files[file] == nil {
				t.Errorf("engine.Load result lacks the parsed %s for printing", file)
			}
		})
	}
}
