package workspace_test

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/probe"
	"diffuser/state"
	"diffuser/workspace"
)

// The system-test harness: one data directory and the Env over it, driven
// the way the CLI drives it (refresh on, the lock for apply and destroy),
// with results returned instead of printed. Real-host tests pair it with
// node containers from cloud/docker/dockertest; the simulated ones set
// Env.Sim.

// sysEnv is an Env on a temporary data directory.
type sysEnv struct {
	env *workspace.Env
}

// newSysEnv returns an Env whose data directory is data (a new temp
// directory when empty).
func newSysEnv(t testing.TB, data string) *sysEnv {
	t.Helper()
	if data == "" {
		data = filepath.Join(t.TempDir(), ".diffuser")
	}
	return &sysEnv{env: &workspace.Env{DataDir: data}}
}

func (s *sysEnv) data() string { return s.env.DataDir }

// planOf plans in for command ("plan", "apply" or "destroy"), refresh on.
// The caller closes the result.
func (s *sysEnv) planOf(in workspace.Inputs, command string, replace ...string) (*workspace.Planned, error) {
	return s.env.Plan(context.Background(), workspace.PlanRequest{Inputs: in, Command: command,
		Lock: command != "plan", Destroy: command == "destroy", Refresh: true, Replace: replace})
}

// changes plans in (as `diffuser plan`) and returns address -> change.
func (s *sysEnv) changes(t testing.TB, in workspace.Inputs) map[string]*engine.Change {
	t.Helper()
	pl, err := s.planOf(in, "plan")
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	defer pl.Close()
	m := map[string]*engine.Change{}
	for _, c := range append(append([]*engine.Change{}, pl.Plan.Changes...), pl.Plan.Destroys...) {
		m[c.Addr] = c
	}
	return m
}

// noChanges fails the test unless a plan of in would change nothing.
func (s *sysEnv) noChanges(t testing.TB, in workspace.Inputs) {
	t.Helper()
	if ch := s.changes(t, in); len(ch) > 0 {
		t.Fatalf("plan is not a no-op: %s", strings.Join(changeLines(ch), "; "))
	}
}

// applied is what one apply or destroy did.
type applied struct {
	Plan  *engine.Plan
	Res   *engine.Result // nil when the plan had no changes
	Run   *workspace.Run // nil when the plan had no changes
	State *state.State   // the workspace's state afterwards
}

// Outcome is the run's outcome (zero when nothing ran).
func (a applied) Outcome() engine.Outcome {
	if a.Res == nil {
		return engine.Outcome{}
	}
	return a.Res.Outcome()
}

// applyOf plans and applies in, as `diffuser apply -auto-approve` (or
// destroy) does: with no changes it saves state and runs nothing. err is
// a failure to plan, start or save; step failures are in Res.
func (s *sysEnv) applyOf(in workspace.Inputs, command string, replace ...string) (applied, error) {
	pl, err := s.planOf(in, command, replace...)
	if err != nil {
		return applied{}, err
	}
	defer pl.Close()
	a := applied{Plan: pl.Plan}
	if !pl.Plan.HasChanges() {
		err = pl.SaveUnchanged()
		a.State = pl.WS.State
		return a, err
	}
	a.Res, err = pl.Apply(context.Background(), workspace.ApplyOptions{Command: []string{"diffuser", command}})
	a.Run, a.State = pl.Run, pl.WS.State
	return a, err
}

// savePlan plans in as `diffuser plan -out path` (refresh on).
func (s *sysEnv) savePlan(t testing.TB, in workspace.Inputs, path string) {
	t.Helper()
	pl, err := s.planOf(in, "plan")
	if err != nil {
		t.Fatalf("plan -out %s: %v", path, err)
	}
	defer pl.Close()
	if err := pl.Save(path); err != nil {
		t.Fatal(err)
	}
}

// applySaved applies the plan saved at path, as `diffuser apply path`.
// err is a refusal of the plan, or a failure to start or save.
func (s *sysEnv) applySaved(t testing.TB, path string) (applied, error) {
	t.Helper()
	if !workspace.IsPlanFile(path) {
		t.Fatalf("%s is not taken for a plan file", path)
	}
	sp, err := s.env.ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.env.PlanSaved(context.Background(), sp)
	if err != nil {
		return applied{}, err
	}
	defer pl.Close()
	res, err := pl.Apply(context.Background(), workspace.ApplyOptions{PlanFile: path})
	return applied{Plan: pl.Plan, Res: res, Run: pl.Run, State: pl.WS.State}, err
}

// mustApply applies (or destroys) and fails the test on any error or
// failed step.
func (s *sysEnv) mustApply(t testing.TB, in workspace.Inputs, command string, replace ...string) applied {
	t.Helper()
	start := time.Now()
	a, err := s.applyOf(in, command, replace...)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	if a.Res != nil && len(a.Res.Failures) > 0 {
		t.Fatalf("%s failed: %+v", command, a.Outcome().Failures)
	}
	o := a.Outcome()
	t.Logf("%s: %d done in %s", command, o.Done, time.Since(start).Round(100*time.Millisecond))
	return a
}

// verify runs the recipe's verify blocks, as `diffuser verify`, and fails
// the test unless there are checks and all pass; it returns the checks.
func (s *sysEnv) verify(t *testing.T, in workspace.Inputs) []probe.Check {
	t.Helper()
	ctx := context.Background()
	ws, conn, closeConn, err := s.env.OpenApplied(ctx, in, "verify")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	defer closeConn()
	checks, err := probe.Verify(ctx, ws.Loaded, ws.State, probe.VerifyOptions{Connector: conn})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(checks) == 0 {
		t.Fatal("verify ran no checks")
	}
	failed := false
	for _, c := range checks {
		if !c.OK {
			failed = true
			t.Errorf("verify %s %s on %s failed: %s", c.Verify, c.Name, c.Host, c.Detail)
		}
	}
	if failed {
		t.FailNow()
	}
	return checks
}

// readState reads a workspace's state the way the CLI does (state.json
// with the journal replayed), without taking the lock.
func (s *sysEnv) readState(t testing.TB, ws string) *state.State {
	t.Helper()
	st, err := s.env.ReadState(ws)
	if err != nil {
		t.Fatalf("state of workspace %s does not load: %v", ws, err)
	}
	return st
}

// diagText is an error's diagnostics as summary and detail lines (the
// error's text for other errors).
func diagText(err error) string {
	var de *workspace.DiagError
	if !errors.As(err, &de) {
		return err.Error()
	}
	var b strings.Builder
	for _, d := range de.Diags {
		b.WriteString(d.Summary + "\n" + d.Detail + "\n")
	}
	return b.String()
}

func changeLines(m map[string]*engine.Change) []string {
	var out []string
	for a, c := range m {
		out = append(out, c.Action.String()+" "+a+" ("+c.Reason+")")
	}
	sort.Strings(out)
	return out
}
