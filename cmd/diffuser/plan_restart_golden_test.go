package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanRestartGolden: plans of restart_on (paired per host: the conf
// of worker[1] restarts only worker[1]'s daemon) and reload_on (another
// host set: every daemon reloads), text and JSON, with their reasons.
func TestPlanRestartGolden(t *testing.T) {
	data := t.TempDir()
	recipe := filepath.Join("testdata", "restart", "recipe.hcl")
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		args = append(args, "--data-dir", data, "--simulate", "--sim-seed", "1")
		if code := run(context.Background(), nil, args, strings.NewReader(""), &out, &out); code != wantCode {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, wantCode, out.String())
		}
		return out.String()
	}
	cli(0, "apply", recipe, "-auto-approve", "--progress", "quiet")
	cli(0, "plan", recipe, "--detailed-exitcode")
	for _, c := range []struct {
		name string
		vars []string
	}{
		{"restart", []string{"conf=b"}},
		{"reload", []string{"peers=q"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"plan", recipe, "--detailed-exitcode"}
			for _, v := range c.vars {
				args = append(args, "--var", v)
			}
			golden(t, filepath.Join("testdata", "restart", c.name+".txt"), cli(2, args...))
			golden(t, filepath.Join("testdata", "restart", c.name+".json"), cli(2, append(args, "-json")...))
		})
	}
}
