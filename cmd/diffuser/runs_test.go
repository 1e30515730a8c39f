package main

import (
	"context"
	"diffuser/workspace"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const historyRecipe = `recipe "hist" {
  description = "two steps whose commands say which input made them"
}

variable "tag" {
  type    = string
  default = "one"
}

variable "other" {
  type    = string
  default = "x"
}

variable "password" {
  type      = string
  default   = "none"
  sensitive = true
}

hosts "node" { count = 2 }

step "hello" {
  on  = hosts.node
  run = "echo tag ${var.tag} on ${host.name}"
}

step "other" {
  on  = hosts.node[0]
  run = "echo other ${var.other}"
}

step "flaky" {
  on    = hosts.node[1]
  after = [step.hello]
  run   = "check ${var.other}"
}
`

// historyEnv is a simCLI whose commands print themselves, and whose
// "check fail" exits 3.
func historyEnv(t *testing.T) (*simCLI, string) {
	t.Helper()
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "check fail") {
			return 0, 3, "check failed on " + host + "\n"
		}
		return 0, 0, "ran: " + cmd + "\n"
	})
	return e, e.write("hist/main.hcl", historyRecipe)
}

func (e *simCLI) apply(recipe string, args ...string) (int, string) {
	e.t.Helper()
	code, out, errs := e.run(append([]string{"apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "plain"}, args...)...)
	return code, out + errs
}

// TestRunsLogsApartPerWorkspace: two workspaces with the same step and
// host names keep their logs apart (they used to share
// <data-dir>/logs/<step>/<host>.log, the last apply overwriting the
// other's).
func TestRunsLogsApartPerWorkspace(t *testing.T) {
	e, recipe := historyEnv(t)
	for _, ws := range []string{"alpha", "beta"} {
		if code, out := e.apply(recipe, "--workspace", ws, "-var", "tag="+ws); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s", ws, code, out)
		}
	}
	for _, ws := range []string{"alpha", "beta"} {
		out := e.must("logs", "--workspace", ws, "hello", "node[1]")
		want := logHeader(t, e.data, ws, "hello", "node[1]")
		if !strings.Contains(out, want) || !strings.Contains(out, "ran: echo tag "+ws+" on node[1]") {
			t.Errorf("logs --workspace %s hello node[1] (want %s):\n%s", ws, want, out)
		}
		for _, other := range []string{"alpha", "beta"} {
			if other != ws && strings.Contains(out, "tag "+other) {
				t.Errorf("workspace %s's log holds %s's output:\n%s", ws, other, out)
			}
		}
	}
	// Without --workspace: the latest run that logged the step, anywhere.
	if out := e.must("logs", "hello", "node[0]"); !strings.Contains(out, "tag beta on node[0]") {
		t.Errorf("logs hello without --workspace reads the latest run (beta's):\n%s", out)
	}
	runs := e.must("runs")
	if !strings.Contains(runs, "WORKSPACE") || !strings.Contains(runs, "alpha") || !strings.Contains(runs, "beta") {
		t.Errorf("runs of every workspace:\n%s", runs)
	}
	if code, _, errs := e.run("runs", "gamma"); code != 1 || !strings.Contains(errs, `no workspace "gamma"`) ||
		!strings.Contains(errs, "workspaces with runs: alpha, beta") {
		t.Errorf("runs of an unknown workspace: exit %d\n%s", code, errs)
	}
}

// TestRunsHistory: each run keeps its own logs, readable after the next
// run; logs reads the latest run that logged the step and says when that
// is not the latest run; -keep-runs prunes the oldest; runs lists them
// newest first with their counts.
func TestRunsHistory(t *testing.T) {
	e, recipe := historyEnv(t)
	if code, out := e.apply(recipe, "-var", "tag=first"); code != 0 {
		t.Fatalf("apply 1: exit %d\n%s", code, out)
	}
	run1 := latestRun(t, e.data, "hist")
	if code, out := e.apply(recipe, "-var", "tag=second"); code != 0 {
		t.Fatalf("apply 2: exit %d\n%s", code, out)
	}
	run2 := latestRun(t, e.data, "hist")
	if run1.ID == run2.ID {
		t.Fatal("two applies, one run")
	}
	// Run 1's logs are intact after run 2. Read by a prefix of its id
	// that run 2's does not share (two runs in one second share all but
	// the random end: 1 time in 256 its first two characters too).
	prefix := run1.ID[:len(run1.ID)-2]
	for n := len(prefix); strings.HasPrefix(run2.ID, prefix) && n < len(run1.ID); n++ {
		prefix = run1.ID[:n+1]
	}
	out := e.must("logs", "--run", prefix, "hello", "node[0]")
	if !strings.Contains(out, "ran: echo tag first on node[0]") || strings.Contains(out, "second") {
		t.Errorf("logs --run <run 1 prefix> hello node[0]:\n%s", out)
	}
	if out := e.must("logs", "hello", "node[0]"); !strings.Contains(out, "tag second") {
		t.Errorf("logs hello reads the latest run:\n%s", out)
	}
	// Run 3 changes only "other" (and re-checks flaky): hello did not run.
	if code, out := e.apply(recipe, "-var", "tag=second", "-var", "other=y"); code != 0 {
		t.Fatalf("apply 3: exit %d\n%s", code, out)
	}
	run3 := latestRun(t, e.data, "hist")
	code, stdout, stderr := e.run("logs", "hello", "node[0]")
	if code != 0 || !strings.Contains(stdout, "tag second on node[0]") || !strings.Contains(stdout, run2.ID) ||
		!strings.Contains(stderr, "did not log on host node[0] in the latest run, "+run3.ID) ||
		!strings.Contains(stderr, "these logs are from run "+run2.ID) {
		t.Errorf("logs of a step the latest run did not run: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, errs := e.run("logs", "--run", run3.ID, "hello"); code != 1 || !strings.Contains(errs, "steps with logs in run "+run3.ID+": flaky, other") {
		t.Errorf("logs --run of a run without the step: exit %d\n%s", code, errs)
	}

	// A failing run, then the table.
	if code, out := e.apply(recipe, "-var", "tag=second", "-var", "other=fail"); code != 1 {
		t.Fatalf("apply 4 should fail: exit %d\n%s", code, out)
	}
	run4 := latestRun(t, e.data, "hist")
	lines := strings.Split(strings.TrimSpace(e.must("runs", "hist")), "\n")
	if len(lines) != 5 || strings.Contains(lines[0], "WORKSPACE") {
		t.Fatalf("runs hist: want a header and 4 runs, without the workspace column:\n%s", strings.Join(lines, "\n"))
	}
	for i, want := range []struct {
		id, result string
		counts     []string
	}{{run4.ID, "failed", []string{"1", "1", "0"}}, {run3.ID, "succeeded", []string{"2", "0", "0"}},
		{run2.ID, "succeeded", []string{"2", "0", "0"}}, {run1.ID, "succeeded", []string{"6", "0", "0"}}} {
		f := strings.Fields(lines[i+1])
		if len(f) != 9 || f[0] != want.id || f[1] != "apply" || f[5] != want.result || strings.Join(f[6:], " ") != strings.Join(want.counts, " ") {
			t.Errorf("runs line %d: %q, want %s apply … %s %v", i+1, lines[i+1], want.id, want.result, want.counts)
		}
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(e.must("runs", "hist", "-json")), &js); err != nil || len(js) != 4 || js[0]["id"] != run4.ID ||
		js[0]["status"] != "failed" || js[0]["actions"] != nil {
		t.Errorf("runs -json: %v %v", err, js)
	}

	// Keep 2: runs 1 to 3 go, run 4 stays with the new one.
	if code, out := e.apply(recipe, "-var", "tag=third", "-var", "other=ok", "-keep-runs", "2"); code != 0 {
		t.Fatalf("apply 5: exit %d\n%s", code, out)
	}
	runs := runsOf(t, e.data, "hist")
	if len(runs) != 2 || runs[1].ID != run4.ID {
		t.Errorf("after -keep-runs 2: %d runs (%v), want the new one and %s", len(runs), runs, run4.ID)
	}
	if _, err := os.Stat(run1.Dir()); !os.IsNotExist(err) {
		t.Errorf("run 1's directory is still there: %v", err)
	}
	if code, _, errs := e.run("logs", "--run", run1.ID, "hello"); code != 1 || !strings.Contains(errs, "no run \""+run1.ID+"\"") {
		t.Errorf("logs of a pruned run: exit %d\n%s", code, errs)
	}
	if code, out := e.apply(recipe, "-var", "tag=4th", "-keep-runs", "-1"); code != 1 || !strings.Contains(out, "0 to keep them all") {
		t.Errorf("-keep-runs -1: exit %d\n%s", code, out)
	}
	// An apply with nothing to do is not a run.
	if code, out := e.apply(recipe, "-var", "tag=third"); code != 0 || !strings.Contains(out, "No changes") || len(runsOf(t, e.data, "hist")) != 2 {
		t.Errorf("a no-op apply: exit %d, %d runs (want 2: it is not a run)\n%s", code, len(runsOf(t, e.data, "hist")), out)
	}
	if out := e.must("__complete", "show", ""); !strings.Contains(out, runs[0].ID+"\n") {
		t.Errorf("show does not complete run ids:\n%s", out)
	}
	if out := e.must("__complete", "logs", "--run", ""); !strings.Contains(out, runs[1].ID+"\n") {
		t.Errorf("logs --run does not complete run ids:\n%s", out)
	}
	if out := e.must("__complete", "logs", ""); !strings.Contains(out, "flaky\n") || !strings.Contains(out, "hello\n") {
		t.Errorf("logs does not complete steps:\n%s", out)
	}
}

// TestRunsDestroyKeepsApplyTimeline: destroy is a run of its own; the
// apply's timeline and logs stay.
func TestRunsDestroyKeepsApplyTimeline(t *testing.T) {
	e, recipe := historyEnv(t)
	if code, out := e.apply(recipe); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	apply := latestRun(t, e.data, "hist")
	page, err := os.ReadFile(apply.TimelinePath())
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := e.run("destroy", recipe, "-provider", "sim", "-auto-approve", "--progress", "plain")
	if code != 0 {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errs)
	}
	destroy := latestRun(t, e.data, "hist")
	if destroy.ID == apply.ID || destroy.Operation != "destroy" || destroy.Status != "succeeded" {
		t.Fatalf("destroy run: %+v", destroy)
	}
	if !strings.Contains(out, "Timeline: "+destroy.TimelinePath()) {
		t.Errorf("destroy does not print its own timeline:\n%s", out)
	}
	after, err := os.ReadFile(apply.TimelinePath())
	if err != nil || string(after) != string(page) {
		t.Errorf("the apply's timeline changed or went with destroy: %v", err)
	}
	if d, err := os.ReadFile(destroy.TimelinePath()); err != nil || string(d) == string(page) || !strings.Contains(string(d), "destroy") {
		t.Errorf("destroy's timeline: %v", err)
	}
	show := e.must("show", apply.ID)
	if !strings.Contains(show, "Timeline: "+apply.TimelinePath()) || !strings.Contains(show, "Logs:     "+apply.LogDir()) {
		t.Errorf("show of the apply after destroy:\n%s", show)
	}
	lines := strings.Split(strings.TrimSpace(e.must("runs", "hist")), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "destroy") || !strings.Contains(lines[2], "apply") {
		t.Errorf("runs after destroy:\n%s", strings.Join(lines, "\n"))
	}
}

// TestShowRunAndPlanFile: show renders a past failed run as apply ended
// (failures with their logs, counts, the plan's actions, the timeline)
// and a saved plan of any name, hiding sensitive variable values.
func TestShowRunAndPlanFile(t *testing.T) {
	e, recipe := historyEnv(t)
	if code, out := e.apply(recipe, "-var", "other=fail", "-var", "password=hunter2"); code != 1 {
		t.Fatalf("apply should fail: exit %d\n%s", code, out)
	}
	r := latestRun(t, e.data, "hist")
	out := e.must("show", r.ID[:12])
	for _, want := range []string{
		"Run " + r.ID + ": apply of workspace hist, failed",
		"password=(sensitive)",
		"Recipe    hist (" + recipe + ")",
		"Provider  sim",
		"State     serial 0 → ",
		"== hosts \"node\" ==",
		`+   launch["node[0]"]`,
		`+   step.flaky["node[1]"]`,
		"Plan: 6 to add, 0 to change, 0 to destroy.",
		`step.flaky["node[1]"] on host node[1] exited with status 3`,
		"check failed on node[1]",
		"log: " + filepath.Join(r.LogDir(), "steps.log") + " (diffuser logs flaky 'node[1]')",
		"Apply finished in",
		"5 done, 1 failed, 0 skipped",
		"Timeline: " + r.TimelinePath(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("show prints the sensitive value:\n%s", out)
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(e.must("show", r.ID, "-json")), &js); err != nil || js["status"] != "failed" ||
		js["timeline"] != r.TimelinePath() || js["dir"] != r.Dir() || len(js["actions"].([]any)) != 6 {
		t.Errorf("show -json: %v %v", err, js)
	}

	// Saved plans, by any name: .hcl included (recognized by content).
	for _, name := range []string{"tomorrow", "plan.hcl", "p.json"} {
		p := filepath.Join(e.dir, name)
		e.must("plan", recipe, "-provider", "sim", "-var", "other=ok", "-var", "password=hunter3", "-out", p)
		out := e.must("show", p)
		for _, want := range []string{
			"Saved plan " + p, "Recipe     " + recipe, "Provider   sim", "Variables  other=ok password=(sensitive)",
			"State      serial ", "== hosts \"node\" ==", `+   step.flaky["node[1]"]`, `~   step.other["node[0]"]`,
			"Plan: 1 to add, 1 to change, 0 to destroy.",
			"diffuser apply " + p,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("show %s lacks %q:\n%s", name, want, out)
			}
		}
		if strings.Contains(out, "hunter3") {
			t.Errorf("show %s prints the sensitive value:\n%s", name, out)
		}
	}
	// A file that is no plan is not offered as plan -out's target (which
	// would refuse it anyway); a plan of another version is.
	notPlan := e.write("notes.txt", "hello\n")
	if code, _, errs := e.run("show", notPlan); code != 1 || !strings.Contains(errs, "is not a diffuser plan file; give a file written by `diffuser plan RECIPE -out FILE`") ||
		strings.Contains(errs, "-out "+notPlan) {
		t.Errorf("show of a file that is no plan: exit %d\n%s", code, errs)
	}
	newer := e.write("newer.plan", `{"format": "diffuser-plan", "version": 99, "actions": {}}`)
	if code, _, errs := e.run("show", newer); code != 1 || !strings.Contains(errs, "is not a diffuser plan file of this version (version 99") ||
		!strings.Contains(errs, "-out "+newer) {
		t.Errorf("show of a plan of another version: exit %d\n%s", code, errs)
	}
	if code, _, errs := e.run("show", "1999"); code != 1 || !strings.Contains(errs, `no run "1999"`) {
		t.Errorf("show of no run: exit %d\n%s", code, errs)
	}
}

// TestHelperDiffuser is not a test: tests that kill diffuser mid-run run
// the test binary with DIFFUSER_HELPER_ARGS (a JSON list of arguments)
// and it runs that command line, then exits.
func TestHelperDiffuser(t *testing.T) {
	raw := os.Getenv("DIFFUSER_HELPER_ARGS")
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	// Of the environment, only the state key reaches the helper's diffuser.
	getenv := func(k string) string {
		if k == workspace.StateKeyEnv {
			return os.Getenv(k)
		}
		return ""
	}
	os.Exit((&app{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr, getenv: getenv}).execute(context.Background(), args))
}

// slowApply starts `diffuser apply` of the history recipe on simulated
// hosts whose steps take a minute, as a process of its own (this test
// binary, TestHelperDiffuser) with env added, and returns once a step is
// running: the recipe's path, the process, and kill, which SIGKILLs it and
// waits for it to end.
func slowApply(t *testing.T, dir, data string, env ...string) (recipe string, cmd *exec.Cmd, kill func()) {
	t.Helper()
	recipe = filepath.Join(dir, "hist.hcl")
	slow := filepath.Join(dir, "slow.json")
	for p, content := range map[string]string{recipe: historyRecipe, slow: `{"kinds": {"run": {"mean": "60s"}}, "scale": 1}`} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args, _ := json.Marshal([]string{"apply", recipe, "--simulate", "--sim-profile", slow, "-auto-approve", "--progress", "plain", "--data-dir", data})
	cmd = exec.Command(os.Args[0], "-test.run=^TestHelperDiffuser$")
	cmd.Env = append(append(os.Environ(), "DIFFUSER_HELPER_ARGS="+string(args)), env...)
	outFile := filepath.Join(dir, "apply.out")
	f, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	// Wait for a step to be running: launches are recorded, the run started.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(readFile(t, outFile), "hello: started") {
		if time.Now().After(deadline) {
			t.Fatalf("the apply started no step in 30s:\n%s", readFile(t, outFile))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return recipe, cmd, func() { _ = cmd.Process.Signal(syscall.SIGKILL); <-done }
}

// TestRunsInterruptedBySIGKILL: an apply killed mid-run leaves its run
// marked running with no end; runs and show call it interrupted once its
// process is gone, and the next apply is a run of its own.
func TestRunsInterruptedBySIGKILL(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	recipe, cmd, kill := slowApply(t, dir, data)
	runs := runsOf(t, data, "hist")
	if len(runs) != 1 || runs[0].Status != "running" {
		t.Fatalf("while the apply runs: %+v", runs)
	}
	kill()
	killed := runs[0]

	e := newSimCLI(t, nil)
	e.data = data
	table := e.must("runs", "hist")
	if !strings.Contains(table, killed.ID) || !strings.Contains(table, "interrupted") {
		t.Errorf("runs after the kill:\n%s", table)
	}
	show := e.must("show", killed.ID)
	if !strings.Contains(show, "apply of workspace hist, interrupted") || !strings.Contains(show, "was interrupted") ||
		!strings.Contains(show, fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Errorf("show of the killed run:\n%s", show)
	}
	e.must("apply", recipe, "--simulate", "-auto-approve", "--progress", "quiet")
	after := runsOf(t, data, "hist")
	if len(after) != 2 || after[0].Status != "succeeded" || after[1].ID != killed.ID || after[1].Status != "interrupted" {
		for _, r := range after {
			t.Errorf("after the next apply: %s %s", r.ID, r.Status)
		}
		t.Errorf("want 2 runs: a new one that succeeded, and %s interrupted", killed.ID)
	}
}

// TestFailedRunPrintsOutputOnce: a failed step's output is printed once in
// the summary, under "last output" (its error carried it too, and the
// summary printed both), at the end of apply and by show RUN.
func TestFailedRunPrintsOutputOnce(t *testing.T) {
	e, recipe := historyEnv(t)
	code, out := e.apply(recipe, "-var", "other=fail")
	if code != 1 {
		t.Fatalf("apply should fail: exit %d\n%s", code, out)
	}
	summary := out[strings.Index(out, "step instance(s) failed"):]
	shown := e.must("show", latestRun(t, e.data, "hist").ID)
	for name, text := range map[string]string{"apply": summary, "show": shown} {
		if n := strings.Count(text, "check failed on node[1]"); n != 1 {
			t.Errorf("%s prints the output %d times:\n%s", name, n, text)
		}
		if !strings.Contains(text, "    command exited with status 3\n    step declared at") ||
			!strings.Contains(text, "    last output:\n      check failed on node[1]\n") {
			t.Errorf("%s: the error or the output is missing:\n%s", name, text)
		}
	}
}
