package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/workspace"
)

// simWorld is an Env on one simulated cloud with the real step kinds: a
// runner records commands and answers them with the world's behavior.
type simWorld struct {
	t     *testing.T
	cloud *sim.Cloud
	env   *workspace.Env
	dir   string

	mu      sync.Mutex
	answers map[string]func(host string) (int, string) // by command prefix
}

func newSimWorld(t *testing.T) *simWorld {
	t.Helper()
	w := &simWorld{t: t, cloud: sim.New(), dir: t.TempDir(), answers: map[string]func(string) (int, string){}}
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for prefix, f := range w.answers {
			if strings.HasPrefix(cmd, prefix) {
				exit, out := f(host)
				return 0, exit, out
			}
		}
		return 0, 0, ""
	}
	w.env = &workspace.Env{DataDir: filepath.Join(w.dir, "data"),
		Factories: map[string]cloud.Factory{"sim": w.cloud.Factory()}, Connector: w.cloud.Connector()}
	return w
}

// answer makes commands starting with prefix answer f(host).
func (w *simWorld) answer(prefix string, f func(host string) (exit int, stdout string)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answers[prefix] = f
}

// recipe writes a recipe file and returns its path.
func (w *simWorld) recipe(name, src string) string {
	w.t.Helper()
	p := filepath.Join(w.dir, name+".hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *simWorld) inputs(recipe, ws string) workspace.Inputs {
	return workspace.Inputs{Recipe: recipe, Provider: "sim", Workspace: ws}
}

// plan plans recipe in workspace ws (no lock) and returns a summary line
// per change, sorted, as "+ launch[...]" / "~ step.x[...] (reason)".
func (w *simWorld) plan(recipe, ws string) []string {
	w.t.Helper()
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: w.inputs(recipe, ws), Command: "plan", Refresh: true})
	if err != nil {
		w.t.Fatalf("plan: %v", err)
	}
	defer pl.Close()
	var out []string
	for _, c := range append(pl.Plan.Changes, pl.Plan.Destroys...) {
		line := c.Action.Symbol() + " " + c.Addr
		if c.Reason != "" {
			line += " (" + c.Reason + ")"
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// apply applies recipe in workspace ws and fails the test on any failure.
func (w *simWorld) apply(recipe, ws string) *engine.Result {
	w.t.Helper()
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: w.inputs(recipe, ws), Command: "apply", Lock: true, Refresh: true})
	if err != nil {
		w.t.Fatalf("plan for apply: %v", err)
	}
	defer pl.Close()
	res, err := pl.Apply(context.Background(), workspace.ApplyOptions{})
	if err != nil {
		w.t.Fatalf("apply: %v", err)
	}
	if len(res.Failures) > 0 {
		w.t.Fatalf("apply failed: %+v", res.Failures)
	}
	return res
}

func (w *simWorld) state(ws string) *state.State {
	w.t.Helper()
	st, err := w.env.ReadState(ws)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// backup reads state.json.backup of ws.
func (w *simWorld) backup(ws string) *state.State {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.env.Layout().Workspace(ws), state.BackupFile))
	if err != nil {
		w.t.Fatalf("no backup: %v", err)
	}
	tmp := w.t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, state.StateFile), b, 0o600); err != nil {
		w.t.Fatal(err)
	}
	st, err := state.Open(tmp).Load()
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func sortedAddrs(st *state.State) []string {
	var out []string
	for h := range st.Hosts {
		out = append(out, h)
	}
	for a := range st.Steps {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
