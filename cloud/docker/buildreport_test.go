package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBuild runs the phases of a debootstrap build with stand-in commands
// (the debootstrap phase prints 900 lines, as the real one does; fail makes
// the node setup phase fail) and reports them to progress, as ensureImage
// does. It needs no engine and no root.
func fakeBuild(t *testing.T, dir string, progress *BuildSummary, fail bool) error {
	t.Helper()
	info := BuildInfo{Tag: "diffuser-node:test",
		Title:  "building node image diffuser-node:test with debootstrap from http://mirror.test/debian (bookworm)",
		Phases: []string{PhaseDebootstrap, PhaseNodeSetup, PhaseImport}}
	run, err := startBuild(dir, info, progress)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run.phase(PhaseDebootstrap)
	err = runLogged(ctx, run.w, "debootstrap: ", "sh", "-c", `i=0; while [ $i -lt 900 ]; do echo "I: Retrieving package$i"; i=$((i+1)); done`)
	if err == nil {
		run.phase(PhaseNodeSetup)
		script := "echo configuring; echo done"
		if fail {
			script = "echo configuring; echo 'setup.sh: no space left' >&2; exit 3"
		}
		err = runLogged(ctx, run.w, "setup: ", "sh", "-c", script)
	}
	if err == nil {
		run.phase(PhaseImport)
		fmt.Fprintln(run.w, "importing root filesystem as diffuser-node:test")
	}
	return run.end(err)
}

// steppingClock returns a clock that moves on by step at every reading.
func steppingClock(step time.Duration) func() time.Time {
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	return func() time.Time { now = now.Add(step); return now }
}

// TestBuildSummaryIsShort: a build whose programs print 900 lines shows a
// summary of a few lines (title, log path, each phase started and done
// with its duration, the total), and the log file holds every line.
func TestBuildSummaryIsShort(t *testing.T) {
	dir := t.TempDir()
	var out []string
	sum := NewBuildSummary(func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) })
	sum.now = steppingClock(70 * time.Second)
	if err := fakeBuild(t, dir, sum, false); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, buildLogName)
	want := []string{
		"building node image diffuser-node:test with debootstrap from http://mirror.test/debian (bookworm)",
		"full log: " + logPath,
		"10:02:20 debootstrap: started",
		"10:03:30 debootstrap: done (1m10s)",
		"10:03:30 node setup: started",
		"10:04:40 node setup: done (1m10s)",
		"10:04:40 import: started",
		"10:05:50 import: done (1m10s)",
		"diffuser-node:test: done in 4m40s",
	}
	if got := strings.Join(out, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, s := range []string{"debootstrap: I: Retrieving package0\n", "debootstrap: I: Retrieving package899\n",
		"==> node setup\n", "setup: configuring\n", "importing root filesystem", "==> done\n"} {
		if !strings.Contains(log, s) {
			t.Errorf("build log lacks %q", s)
		}
	}
	if n := strings.Count(log, "\n"); n < 900 {
		t.Errorf("build log has %d lines, want every line of output", n)
	}
}

// TestBuildSummaryFailure: a failed phase is named with its duration, and
// the last lines of output follow the log's path.
func TestBuildSummaryFailure(t *testing.T) {
	dir := t.TempDir()
	var out []string
	sum := NewBuildSummary(func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) })
	sum.now = steppingClock(time.Second)
	err := fakeBuild(t, dir, sum, true)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("error %v, want the setup command's exit status", err)
	}
	got := strings.Join(out, "\n")
	for _, s := range []string{
		"10:00:04 node setup: failed (1s)",
		"diffuser-node:test: failed after 3s; last lines of " + filepath.Join(dir, buildLogName) + ":",
		"  | debootstrap: I: Retrieving package899",
		"  | setup: setup.sh: no space left",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("summary lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(got, "import") {
		t.Errorf("summary mentions a phase after the failure:\n%s", got)
	}
	if len(out) > 7+summaryTail {
		t.Errorf("summary of a failure has %d lines:\n%s", len(out), got)
	}
}

// TestBuildWithoutReporter: a plain progress writer (no BuildReporter)
// still gets the title, the log's path and every line, as before.
func TestBuildWithoutReporter(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	run, err := startBuild(dir, BuildInfo{Title: "building node image x"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	run.phase(PhaseDebootstrap)
	if err := runLogged(context.Background(), run.w, "debootstrap: ", "sh", "-c", "echo one; echo two"); err != nil {
		t.Fatal(err)
	}
	if err := run.end(nil); err != nil {
		t.Fatal(err)
	}
	want := "building node image x (full log: " + filepath.Join(dir, buildLogName) + ")\ndebootstrap: one\ndebootstrap: two\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
}
