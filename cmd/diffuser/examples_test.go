package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExamplesValidate: every example site file and recipe in examples/
// loads, and the example recipe plans and applies on the simulated provider.
func TestExamplesValidate(t *testing.T) {
	sites, _ := filepath.Glob("../../examples/site-*.hcl")
	recipes, _ := filepath.Glob("../../examples/recipes/*")
	if len(sites) < 3 || len(recipes) < 1 {
		t.Fatalf("examples missing: sites %v, recipes %v", sites, recipes)
	}
	data := t.TempDir()
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), nil, append(args, "--data-dir", data), strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	for _, r := range recipes {
		for _, s := range sites {
			if code, out := cli("validate", r, "--site", s); code != 0 || !strings.Contains(out, "is valid") {
				t.Errorf("validate %s with %s: exit %d\n%s", r, s, code, out)
			}
		}
		if code, out := cli("apply", r, "--simulate", "-auto-approve", "--progress", "quiet"); code != 0 {
			t.Errorf("apply %s --simulate: exit %d\n%s", r, code, out)
		}
	}
}

// TestWritingRecipesFromScratch: the recipe docs/writing-recipes.md builds
// in "A recipe from scratch", its hcl blocks put together (but the module
// call shown as an alternative to the format and mount steps), is valid,
// and validate says what the page says it says.
func TestWritingRecipesFromScratch(t *testing.T) {
	b, err := os.ReadFile("../../docs/writing-recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "## A recipe from scratch"), strings.Index(doc, "## Modules")
	if start < 0 || end < start {
		t.Fatal("no section A recipe from scratch")
	}
	sec := doc[start:end]
	var src strings.Builder
	for _, m := range regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(sec, -1) {
		if !strings.HasPrefix(m[1], "module ") {
			src.WriteString(m[1] + "\n")
		}
	}
	want := regexp.MustCompile(`\$ diffuser validate \./mingluster\n\s+(.*)\n`).FindStringSubmatch(sec)
	if want == nil {
		t.Fatal("the section shows no validate output")
	}
	dir := filepath.Join(t.TempDir(), "mingluster")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cliRun(t, "validate", dir)
	if code != 0 || strings.TrimSpace(out) != want[1] {
		t.Errorf("validate of the page's recipe: exit %d\n%s%s\nthe page says: %s", code, out, errs, want[1])
	}
}
