package main

import (
	"path/filepath"
	"testing"

	"diffuser/workspace"
)

// runsOf lists a workspace's runs under data, newest first.
func runsOf(t *testing.T, data, ws string) []*workspace.Run {
	t.Helper()
	runs, err := (&workspace.Env{DataDir: data}).Runs(ws)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// latestRun is a workspace's latest run.
func latestRun(t *testing.T, data, ws string) *workspace.Run {
	t.Helper()
	runs := runsOf(t, data, ws)
	if len(runs) == 0 {
		t.Fatalf("workspace %s under %s has no runs", ws, data)
	}
	return runs[0]
}

// logHeader is the line diffuser logs prints before the log of step on
// host in the workspace's latest run.
func logHeader(t *testing.T, data, ws, step, host string) string {
	t.Helper()
	return "==> " + step + " on " + host + " (" + filepath.Join(latestRun(t, data, ws).LogDir(), "steps.log") + ") <=="
}
