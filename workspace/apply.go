package workspace

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

// ApplyOptions steer Apply.
type ApplyOptions struct {
	// Parallelism caps the step instances running at once (0 = no limit,
	// the default: what is scarce is bounded by the limits below).
	Parallelism int
	// MaxConnects, MaxUploads and MaxSessionsPerHost are
	// engine.Limits (0 = no limit); nil: the site file's max_connects,
	// max_uploads and max_sessions_per_host, else engine.DefaultLimits.
	MaxConnects, MaxUploads, MaxSessionsPerHost *int
	// StepTimeout bounds one attempt of a step without its own `timeout`
	// (0 = engine.DefaultStepTimeout, negative = no bound).
	StepTimeout time.Duration
	OnEvent     func(engine.Event)
	// Command is the command line as typed, kept in the run record with
	// the values of sensitive -var flags redacted.
	Command []string
	// PlanFile is the saved plan being applied, if any.
	PlanFile string
	// KeepRuns is how many runs the workspace keeps, this one included
	// (0: all). nil: the site file's keep_runs, else DefaultKeepRuns.
	KeepRuns *int
}

// Apply runs the plan as a run (see Run) and saves state. State exists on
// disk before the first launch: an apply killed before its first record
// would otherwise leave hosts under a cluster name the next apply never
// looks for. An apply (not a destroy) also records the inputs it runs
// with before it starts, so that the next command resumes with them even
// when this one is killed. The run's directory and record exist before
// anything runs; the oldest runs beyond the kept number are removed then.
// The returned error is a failure to start the run or to save state; step
// failures are in the result. pl.Run is the run, once started.
func (pl *Planned) Apply(ctx context.Context, opt ApplyOptions) (*engine.Result, error) {
	ws := pl.WS
	if err := pl.CheckDeadline(); err != nil {
		return nil, err
	}
	ws.State.Recipe = ws.Loaded.Recipe.Name
	ws.State.Provider = ws.Provider
	changed := false
	if !pl.Request.Destroy {
		var err error
		if changed, err = ws.remember(); err != nil {
			return nil, err
		}
		pl.deadlineMoved = ws.setDeadline(pl.Request.TTL)
		changed = pl.deadlineMoved || changed
	}
	if ws.State.Serial == 0 || changed {
		ws.Cluster()
		if err := ws.SaveState(); err != nil {
			return nil, err
		}
	}
	keep, err := ws.keepRuns(opt.KeepRuns)
	if err != nil {
		return nil, err
	}
	limits, err := ws.limits(opt)
	if err != nil {
		return nil, err
	}
	if c, ok := pl.Conn.(*SSHConnector); ok {
		c.SetMaxSessions(limits.SessionsPerHost)
	}
	run, err := pl.startRun(opt)
	if err != nil {
		return nil, err
	}
	pl.Run = run
	pruneWarns := ws.env.pruneRuns(ws.Name, run.ID, keep)
	res := pl.Plan.Apply(ctx, ws.State, engine.ApplyOptions{Provider: pl.Provider, Cluster: ws.Cluster(), Connector: pl.Conn,
		Recorder: storeRecorder{ws.Store}, Parallelism: opt.Parallelism, Limits: limits, Stop: ws.env.Stop, OnEvent: opt.OnEvent,
		LogDir: run.LogDir(), StepTimeout: opt.StepTimeout, Expires: ws.State.Expires})
	if pl.Request.Destroy && len(ws.State.Hosts) == 0 && len(ws.State.Steps) == 0 {
		// The deadline was the destroyed cluster's, as the sweep of an
		// expired docker cluster says too: kept, it would list the empty
		// workspace as due for ever (destroy --expired destroying it at
		// every run) and a later apply without a ttl would inherit it.
		ws.State.Expires = time.Time{}
	}
	saveErr := ws.SaveState()
	res.Warnings = append(res.Warnings, pruneWarns...)
	if pl.deadlineMoved {
		res.Warnings = append(res.Warnings, pl.markDeadline(ctx)...)
	}
	if err := pl.finishRun(ctx, res, saveErr); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
	return res, saveErr
}

// keepRuns resolves how many runs to keep.
func (ws *Workspace) keepRuns(flag *int) (int, error) {
	switch {
	case flag != nil && *flag < 0:
		return 0, fmt.Errorf("--keep-runs is %d: give how many runs to keep, or 0 to keep them all", *flag)
	case flag != nil:
		return *flag, nil
	case ws.Site != nil && ws.Site.KeepRuns != nil:
		return *ws.Site.KeepRuns, nil
	}
	return DefaultKeepRuns, nil
}

// limits resolves the apply's engine.Limits: the flag, else the site
// file, else the default, each on its own.
func (ws *Workspace) limits(opt ApplyOptions) (engine.Limits, error) {
	l := engine.DefaultLimits()
	for _, x := range []struct {
		flag, site *int
		dst        *int
	}{
		{opt.MaxConnects, ws.siteInt(func() *int { return ws.Site.MaxConnects }), &l.Connects},
		{opt.MaxUploads, ws.siteInt(func() *int { return ws.Site.MaxUploads }), &l.Uploads},
		{opt.MaxSessionsPerHost, ws.siteInt(func() *int { return ws.Site.MaxSessionsPerHost }), &l.SessionsPerHost},
	} {
		switch {
		case x.flag != nil:
			*x.dst = *x.flag
		case x.site != nil:
			*x.dst = *x.site
		}
	}
	return l, l.Validate()
}

