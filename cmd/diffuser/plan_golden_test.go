package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanGolden plans the same recipe against the states an operator
// meets: empty (create), applied (no-op), a variable changed (update) and
// a host group shrunk (destroy), in human and JSON form, on the simulated
// provider so that addresses are stable.
func TestPlanGolden(t *testing.T) {
	data := t.TempDir()
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		args = append(args, "--data-dir", data, "--simulate", "--sim-seed", "1")
		code := run(context.Background(), nil, args, strings.NewReader(""), &out, &out)
		return code, out.String()
	}
	check := func(name string, wantCode int, args ...string) string {
		t.Helper()
		code, out := cli(args...)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s", name, code, wantCode, out)
		}
		if strings.Contains(out, "s3cr3t-token") {
			t.Fatalf("%s: the sensitive variable's value is in the output:\n%s", name, out)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		apply bool // apply before this plan, with the previous case's variables
		vars  []string
		code  int
	}{
		{name: "create", code: 2},
		{name: "noop", apply: true, code: 0},
		{name: "update", vars: []string{"greeting=bye"}, code: 2},
		{name: "shrink", vars: []string{"workers=1"}, code: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.apply {
				check("apply", 0, "apply", recipe, "-auto-approve", "--progress", "quiet")
			}
			args := []string{"plan", recipe, "--detailed-exitcode"}
			for _, v := range c.vars {
				args = append(args, "--var", v)
			}
			golden(t, filepath.Join("testdata", "plan", c.name+".txt"), check("plan", c.code, args...))
			golden(t, filepath.Join("testdata", "plan", c.name+".json"), check("plan -json", c.code, append(args, "-json")...))
		})
	}
}
