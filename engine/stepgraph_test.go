package engine_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/ with what the code produces now")

// loadBuiltin loads a built-in recipe with its default variables.
func loadBuiltin(t *testing.T, name string) *engine.Loaded {
	t.Helper()
	l, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: name, Display: "builtin:" + name, Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", name, diags.Error())
	}
	return l
}

// TestStepGraphDOTGolden compares `diffuser graph RECIPE` for every built-in
// recipe with testdata/graph/RECIPE.dot. Run with -update to rewrite them.
func TestStepGraphDOTGolden(t *testing.T) {
	names := recipes.Names()
	if len(names) == 0 {
		t.Fatal("no built-in recipes")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			if err := loadBuiltin(t, name).StepGraph.DOT(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "graph", name+".dot")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (make it with: go test ./engine/ -run TestStepGraphDOTGolden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("step graph of %s differs from %s (rerun with -update if the change is intended):\n%s", name, path, got.String())
			}
		})
	}
}

// TestStepGraphDOTIsStable renders each built-in recipe's step graph many
// times, from separately loaded recipes too, and wants the same bytes every
// time: map order must not reach the output.
func TestStepGraphDOTIsStable(t *testing.T) {
	for _, name := range recipes.Names() {
		var first []byte
		for i := 0; i < 20; i++ {
			l := loadBuiltin(t, name)
			for j := 0; j < 5; j++ {
				var b bytes.Buffer
				if err := l.StepGraph.DOT(&b); err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = b.Bytes()
				} else if !bytes.Equal(first, b.Bytes()) {
					t.Fatalf("%s: render %d differs from the first:\n%s\n---\n%s", name, i*5+j, first, b.Bytes())
				}
			}
		}
	}
}