func (ws *Workspace) siteInt(get func() *int) *int {
	if ws.Site == nil {
		return nil
	}
	return get()
}

// startRun makes the run's directory and writes its record, status running.
func (pl *Planned) startRun(opt ApplyOptions) (*Run, error) {
	ws := pl.WS
	op := "apply"
	if pl.Request.Destroy {
		op = "destroy"
	}
	now := time.Now()
	r := &Run{Workspace: ws.Name, Operation: op, Status: RunRunning, Command: redactCommand(opt.Command, ws.sensitiveVars()),
		PlanFile: opt.PlanFile, Started: now, Recipe: ws.Loaded.Recipe.Name, Source: ws.Source, Provider: ws.Provider,
		Lineage: ws.State.Lineage, SerialBefore: pl.Plan.Serial, Holder: state.CurrentHolder(pl.Request.Command),
		Actions: pl.Plan.ActionRecords()}
	if err := os.MkdirAll(ws.env.Layout().Runs(ws.Name), 0o700); err != nil {
		return nil, fmt.Errorf("creating the runs directory: %w", err)
	}
	for try := 0; ; try++ {
		r.ID = newRunID(now)
		r.dir = ws.env.Layout().Run(ws.Name, r.ID)
		err := os.Mkdir(r.dir, 0o700)
		if err == nil {
			break
		}
		if !os.IsExist(err) || try == 10 {
			return nil, fmt.Errorf("creating the run directory: %w", err)
		}
	}
	if err := writeRun(r); err != nil {
		_ = os.RemoveAll(r.dir)
		return nil, err
	}
	if err := writeActions(r); err != nil {
		_ = os.RemoveAll(r.dir)
		return nil, err
	}
	return r, nil
}

// finishRun records how the run ended.
func (pl *Planned) finishRun(ctx context.Context, res *engine.Result, saveErr error) error {
	r := pl.Run
	o := res.Outcome()
	r.Outcome = &o
	r.Ended = res.End
	r.SerialAfter = pl.WS.State.Serial
	switch {
	case saveErr != nil:
		r.Status = RunFailed
		r.Error = saveErr.Error()
	case o.Failed > 0:
		r.Status = RunFailed
	case o.Skipped > 0 || ctx.Err() != nil || stopped(pl.WS.env.Stop):
		r.Status = RunStopped
	default:
		r.Status = RunSucceeded
	}
	return writeRun(r)
}

func stopped(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sensitiveVars names the recipe's sensitive variables.
func (ws *Workspace) sensitiveVars() map[string]bool {
	out := map[string]bool{}
	for _, v := range ws.Loaded.Recipe.Variables {
		if v.Sensitive {
			out[v.Name] = true
		}
	}
	return out
}

// redactCommand replaces the values of sensitive variables given with
// -var (in any of its spellings: -var N=V, --var N=V, -var=N=V) by
// "(sensitive)".
func redactCommand(args []string, sensitive map[string]bool) []string {
	out := make([]string, len(args))
	redact := func(nv string) string {
		if n, _, ok := strings.Cut(nv, "="); ok && sensitive[strings.TrimSpace(n)] {
			return n + "=(sensitive)"
		}
		return nv
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		out[i] = a
		switch {
		case a == "-var" || a == "--var":
			if i+1 < len(args) {
				i++
				out[i] = redact(args[i])
			}
		case strings.HasPrefix(a, "-var=") || strings.HasPrefix(a, "--var="):
			flag, nv, _ := strings.Cut(a, "=")
			out[i] = flag + "=" + redact(nv)
		}
	}
	return out
}

// SaveUnchanged saves state after a plan with nothing to do: what refresh
// learned and, for an apply, the inputs it ran with. When neither changed
// anything, state is left as it is, its serial too: a no-op apply made
// every plan saved before it stale ("state changed since it was made").
func (pl *Planned) SaveUnchanged() error {
	changed := false
	if !pl.Request.Destroy {
		var err error
		if changed, err = pl.WS.remember(); err != nil {
			return err
		}
		// Destroy commands edited on steps with nothing else to do.
		changed = pl.Plan.RecordDestroys(pl.WS.State) || changed
		pl.deadlineMoved = pl.WS.setDeadline(pl.Request.TTL)
		changed = changed || pl.deadlineMoved
	}
	if !changed && pl.WS.sameAsStored() {
		return nil
	}
	if err := pl.WS.SaveState(); err != nil {
		return err
	}
	if pl.deadlineMoved {
		if w := pl.markDeadline(context.Background()); len(w) > 0 {
			return fmt.Errorf("the new deadline is in state, but: %s", strings.Join(w, "; "))
		}
	}
	return nil
}
