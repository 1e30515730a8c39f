package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker"
	"diffuser/workspace"
)

// listSweeper lists one cluster no workspace owns and records removals.
type listSweeper struct {
	clusters []docker.ClusterMarks
	removed  []string
}

func (s *listSweeper) Clusters(context.Context) ([]docker.ClusterMarks, error) {
	return s.clusters, nil
}
func (s *listSweeper) Remove(_ context.Context, c docker.ClusterMarks, _ []string) error {
	s.removed = append(s.removed, c.Cluster)
	return nil
}
func (s *listSweeper) Close() error { return nil }

// TestSweepBeforeCommands: every command that works on clusters or
// workspaces sweeps first; validate, fmt, graph, recipes, version,
// completion and help do not, nor does any command with
// DIFFUSER_NO_SWEEP=1. A sweep that cannot reach docker is silent and the
// command runs as without it.
func TestSweepBeforeCommands(t *testing.T) {
	data := t.TempDir()
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := func(env map[string]string, args ...string) (sweeps, code int, stdout, stderr string) {
		t.Helper()
		var out, errb bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
		a.env.Sweeper = func(context.Context) (workspace.ClusterSweeper, error) {
			sweeps++
			return nil, errors.New("docker: cannot reach the Docker Engine")
		}
		code = a.execute(context.Background(), append(args, "--data-dir", data))
		return sweeps, code, out.String(), errb.String()
	}
	for _, c := range []struct {
		args  []string
		sweep bool
	}{
		{[]string{"validate", recipe}, false},
		{[]string{"fmt", "-check", recipe}, false},
		{[]string{"graph", recipe}, false},
		{[]string{"recipes", "list"}, false},
		{[]string{"version"}, false},
		{[]string{"completion", "bash"}, false},
		{[]string{"help", "plan"}, false},
		{[]string{"plan", "--help"}, false},
		{[]string{"state"}, false},
		{[]string{"workspace"}, false},
		{[]string{"plan", recipe, "--simulate"}, true},
		{[]string{"apply", recipe, "--simulate", "-auto-approve", "--progress", "quiet"}, true},
		{[]string{"hosts", "golden"}, true},
		{[]string{"state", "list", "golden"}, true},
		{[]string{"workspace", "list"}, true},
		{[]string{"runs", "golden"}, true},
		{[]string{"destroy", recipe, "--simulate", "-auto-approve", "--progress", "quiet"}, true},
		{[]string{"destroy", "--expired", "--all-workspaces", "-auto-approve"}, true},
	} {
		n, code, out, errs := cli(nil, c.args...)
		if got := n > 0; got != c.sweep {
			t.Errorf("%v: swept %d times, want sweep %v", c.args, n, c.sweep)
		}
		if n > 1 {
			t.Errorf("%v: swept %d times", c.args, n)
		}
		if c.args[0] != "fmt" && code != 0 {
			t.Errorf("%v: exit %d\n%s%s", c.args, code, out, errs)
		}
		if strings.Contains(errs, "sweep") {
			t.Errorf("%v: an unreachable engine was not silent: %s", c.args, errs)
		}
		if c.sweep {
			for _, off := range []string{"1", "yes"} {
				if n, _, _, _ := cli(map[string]string{"DIFFUSER_NO_SWEEP": off}, c.args...); n != 0 {
					t.Errorf("%v with DIFFUSER_NO_SWEEP=%s: swept", c.args, off)
				}
			}
			if n, _, _, _ := cli(map[string]string{"DIFFUSER_NO_SWEEP": "0"}, c.args...); n != 1 {
				t.Errorf("%v with DIFFUSER_NO_SWEEP=0: swept %d times, want once", c.args, n)
			}
		}
	}
}

// TestSweepSaysOnStderr: what the sweep removed is said on stderr; stdout
// (here workspace list -json) stays the command's own.
func TestSweepSaysOnStderr(t *testing.T) {
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	s := &listSweeper{clusters: []docker.ClusterMarks{
		{Cluster: "gone-abcdef", Containers: []docker.Marked{{Name: "diffuser-gone-abcdef-node-0", Group: "node", Index: "0",
			Expires: now.Add(-time.Minute).Format(time.RFC3339), WorkDir: filepath.Join(t.TempDir(), "x", "gone")}}},
		{Cluster: "keep-abcdef", Containers: []docker.Marked{{Name: "diffuser-keep-abcdef-node-0", Group: "node", Index: "0",
			Expires: now.Add(time.Minute).Format(time.RFC3339), WorkDir: filepath.Join(t.TempDir(), "x", "keep")}}},
	}}
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	a.env.Now = func() time.Time { return now }
	a.env.Sweeper = func(context.Context) (workspace.ClusterSweeper, error) { return s, nil }
	if code := a.execute(context.Background(), []string{"workspace", "list", "-json", "--data-dir", t.TempDir()}); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if len(s.removed) != 1 || s.removed[0] != "gone-abcdef" {
		t.Errorf("removed %v, want [gone-abcdef]", s.removed)
	}
	if !strings.Contains(errb.String(), "swept expired cluster gone-abcdef (deadline 2031-01-01T07:59:00Z)") {
		t.Errorf("stderr:\n%s", errb.String())
	}
	if strings.TrimSpace(out.String()) != "[]" {
		t.Errorf("stdout is not the list alone:\n%s", out.String())
	}
}
