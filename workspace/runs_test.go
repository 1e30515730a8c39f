package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diffuser/state"
)

const runsRecipe = `recipe "hist" {}

variable "tag" {
  type    = string
  default = "0"
}

variable "secret" {
  type      = string
  default   = "s"
  sensitive = true
}

hosts "node" { count = 2 }

step "hello" {
  on  = hosts.node
  run = "echo ${var.tag}"
}
`

// applyTag applies the recipe with tag (so that every call changes
// something) on simulated hosts and returns the run.
func applyTag(t *testing.T, e *Env, dir, tag string, opt ApplyOptions) *Run {
	t.Helper()
	pl, err := e.Plan(context.Background(), PlanRequest{Inputs: Inputs{Recipe: filepath.Join(dir, "hist.hcl"),
		Vars: []string{"tag=" + tag}, Site: filepath.Join(dir, "site.hcl")}, Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	res, err := pl.Apply(context.Background(), opt)
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply tag=%s: %v %v", tag, err, res.Failures)
	}
	return pl.Run
}

func runsEnv(t *testing.T, site string) (*Env, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hist.hcl"), []byte(runsRecipe), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.hcl"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Env{DataDir: filepath.Join(dir, "data"), Sim: SimOptions{Enabled: true}}, dir
}

func runIDs(t *testing.T, e *Env, ws string) []string {
	t.Helper()
	runs, err := e.Runs(ws)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// TestRunRecord: a run's record says what ran, with what, against which
// state and how it ended; sensitive -var values are redacted.
func TestRunRecord(t *testing.T) {
	e, dir := runsEnv(t, "")
	cmd := []string{"diffuser", "apply", "hist.hcl", "-var", "tag=1", "--var", "secret=hunter2", "-var=secret=hunter3", "--var=tag=1"}
	r := applyTag(t, e, dir, "1", ApplyOptions{Command: cmd})
	b, err := os.ReadFile(filepath.Join(e.Layout().Run("hist", r.ID), "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter") {
		t.Errorf("run.json holds a sensitive value:\n%s", b)
	}
	var got Run
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wantCmd := []string{"diffuser", "apply", "hist.hcl", "-var", "tag=1", "--var", "secret=(sensitive)", "-var=secret=(sensitive)", "--var=tag=1"}
	if !reflect.DeepEqual(got.Command, wantCmd) {
		t.Errorf("command %q, want %q", got.Command, wantCmd)
	}
	if got.Operation != "apply" || got.Status != RunSucceeded || got.Recipe != "hist" || got.Provider != "sim" ||
		got.SerialBefore != 0 || got.SerialAfter == 0 || got.Ended.Before(got.Started) || got.Outcome == nil ||
		got.Outcome.Done != 4 || got.Holder.PID != os.Getpid() {
		t.Errorf("run record: %+v", got)
	}
	if fi, err := os.Stat(e.Layout().Run("hist", r.ID)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("run directory: %v %v", fi.Mode(), err)
	}
	for _, name := range []string{"run.json", "actions.json"} {
		if fi, err := os.Stat(filepath.Join(e.Layout().Run("hist", r.ID), name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Lists leave the actions out; FindRun reads the run whole.
	if runs, err := e.Runs("hist"); err != nil || len(runs) != 1 || runs[0].Actions != nil || runs[0].Outcome == nil {
		t.Errorf("Runs: %v %+v", err, runs)
	}
	if full, err := e.FindRun("hist", r.ID); err != nil || len(full.Actions) != 4 || full.Actions[0].Group != "node" {
		t.Errorf("FindRun: %v %+v", err, full)
	}
	// The next run starts from the serial this one ended at.
	r2 := applyTag(t, e, dir, "2", ApplyOptions{})
	if r2.SerialBefore != got.SerialAfter {
		t.Errorf("second run starts at serial %d, the first ended at %d", r2.SerialBefore, got.SerialAfter)
	}
}

// TestRunsPruned: the last N runs stay (the flag, else the site's
// keep_runs, else 20); older ones go; directories that are not runs are
// left alone; 0 keeps every run.
func TestRunsPruned(t *testing.T) {
	e, dir := runsEnv(t, "keep_runs = 3\n")
	var made []string
	for i := range 5 {
		made = append(made, applyTag(t, e, dir, fmt.Sprint(i), ApplyOptions{}).ID)
	}
	want := []string{made[4], made[3], made[2]}
	if got := runIDs(t, e, "hist"); !reflect.DeepEqual(got, want) {
		t.Errorf("site keep_runs = 3: runs %v, want %v", got, want)
	}
	stray := filepath.Join(e.Layout().Runs("hist"), "notes")
	if err := os.Mkdir(stray, 0o700); err != nil {
		t.Fatal(err)
	}
	one := 1
	last := applyTag(t, e, dir, "5", ApplyOptions{KeepRuns: &one}).ID
	if got := runIDs(t, e, "hist"); !reflect.DeepEqual(got, []string{last}) {
		t.Errorf("-keep-runs 1: runs %v, want only %s", got, last)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("pruning removed a directory that is not a run: %v", err)
	}
	all := 0
	for i := range 3 {
		applyTag(t, e, dir, fmt.Sprint(10+i), ApplyOptions{KeepRuns: &all})
	}
	if got := runIDs(t, e, "hist"); len(got) != 4 {
		t.Errorf("-keep-runs 0: %d runs, want all 4", len(got))
	}
	neg := -1
	pl, err := e.Plan(context.Background(), PlanRequest{Inputs: Inputs{Recipe: filepath.Join(dir, "hist.hcl"),
		Vars: []string{"tag=x"}}, Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if _, err := pl.Apply(context.Background(), ApplyOptions{KeepRuns: &neg}); err == nil || !strings.Contains(err.Error(), "0 to keep them all") {
		t.Errorf("negative keep: %v", err)
	}
	if pl.Run != nil {
		t.Errorf("a refused apply started a run")
	}
}

// TestRunsDefaultKeep: without flag or site setting, 20 runs stay.
func TestRunsDefaultKeep(t *testing.T) {
	e, dir := runsEnv(t, "")
	if ws, err := e.Load(Inputs{Recipe: filepath.Join(dir, "hist.hcl")}); err != nil {
		t.Fatal(err)
	} else if n, err := ws.keepRuns(nil); err != nil || n != DefaultKeepRuns || DefaultKeepRuns != 20 {
		t.Errorf("default keep: %d %v", n, err)
	}
}

// TestRunsInterrupted: a run marked running whose process no longer
// holds the lock is interrupted; the holder's own run is running; a run
// directory without a record (killed before writing it) is interrupted.
func TestRunsInterrupted(t *testing.T) {
	e := &Env{DataDir: t.TempDir()}
	l := e.Layout()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me := state.CurrentHolder("apply")
	gone := me
	gone.PID = dead.ProcessState.Pid()
	gone.ProcStart = ""
	write := func(id string, h state.Holder, started time.Time) {
		t.Helper()
		r := &Run{ID: id, Workspace: "w", Operation: "apply", Status: RunRunning, Started: started, Holder: h, dir: l.Run("w", id)}
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := writeRun(r); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write("20260102T030405Z-aaaa", gone, t0)
	if err := os.MkdirAll(l.Run("w", "20260102T030406Z-bbbb"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("20260102T030407Z-cccc", me, t0.Add(2*time.Second))

	status := func() map[string]string {
		runs, err := e.Runs("w")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range runs {
			out[r.ID] = r.Status
		}
		return out
	}
	want := map[string]string{"20260102T030405Z-aaaa": RunInterrupted, "20260102T030406Z-bbbb": RunInterrupted,
		"20260102T030407Z-cccc": RunInterrupted}
	if got := status(); !reflect.DeepEqual(got, want) {
		t.Errorf("nobody holds the lock: %v, want %v", got, want)
	}
	unlock, err := state.Open(l.Workspace("w")).Lock(context.Background(), me)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	want["20260102T030407Z-cccc"] = RunRunning
	if got := status(); !reflect.DeepEqual(got, want) {
		t.Errorf("this process holds the lock: %v, want %v", got, want)
	}
	r, err := e.FindRun("w", "20260102T030406")
	if err != nil || !strings.Contains(r.Error, "no run record") || !r.Started.Equal(t0.Add(time.Second)) {
		t.Errorf("a run without run.json: %+v %v", r, err)
	}
}

// TestFindRun: an id or a unique prefix finds a run, in one workspace
// or in all; an ambiguous prefix names the candidates.
func TestFindRun(t *testing.T) {
	e := &Env{DataDir: t.TempDir()}
	for ws, ids := range map[string][]string{"a": {"20260102T030405Z-aaaa", "20260102T030405Z-abcd"}, "b": {"20260103T000000Z-0000"}} {
		for i, id := range ids {
			started, _ := runIDTimeOf(id)
			r := &Run{ID: id, Operation: "apply", Status: RunSucceeded, Started: started.Add(time.Duration(i) * time.Millisecond),
				dir: e.Layout().Run(ws, id)}
			if err := os.MkdirAll(r.dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := writeRun(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, err := e.FindRun("", "20260103"); err != nil || r.ID != "20260103T000000Z-0000" || r.Workspace != "b" {
		t.Errorf("unique prefix: %v %v", r, err)
	}
	if r, err := e.FindRun("a", "20260102T030405Z-ab"); err != nil || r.ID != "20260102T030405Z-abcd" {
		t.Errorf("unique prefix in a workspace: %v %v", r, err)
	}
	if _, err := e.FindRun("", "2026"); err == nil || !strings.Contains(err.Error(), "matches 3 runs") ||
		!strings.Contains(err.Error(), "20260102T030405Z-aaaa (a)") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := e.FindRun("b", "20260102"); err == nil || !strings.Contains(err.Error(), "no run \"20260102\" in workspace b") {
		t.Errorf("no match: %v", err)
	}
	if _, err := e.FindRun("nosuch", "2026"); err == nil || !strings.Contains(err.Error(), "workspaces with runs: a, b") {
		t.Errorf("unknown workspace: %v", err)
	}
	// Newest first, across workspaces; within one second by start time.
	if got := runIDs(t, e, ""); !reflect.DeepEqual(got, []string{"20260103T000000Z-0000", "20260102T030405Z-abcd", "20260102T030405Z-aaaa"}) {
		t.Errorf("all runs: %v", got)
	}
}

func TestRunIDs(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 30, 12, 0, time.Local)
	id := newRunID(now)
	if !strings.HasPrefix(id, now.UTC().Format("20060102T150405Z")+"-") || len(id) != len("20261206T033012Z-4f2a") {
		t.Errorf("id %q", id)
	}
	if ts, ok := runIDTimeOf(id); !ok || !ts.Equal(now) {
		t.Errorf("runIDTimeOf(%q) = %v %v", id, ts, ok)
	}
	seen := map[string]bool{}
	for range 50 {
		seen[newRunID(now)] = true
	}
	if len(seen) < 40 {
		t.Errorf("only %d distinct ids in 50 made in the same second", len(seen))
	}
	for _, bad := range []string{"notes", "20261206T033012Z", "20261206T033012Z-zzzz", "2026-12-06-4f2a", "20261206T033012Z-4f2a1"} {
		if _, ok := runIDTimeOf(bad); ok {
			t.Errorf("%q taken for a run id", bad)
		}
	}
}
