package workspace

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/internal/strictjson"
	"diffuser/state"
)

// Run statuses. A run is written "running" when it starts and gets one of
// the others when it ends; "interrupted" is never written: Runs reports it
// for a run still marked running whose process no longer holds the
// workspace lock (it was killed, or its machine went down).
const (
	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunStopped     = "stopped" // Ctrl-C: nothing new was started, what ran finished
	RunInterrupted = "interrupted"
)

// DefaultKeepRuns is how many runs a workspace keeps when neither the
// command line (-keep-runs) nor the site file (keep_runs) says.
const DefaultKeepRuns = 20

// Run is one apply or destroy as its run.json keeps it: what ran, with
// what, against which state, and how it ended. Sensitive values are not
// in it: -var values of sensitive variables are redacted from Command, and
// failures carry what the summary printed (sensitive steps' output never).
type Run struct {
	ID        string   `json:"id"`
	Workspace string   `json:"workspace"`
	Operation string   `json:"operation"` // apply | destroy
	Status    string   `json:"status"`
	Error     string   `json:"error,omitempty"` // why a run failed outside its steps (saving state)
	Command   []string `json:"command,omitempty"`
	PlanFile  string   `json:"plan_file,omitempty"` // the saved plan it applied

	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`

	Recipe       string    `json:"recipe"`
	Source       RecipeRef `json:"source"`
	Provider     string    `json:"provider"`
	Lineage      string    `json:"lineage,omitempty"`
	SerialBefore uint64    `json:"serial_before"`
	SerialAfter  uint64    `json:"serial_after,omitempty"`

	// Holder is the process that ran it, to tell a run still going from
	// one that was killed.
	Holder state.Holder `json:"holder"`
	// Actions are the plan it carried out, in plan order. They are kept
	// beside run.json, in actions.json (one action a line): a plan of
	// 100,000 instances is 10 MB that listing runs need not read.
	Actions []engine.ActionRecord `json:"-"`
	// Outcome is set when the run ended.
	Outcome *engine.Outcome `json:"outcome,omitempty"`

	dir string
}

// Dir is the run's directory.
func (r *Run) Dir() string { return r.dir }

// LogDir is the run's log directory: steps.log in it (remote.RunLog), or
// <step>/<host>.log files in runs written by earlier versions.
func (r *Run) LogDir() string { return filepath.Join(r.dir, "logs") }

// TimelinePath is where the run's timeline page goes.
func (r *Run) TimelinePath() string { return filepath.Join(r.dir, "timeline.html") }

// Timeline is the run's timeline page, or "" when it has none (nothing
// ran, or the run was interrupted).
func (r *Run) Timeline() string {
	if _, err := os.Stat(r.TimelinePath()); err != nil {
		return ""
	}
	return r.TimelinePath()
}

// Duration is how long the run took, or has been running; 0 for an
// interrupted run (its end is unknown).
func (r *Run) Duration() time.Duration {
	switch {
	case !r.Ended.IsZero():
		return r.Ended.Sub(r.Started)
	case r.Status == RunRunning:
		return time.Since(r.Started)
	}
	return 0
}

const runIDTime = "20060102T150405Z"

// newRunID is the UTC start time to the second and 4 random hex digits:
// ids sort by time and two runs started in the same second differ.
func newRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return now.UTC().Format(runIDTime) + "-" + hex.EncodeToString(b)
}

// runIDTimeOf parses a run id; ok is false for a name that is not one (a
// directory under runs/ diffuser did not make, and never deletes).
func runIDTimeOf(id string) (time.Time, bool) {
	ts, suffix, found := strings.Cut(id, "-")
	if !found || len(suffix) != 4 {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(suffix); err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(runIDTime, ts)
	return t, err == nil
}

// writeRun writes run.json.
func writeRun(r *Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(r.dir, "run.json"), append(b, '\n'))
}

// writeFile replaces path with b atomically (temporary file, fsync,
// rename), 0600 like everything under the data directory.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// readRun reads a run's directory, with the plan's actions when asked. A
// directory without a readable run.json (a run killed before it wrote
// one) reads as a run still marked running, started at its id's time,
// with Error saying what is missing.
func readRun(ws, dir string, actions bool) *Run {
	id := filepath.Base(dir)
	r := &Run{}
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	why := "no run record: "
	if err == nil {
		// A key given twice: which one is the run's?
		if err = strictjson.Unmarshal(b, r); err != nil {
			why, err = "damaged run record: ", strictjson.InFile(path, b, err)
		}
	}
	if err != nil || r.ID != id {
		started, _ := runIDTimeOf(id)
		if err != nil {
			why += err.Error()
		} else {
			why += "run.json does not name this run"
		}
		r = &Run{ID: id, Status: RunRunning, Started: started, Error: why}
	}
	r.Workspace = ws
	r.dir = dir
	if actions {
		if b, err := os.ReadFile(filepath.Join(dir, "actions.json")); err == nil {
			// A torn file shows no actions; so does one with a key given
			// twice ("action": "noop", "action": "delete"), not one of
			// them.
			var acts []engine.ActionRecord
			if strictjson.Unmarshal(b, &acts) == nil {
				r.Actions = acts
			}
		}
	}
	return r
}

// writeActions writes the run's actions to actions.json, a JSON list
// with one action a line.
func writeActions(r *Run) error {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, a := range r.Actions {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteString("\n]\n")
	return writeFile(filepath.Join(r.dir, "actions.json"), buf.Bytes())
}

// Runs lists a workspace's runs, newest first, without their actions
// (FindRun reads a run whole); with name "", every workspace's. A run
// still marked running whose process no longer holds the workspace lock
// is reported interrupted.
func (e *Env) Runs(name string) ([]*Run, error) {
	names := []string{name}
	if name == "" {
		names = e.runWorkspaces()
	} else if err := CheckName(name); err != nil {
		return nil, err
	} else if _, err := os.Stat(e.Layout().Workspace(name)); err != nil {
		return nil, e.noWorkspace(name)
	}
	var out []*Run
	for _, n := range names {
		runs, err := e.workspaceRuns(n)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	sortRuns(out)
	return out, nil
}

func (e *Env) noWorkspace(name string) error {
	have := e.runWorkspaces()
	if len(have) == 0 {
		return fmt.Errorf("no workspace %q under %s, and no workspace there has runs", name, e.dataDir())
	}
	return fmt.Errorf("no workspace %q under %s; workspaces with runs: %s", name, e.dataDir(), strings.Join(have, ", "))
}

// runWorkspaces lists the workspaces that have a runs directory.
func (e *Env) runWorkspaces() []string {
	ents, _ := os.ReadDir(e.dataDir())
	var out []string
	for _, ent := range ents {
		if fi, err := os.Stat(e.Layout().Runs(ent.Name())); ent.IsDir() && err == nil && fi.IsDir() {
			out = append(out, ent.Name())
		}
	}
	sort.Strings(out)
	return out
}

func (e *Env) workspaceRuns(name string) ([]*Run, error) {
	dir := e.Layout().Runs(name)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	var out []*Run
	var holder *state.Holder
	holderRead := false
	for _, ent := range ents {
		if _, ok := runIDTimeOf(ent.Name()); !ok || !ent.IsDir() {
			continue
		}
		r := readRun(name, filepath.Join(dir, ent.Name()), false)
		if r.Status == RunRunning {
			if !holderRead {
				if b, err := e.envBackend(name, false); err == nil {
					holder, _ = b.LockInfo()
				}
				holderRead = true
			}
			if !holds(holder, r.Holder) {
				r.Status = RunInterrupted
			}
		}
		out = append(out, r)
	}
	sortRuns(out)
	return out, nil
}

// holds says whether the lock holder h is the process that ran a run.
func holds(h *state.Holder, run state.Holder) bool {
	return h != nil && run.PID != 0 && h.PID == run.PID && h.Hostname == run.Hostname &&
		h.ProcStart == run.ProcStart && !h.Stale()
}

// sortRuns orders runs newest first: by start time, then id.
func sortRuns(runs []*Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if !a.Started.Equal(b.Started) {
			return a.Started.After(b.Started)
		}
		return a.ID > b.ID
	})
}

// FindRun finds a run by its id or a unique prefix of it, in workspace
// name or, with name "", in every workspace.
func (e *Env) FindRun(name, id string) (*Run, error) {
	if id == "" {
		return nil, errors.New("no run id given: see diffuser runs for the ids")
	}
	runs, err := e.Runs(name)
	if err != nil {
		return nil, err
	}
	var matches []*Run
	for _, r := range runs {
		if r.ID == id {
			matches = []*Run{r}
			break
		}
		if strings.HasPrefix(r.ID, id) {
			matches = append(matches, r)
		}
	}
	where := "under " + e.dataDir()
	if name != "" {
		where = "in workspace " + name
	}
	switch len(matches) {
	case 1:
		full := readRun(matches[0].Workspace, matches[0].dir, true)
		full.Status = matches[0].Status // as Runs tells it: interrupted, perhaps
		return full, nil
	case 0:
		return nil, fmt.Errorf("no run %q %s: diffuser runs lists the runs kept (the oldest are removed, see keep_runs)", id, where)
	}
	var names []string
	for _, r := range matches {
		names = append(names, r.ID+" ("+r.Workspace+")")
	}
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	return nil, fmt.Errorf("%q matches %d runs %s: %s; give more of the id", id, len(matches), where, strings.Join(names, ", "))
}

// pruneRuns removes a workspace's oldest runs so that keep remain, the
// current one included (keep 0: all stay). A run whose process still
// holds the lock and directories that are not runs are never removed.
// It returns what it could not remove, as warnings.
func (e *Env) pruneRuns(name, current string, keep int) []string {
	if keep <= 0 {
		return nil
	}
	runs, err := e.workspaceRuns(name)
	if err != nil {
		return []string{err.Error()}
	}
	var warns []string
	kept := 0
	for _, r := range runs {
		if r.ID == current || r.Status == RunRunning {
			kept++
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := os.RemoveAll(r.dir); err != nil {
			warns = append(warns, fmt.Sprintf("removing old run %s: %v", r.ID, err))
		}
	}
	return warns
}
