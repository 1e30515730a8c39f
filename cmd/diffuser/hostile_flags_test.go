package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileDataDirAndFlags: a --data-dir that cannot hold workspaces,
// and numbers and durations out of range, are refused before anything is
// read or written, naming the flag and what to give instead.
func TestHostileDataDirAndFlags(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	root := t.TempDir()
	file := filepath.Join(root, "a-file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", "", "plan", "--simulate", recipe}, "--data-dir is empty: give a directory, or leave the flag out for .diffuser"},
		{[]string{"--data-dir", file, "plan", "--simulate", recipe}, "--data-dir " + file + " is a file, not a directory"},
		{[]string{"--data-dir", file, "workspace", "list"}, "--data-dir " + file + " is a file, not a directory"},
		{[]string{"--data-dir", filepath.Join(file, "sub"), "apply", "--simulate", "-auto-approve", recipe}, "--data-dir " + filepath.Join(file, "sub") + ": stat " + filepath.Join(file, "sub") + ": not a directory"},
		{[]string{"--data-dir", os.DevNull, "state", "list", "w"}, "--data-dir /dev/null is a file, not a directory"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--parallelism", "-1", recipe}, "--parallelism is -1: give a positive number, or 0 for no limit"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--parallelism", "99999999999999999999", recipe}, `invalid argument "99999999999999999999" for "--parallelism"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--max-connects", "-5", recipe}, "--max-connects is -5: give a positive number, or 0 for no limit"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--keep-runs", "-1", recipe}, "--keep-runs is -1"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--lock-timeout", "-1s", recipe}, "-lock-timeout is -1s"},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--step-timeout", "soon", recipe}, `invalid argument "soon" for "--step-timeout"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "-1h", recipe}, `--ttl: invalid ttl "-1h": a ttl is at least 1m and at most 366d`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "0s", recipe}, `--ttl: invalid ttl "0s": a ttl is at least 1m and at most 366d, or 0 to remove the deadline`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "1w", recipe}, `--ttl: invalid ttl "1w": write a duration such as 90m, 4h or 7d`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "$(reboot)", recipe}, `--ttl: invalid ttl "$(reboot)"`},
		{[]string{"--data-dir", data, "apply", "--simulate", "-auto-approve", "--ttl", "9999999h", recipe}, `--ttl: invalid ttl "9999999h"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			before := treeBytes(t, root)
			res := badRun(t, tc.args...)
			checkFailed(t, res)
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
			}
			sameTree(t, "temp dir", before, treeBytes(t, root))
		})
	}
}
