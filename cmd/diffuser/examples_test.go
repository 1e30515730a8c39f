package main

import (
	"bytes"
	"context"
	"path/filepath"
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
