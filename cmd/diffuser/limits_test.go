package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBadLimitFlags: a negative limit is refused before anything is
// planned, naming the flag and what to give instead.
func TestBadLimitFlags(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	for _, flag := range []string{"max-connects", "max-uploads", "max-sessions-per-host", "parallelism"} {
		for _, cmd := range []string{"apply", "destroy"} {
			res := badRun(t, cmd, recipe, "--simulate", "--auto-approve", "--data-dir", t.TempDir(), "--"+flag, "-3")
			checkFailed(t, res)
			if !strings.Contains(res.stderr, "--"+flag+" is -3: give a positive number, or 0 for no limit") {
				t.Errorf("%s --%s -3: %s", cmd, flag, res.stderr)
			}
		}
	}
}

// TestLimitFlagsApply: the limits given on the command line, 0 included,
// run a simulated apply to the end.
func TestLimitFlagsApply(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	res := badRun(t, "apply", recipe, "--simulate", "--auto-approve", "--data-dir", t.TempDir(), "--progress", "plain",
		"--max-connects", "1", "--max-uploads", "0", "--max-sessions-per-host", "1")
	if res.code != 0 || !strings.Contains(res.stdout, "0 failed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}
