package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlan: apply PLANFILE applies exactly the saved plan, and refuses
// one made stale by a later apply or a recipe change.
func TestSavedPlan(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, ".diffuser")
	src, err := os.ReadFile(filepath.Join("testdata", "plan", "recipe.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(dir, "recipe.hcl")
	if err := os.WriteFile(recipe, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), nil, append(args, "--data-dir", data), strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	p1 := filepath.Join(dir, "p1.json")
	if code, out := cli("plan", recipe, "--simulate", "-out", p1); code != 0 {
		t.Fatalf("plan -out: %d\n%s", code, out)
	}
	if code, out := cli("apply", p1); code != 0 || !strings.Contains(out, "done") {
		t.Fatalf("apply saved plan: %d\n%s", code, out)
	}
	if code, out := cli("plan", recipe, "--simulate", "--detailed-exitcode"); code != 0 {
		t.Fatalf("not converged after applying the saved plan: %d\n%s", code, out)
	}

	// A plan made before another apply is stale.
	p2 := filepath.Join(dir, "p2.json")
	if code, out := cli("plan", recipe, "--simulate", "--var", "greeting=bye", "-out", p2); code != 0 {
		t.Fatalf("plan p2: %d\n%s", code, out)
	}
	if code, out := cli("apply", recipe, "--simulate", "--var", "greeting=hi", "-auto-approve"); code != 0 {
		t.Fatalf("apply in between: %d\n%s", code, out)
	}
	code, out := cli("apply", p2)
	if code != 1 || !strings.Contains(out, "stale") {
		t.Fatalf("stale plan applied (exit %d):\n%s", code, out)
	}

	// A plan made before the recipe changed is stale.
	p3 := filepath.Join(dir, "p3.json")
	if code, out := cli("plan", recipe, "--simulate", "--var", "greeting=hi", "-out", p3); code != 0 {
		t.Fatalf("plan p3: %d\n%s", code, out)
	}
	if err := os.WriteFile(recipe, append(src, []byte("\n# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := cli("apply", p3); code != 1 || !strings.Contains(out, "recipe changed") {
		t.Fatalf("plan for an edited recipe applied (exit %d):\n%s", code, out)
	}
}
