package views

import (
	"bytes"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/probe"
)

// TestSavedPlanAndRunShownAsText: show FILE and show RUN print what a saved
// plan or a run record holds (files that may come from elsewhere: a plan
// made by CI, reviewed before apply) with escapes and newlines as escapes,
// one value a line: an ESC or a newline in a variable, a target, the site
// or an address could retitle the terminal, colour or hide text, or forge
// a line of what apply would do.
func TestSavedPlanAndRunShownAsText(t *testing.T) {
	esc := "\x1b]0;PWNED\x07\x1b[2J\rforged\u202e"
	forged := "x\n  Targets   (none)"
	var b bytes.Buffer
	WritePlanFile(&b, PlanFileInfo{Path: "p" + esc, Workspace: esc, Recipe: esc, Digest: esc, Provider: esc,
		Vars: []string{"v=" + esc, forged}, VarFiles: []string{esc}, Site: esc, Targets: []string{esc}, Replace: []string{esc},
		Serial: 1, Lineage: esc, Simulated: esc, Note: esc, Groups: []string{esc},
		Actions: []engine.ActionRecord{{Address: "step.a" + esc, Action: "create" + esc, Group: esc}}})
	WriteRun(&b, RunInfo{ID: esc, Workspace: esc, Operation: esc, Status: "interrupted", Error: esc, Command: []string{esc},
		PlanFile: esc, Recipe: esc, Source: esc, Provider: esc, Holder: esc, LogDir: esc, Timeline: esc,
		Actions: []engine.ActionRecord{{Address: esc, Action: "destroy", Group: "g"}}})
	if err := WriteRuns(&b, []RunInfo{{ID: esc, Workspace: esc, Operation: esc, Status: esc}}, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if i := strings.IndexAny(out, "\x1b\x07\r\u202e"); i >= 0 {
		t.Errorf("a raw escape reaches the terminal after %q", out[max(0, i-80):i+1])
	}
	if strings.Contains(out, "\n  Targets   (none)") || !strings.Contains(out, `x\n  Targets   (none)`) {
		t.Errorf("a variable's newline forged a line:\n%s", out)
	}
}

// TestBenchShownAsText: bench's table, notes and errors quote what a
// client printed (its filesystem type, fio's complaint): escapes are shown
// as escapes, not sent to the terminal.
func TestBenchShownAsText(t *testing.T) {
	esc := "\x1b]0;PWNED\x07\x1b[2J\u202e"
	rep := &probe.BenchReport{Clients: []probe.BenchClient{
		{Host: "client[0]", Path: "/mnt", FSType: "ext4" + esc, Tool: "fio", ReadMode: "fio invalidate=1" + esc, Note: esc},
		{Host: "client[1]", Path: "/mnt", Err: "fio does not work here: " + esc},
	}}
	var out, errs bytes.Buffer
	WriteBench(&out, &errs, rep)
	WriteCompareEvent(&out, "gl", "apply", "failed", 0, "step.x on h: "+esc)
	all := out.String() + errs.String()
	if strings.ContainsAny(all, "\x1b\x07\u202e") || !strings.Contains(all, `ext4\x1b]0;PWNED\a`) || !strings.Contains(errs.String(), `work here: \x1b]0;PWNED`) {
		t.Errorf("a client's escapes reached the terminal raw, or were lost:\n%q", all)
	}
}

// TestRunsWithWorkspaceColumn: runs of several workspaces get a WORKSPACE
// column, each value under its header (the tab after the workspace is
// the table's, not escaped as text).
func TestRunsWithWorkspaceColumn(t *testing.T) {
	var b bytes.Buffer
	if err := WriteRuns(&b, []RunInfo{{ID: "20261207T115835Z-e749", Workspace: "d2g", Operation: "apply", Status: "succeeded"}}, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || strings.Contains(b.String(), `\t`) {
		t.Fatalf("table:\n%s", b.String())
	}
	for _, col := range []struct{ head, value string }{{"WORKSPACE", "d2g"}, {"OPERATION", "apply"}, {"RESULT", "succeeded"}} {
		if h, v := strings.Index(lines[0], col.head), strings.Index(lines[1], col.value); h < 0 || h != v {
			t.Errorf("%s at column %d, its value %q at %d:\n%s", col.head, h, col.value, v, b.String())
		}
	}
}
