package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"diffuser/compare"
	"diffuser/engine"
	"diffuser/probe"
	"diffuser/state"
)

// Measurer runs the measurements on an applied recipe: probe's functions
// (Probe), or recorded numbers in tests.
type Measurer interface {
	Verify(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.VerifyOptions) ([]probe.Check, error)
	Bench(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.BenchOptions) (*probe.BenchReport, error)
	SmallFiles(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.SmallFileOptions) (*probe.SmallFileReport, error)
}

// Probe measures for real, through probe.
type Probe struct{}

var _ Measurer = Probe{}

// Verify is probe.Verify.
func (Probe) Verify(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.VerifyOptions) ([]probe.Check, error) {
	return probe.Verify(ctx, l, st, opt)
}

// Bench is probe.Bench.
func (Probe) Bench(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.BenchOptions) (*probe.BenchReport, error) {
	return probe.Bench(ctx, l, st, opt)
}

// SmallFiles is probe.SmallFiles.
func (Probe) SmallFiles(ctx context.Context, l *engine.Loaded, st *state.State, opt probe.SmallFileOptions) (*probe.SmallFileReport, error) {
	return probe.SmallFiles(ctx, l, st, opt)
}

// CompareOptions steer Compare.
type CompareOptions struct {
	Entries []compare.Entry
	Params  compare.Params // Provider "" is the site's default_provider, else docker
	// Vars are NAME=VALUE (every recipe that declares NAME; an error when
	// none does) and LABEL.NAME=VALUE (one recipe). They win over the
	// shape Params give.
	Vars []string
	Site string
	// Dir is the report's directory; compare.json there is read to resume
	// and rewritten after every recipe.
	Dir   string
	Keep  bool // leave each cluster running after its measurements
	Fresh bool // measure every recipe again, ignoring compare.json
	// StepTimeout and Parallelism are apply's (ApplyOptions).
	StepTimeout time.Duration
	Parallelism int
	Command     []string // the command line, for the run records
	Measure     Measurer // nil: Probe
	// OnEvent hears of every phase's start and end (nil: nothing).
	OnEvent func(CompareEvent)
	// OnReport is called with the report after each recipe, once
	// compare.json is written (cmd renders the other formats there).
	OnReport func(*compare.Report) error
}

// CompareEvent is a phase of one recipe starting or ending.
type CompareEvent struct {
	Label, Phase string
	State        string // start, done, failed, skipped
	Elapsed      time.Duration
	Detail       string
}

// ErrCompareFailed says some recipe's result is not measured; the report holds
// why.
var ErrCompareFailed = errors.New("not every recipe was measured")

// Compare compares the entries one after the other (measurements of recipes
// on the same machine would disturb each other). A recipe that fails is
// recorded with the phase, step, host and log tail, and the next one
// starts; the report is written after each. It returns ErrFailed when a
// result is not measured, and ctx's error when stopped.
func (env *Env) Compare(ctx context.Context, opt CompareOptions) (*compare.Report, error) {
	if opt.Measure == nil {
		opt.Measure = Probe{}
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the report directory: %w", err)
	}
	var prev *compare.Report
	if !opt.Fresh {
		var err error
		if prev, err = compare.ReadReport(opt.Dir); err != nil {
			return nil, err
		}
	}
	common, per, err := compare.SplitVars(opt.Vars, opt.Entries)
	if err != nil {
		return nil, err
	}
	r := &comparer{env: env, opt: opt, per: per}
	// Load every recipe once to learn which variables each declares.
	r.declared = map[string]map[string]bool{}
	for _, e := range opt.Entries {
		if ws, err := env.Load(r.inputs(e, per[e.Label])); err == nil {
			d := map[string]bool{}
			for _, v := range ws.Loaded.Recipe.Variables {
				d[v.Name] = true
			}
			r.declared[e.Label] = d
			if r.opt.Params.Provider == "" {
				// The provider the site or the default picks, so that the
				// report names it and a result is keyed by it.
				r.opt.Params.Provider = ws.Provider
			}
		}
	}
	for _, v := range common {
		used := false
		for _, d := range r.declared {
			used = used || d[compare.VarName(v)]
		}
		if !used && len(r.declared) > 0 {
			return nil, fmt.Errorf("--var %s: no recipe of the comparison declares %s (give LABEL.%s for one recipe)", v, compare.VarName(v), v)
		}
	}
	r.common = common

	rep := &compare.Report{Version: compare.ReportVersion, Params: r.opt.Params, Machine: compare.MachineInfo(), Started: time.Now().UTC()}
	if prev != nil && !prev.Started.IsZero() {
		rep.Started = prev.Started
	}
	failed := false
	for _, e := range opt.Entries {
		var old *compare.Result
		if prev != nil {
			for i := range prev.Results {
				if prev.Results[i].Label == e.Label {
					old = &prev.Results[i]
				}
			}
		}
		res := r.one(ctx, e, old)
		rep.Results = append(rep.Results, res)
		failed = failed || res.Status != compare.Measured
		rep.Updated = time.Now().UTC()
		if err := r.save(rep); err != nil {
			return rep, err
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	if failed {
		return rep, ErrCompareFailed
	}
	return rep, nil
}

func (r *comparer) save(rep *compare.Report) error {
	b, err := compare.MarshalReport(rep)
	if err != nil {
		return err
	}
	if err := compare.WriteFile(filepath.Join(r.opt.Dir, compare.ReportFile), b); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if r.opt.OnReport != nil {
		return r.opt.OnReport(rep)
	}
	return nil
}

type comparer struct {
	env      *Env
	opt      CompareOptions
	common   []string
	per      map[string][]string
	declared map[string]map[string]bool
}

func (r *comparer) inputs(e compare.Entry, vars []string) Inputs {
	return Inputs{Recipe: e.Recipe, Vars: vars, Site: r.opt.Site, Provider: r.opt.Params.Provider,
		Workspace: compare.WorkspaceName(e.Label), IgnoreRemembered: true}
}

func (r *comparer) event(label, phase, st string, d time.Duration, detail string) {
	if r.opt.OnEvent != nil {
		r.opt.OnEvent(CompareEvent{Label: label, Phase: phase, State: st, Elapsed: d, Detail: detail})
	}
}

// vars are the variables recipe e gets: the shape, the common ones it
// declares, then its own (later ones win).
func (r *comparer) vars(e compare.Entry, recipe string) ([]string, []string) {
	d := r.declared[e.Label]
	own := map[string]bool{}
	for _, v := range r.per[e.Label] {
		own[compare.VarName(v)] = true
	}
	for _, v := range r.common {
		own[compare.VarName(v)] = true
	}
	var out, notes []string
	p := r.opt.Params
	if sv := compare.ServerVar(recipe, d); sv != "" && p.Servers > 0 && !own[sv] {
		out = append(out, sv+"="+strconv.Itoa(p.Servers))
	} else if sv == "" && p.Servers > 0 {
		notes = append(notes, "the recipe has no server-count variable: its own number of servers")
	}
	if d["clients"] && p.Clients > 0 && !own["clients"] {
		out = append(out, "clients="+strconv.Itoa(p.Clients))
	} else if !d["clients"] && p.Clients > 0 {
		notes = append(notes, "the recipe has no clients variable: its own number of clients")
	}
	for _, v := range r.common {
		if d[compare.VarName(v)] {
			out = append(out, v)
		}
	}
	return append(out, r.per[e.Label]...), notes
}

// one compares one recipe: reuse, or clean up, apply, verify, measure and
// destroy.
func (r *comparer) one(ctx context.Context, e compare.Entry, old *compare.Result) compare.Result {
	res := compare.Result{Label: e.Label, Recipe: e.Recipe, Source: e.Recipe, Workspace: compare.WorkspaceName(e.Label), Started: time.Now().UTC(),
		Hosts: map[string]int{}, Vars: []string{}, Clients: []compare.Client{}}
	fail := func(phase string, err error) compare.Result {
		res.Status = compare.Failed
		res.Failure = &compare.Failure{Phase: phase, Error: err.Error()}
		res.Ended = time.Now().UTC()
		r.event(e.Label, phase, "failed", 0, err.Error())
		return res
	}
	probeWS, err := r.env.Load(r.inputs(e, r.per[e.Label]))
	if err != nil {
		return fail("load", err)
	}
	recipe := probeWS.Loaded.Recipe.Name
	vars, notes := r.vars(e, recipe)
	in := r.inputs(e, vars)
	ws, err := r.env.Load(in)
	if err != nil {
		return fail("load", err)
	}
	res.Recipe, res.Notes = recipe, notes
	if ws.Source.Builtin {
		res.Source = "builtin:" + recipe
	}
	res.Vars = shownVars(ws, vars)
	res.Key = resultKey(ws.Source.Digest, vars, r.opt.Params)

	if old != nil && old.Key == res.Key && old.Status == compare.Measured && !r.opt.Fresh {
		return r.reuse(ctx, e, in, *old)
	}

	// From nothing: hosts an earlier attempt left go first.
	if r.hasHosts(res.Workspace) {
		start := time.Now()
		r.event(e.Label, "cleanup", "start", 0, "destroying what an earlier attempt left in workspace "+res.Workspace)
		if err := r.destroy(ctx, in); err != nil {
			return fail("cleanup", err)
		}
		r.event(e.Label, "cleanup", "done", time.Since(start), "")
	}

	if f := r.deployAndMeasure(ctx, e, in, &res); f != nil {
		res.Status = compare.Failed
		res.Failure = f
		r.event(e.Label, f.Phase, "failed", 0, f.Error)
	} else {
		res.Status = compare.Measured
	}
	r.finish(ctx, e, in, &res)
	return res
}

// reuse keeps an earlier measurement; its cluster goes unless -keep.
func (r *comparer) reuse(ctx context.Context, e compare.Entry, in Inputs, kept compare.Result) compare.Result {
	r.event(e.Label, "measure", "skipped", 0, "measured before with the same recipe, variables and parameters (--fresh measures again)")
	if !r.hasHosts(kept.Workspace) {
		kept.DestroyError = "" // destroyed since, by hand
		return kept
	}
	if r.opt.Keep {
		return kept
	}
	start := time.Now()
	r.event(e.Label, "destroy", "start", 0, "")
	if err := r.destroy(ctx, in); err != nil {
		kept.DestroyError = err.Error()
		r.event(e.Label, "destroy", "failed", time.Since(start), err.Error())
	} else {
		kept.DestroyError = ""
		r.event(e.Label, "destroy", "done", time.Since(start), "")
	}
	return kept
}

// finish marks an interrupted result stopped and destroys the cluster
// unless -keep (or interrupted: destroy would start nothing then).
func (r *comparer) finish(ctx context.Context, e compare.Entry, in Inputs, res *compare.Result) {
	defer func() { res.Ended = time.Now().UTC() }()
	stopped := ctx.Err() != nil || stoppedCh(r.env.Stop)
	if stopped {
		res.Status = compare.Stopped
		if res.Failure == nil {
			res.Failure = &compare.Failure{Phase: "stopped", Error: "the comparison was interrupted"}
		}
	}
	again := "diffuser destroy " + e.Recipe + " -workspace " + res.Workspace
	switch {
	case r.opt.Keep:
		res.Notes = append(res.Notes, "kept running (--keep): "+again)
	case stopped:
		if r.hasHosts(res.Workspace) {
			res.DestroyError = "interrupted before destroy: run " + again
		}
	default:
		start := time.Now()
		r.event(e.Label, "destroy", "start", 0, "")
		if err := r.destroy(ctx, in); err != nil {
			res.DestroyError = err.Error() + "; run " + again
			r.event(e.Label, "destroy", "failed", time.Since(start), err.Error())
		} else {
			r.event(e.Label, "destroy", "done", time.Since(start), "")
		}
		res.DestroySeconds = time.Since(start).Seconds()
	}
}

// deployAndMeasure applies, verifies, and runs the measurements, filling
// res; it returns where it failed, or nil. The hosts' connections are
// closed when it returns, before any destroy.
func (r *comparer) deployAndMeasure(ctx context.Context, e compare.Entry, in Inputs, res *compare.Result) *compare.Failure {
	start := time.Now()
	r.event(e.Label, "apply", "start", 0, "")
	f, st := r.apply(ctx, in)
	applied := time.Since(start)
	if st != nil {
		for _, h := range st.Hosts {
			res.Hosts[h.Group]++
		}
	}
	if f != nil {
		return f
	}
	res.ApplySeconds = applied.Seconds()
	r.event(e.Label, "apply", "done", applied, "")

	// Verify, through the workspace as diffuser verify opens it.
	vstart := time.Now()
	r.event(e.Label, "verify", "start", 0, "")
	aws, conn, closeConn, err := r.env.OpenApplied(ctx, in, "compare")
	if err != nil {
		return &compare.Failure{Phase: "verify", Error: err.Error()}
	}
	defer closeConn()
	checks, err := r.opt.Measure.Verify(ctx, aws.Loaded, aws.State, probe.VerifyOptions{Connector: conn})
	if err != nil {
		return &compare.Failure{Phase: "verify", Error: err.Error()}
	}
	if len(checks) == 0 {
		return &compare.Failure{Phase: "verify", Error: "the recipe's verify blocks ran no check"}
	}
	for _, c := range checks {
		if !c.OK {
			return &compare.Failure{Phase: "verify", Host: c.Host, Step: "verify " + c.Verify + " " + c.Name, Error: c.Detail}
		}
	}
	verified := time.Since(vstart)
	res.VerifySeconds = verified.Seconds()
	res.ReadySeconds = (applied + verified).Seconds()
	r.event(e.Label, "verify", "done", verified, fmt.Sprintf("%d checks", len(checks)))

	// Sequential write and read.
	p := r.opt.Params
	bstart := time.Now()
	r.event(e.Label, "bench", "start", 0, "")
	b, err := r.opt.Measure.Bench(ctx, aws.Loaded, aws.State, probe.BenchOptions{Connector: conn, Bytes: p.Bytes, Threads: p.Threads,
		Tool: "auto", InstallFio: true})
	var failed []string
	if b != nil {
		res.Write, res.Read = throughput(b.Write), throughput(b.Read)
		for _, bc := range b.Clients {
			c := clientOf(res, bc.Host)
			c.FSType, c.Tool, c.ReadMode, c.Note = bc.FSType, bc.Tool, bc.ReadMode, bc.Note
			c.Write, c.Read = throughput(bc.Write), throughput(bc.Read)
			if bc.Err != "" {
				c.Error = "bench: " + bc.Err
				failed = append(failed, bc.Host+": "+bc.Err)
			}
		}
	}
	if err == nil && len(failed) > 0 {
		err = errors.New(strings.Join(failed, "; "))
	}
	if err != nil {
		return &compare.Failure{Phase: "bench", Error: err.Error()}
	}
	r.event(e.Label, "bench", "done", time.Since(bstart), fmt.Sprintf("write %.1f MB/s, read %.1f MB/s", res.Write.MBps, res.Read.MBps))

	// Small files.
	sstart := time.Now()
	r.event(e.Label, "smallfiles", "start", 0, "")
	sf, err := r.opt.Measure.SmallFiles(ctx, aws.Loaded, aws.State, probe.SmallFileOptions{Connector: conn, Files: p.Files, Workers: p.Workers})
	failed = nil
	if sf != nil {
		res.Create, res.Stat, res.Delete = opsRate(sf.Create), opsRate(sf.Stat), opsRate(sf.Delete)
		for _, sc := range sf.Clients {
			c := clientOf(res, sc.Host)
			c.Create, c.Stat, c.Delete = opsRate(sc.Create), opsRate(sc.Stat), opsRate(sc.Delete)
			if sc.Err != "" {
				c.Error = strings.TrimPrefix(c.Error+"; small files: "+sc.Err, "; ")
				failed = append(failed, sc.Host+": "+sc.Err)
			}
		}
	}
	if err == nil && len(failed) > 0 {
		err = errors.New(strings.Join(failed, "; "))
	}
	if err != nil {
		return &compare.Failure{Phase: "smallfiles", Error: err.Error()}
	}
	r.event(e.Label, "smallfiles", "done", time.Since(sstart), fmt.Sprintf("create %.0f/s, stat %.0f/s, delete %.0f/s",
		res.Create.OpsPerSec, res.Stat.OpsPerSec, res.Delete.OpsPerSec))
	return nil
}

// clientOf is res's entry for host, added when missing.
func clientOf(res *compare.Result, host string) *compare.Client {
	for i := range res.Clients {
		if res.Clients[i].Host == host {
			return &res.Clients[i]
		}
	}
	res.Clients = append(res.Clients, compare.Client{Host: host})
	return &res.Clients[len(res.Clients)-1]
}

// apply plans and applies in as apply -auto-approve does; it returns the
// first failure (nil when everything ran) and the state afterwards.
func (r *comparer) apply(ctx context.Context, in Inputs) (*compare.Failure, *state.State) {
	pl, err := r.env.Plan(ctx, PlanRequest{Inputs: in, Command: "apply", Lock: true, Refresh: true})
	if err != nil {
		return &compare.Failure{Phase: "apply", Error: err.Error()}, nil
	}
	defer pl.Close()
	if !pl.Plan.HasChanges() {
		if err := pl.SaveUnchanged(); err != nil {
			return &compare.Failure{Phase: "apply", Error: err.Error()}, pl.WS.State
		}
		return nil, pl.WS.State
	}
	res, err := pl.Apply(ctx, ApplyOptions{Command: r.opt.Command, StepTimeout: r.opt.StepTimeout, Parallelism: r.opt.Parallelism})
	if err != nil {
		return &compare.Failure{Phase: "apply", Error: err.Error()}, pl.WS.State
	}
	if len(res.Failures) > 0 {
		f := res.Failures[0]
		msg := ""
		if f.Err != nil {
			msg = engine.TrimTail(f.Err.Error(), f.Tail) // the report prints Tail below
		}
		if n := len(res.Failures); n > 1 {
			msg += fmt.Sprintf(" (and %d more failures)", n-1)
		}
		return &compare.Failure{Phase: "apply", Step: f.Addr, Host: f.Host, Error: msg, Tail: f.Tail, Log: f.Log}, pl.WS.State
	}
	if res.Skipped > 0 || ctx.Err() != nil {
		return &compare.Failure{Phase: "apply", Error: fmt.Sprintf("stopped with %d step instances not run", res.Skipped)}, pl.WS.State
	}
	return nil, pl.WS.State
}

// destroy destroys everything of in's workspace.
func (r *comparer) destroy(ctx context.Context, in Inputs) error {
	pl, err := r.env.Plan(ctx, PlanRequest{Inputs: in, Command: "destroy", Lock: true, Destroy: true, Refresh: true})
	if err != nil {
		return err
	}
	defer pl.Close()
	if !pl.Plan.HasChanges() {
		return pl.SaveUnchanged()
	}
	res, err := pl.Apply(ctx, ApplyOptions{Command: r.opt.Command, StepTimeout: r.opt.StepTimeout, Parallelism: r.opt.Parallelism})
	if err != nil {
		return err
	}
	if len(res.Failures) > 0 {
		f := res.Failures[0]
		return fmt.Errorf("destroy of %s failed: %v", f.Addr, f.Err)
	}
	if r.hasHosts(in.Workspace) {
		return fmt.Errorf("destroy left hosts in workspace %s", in.Workspace)
	}
	return nil
}

func (r *comparer) hasHosts(ws string) bool {
	st, err := r.env.ReadState(ws)
	return err == nil && len(st.Hosts) > 0
}

func stoppedCh(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// shownVars are vars as a report may show them: sensitive values hidden.
func shownVars(ws *Workspace, vars []string) []string {
	sensitive := map[string]bool{}
	for _, v := range ws.Loaded.Recipe.Variables {
		sensitive[v.Name] = v.Sensitive
	}
	out := []string{}
	for _, v := range vars {
		if sensitive[compare.VarName(v)] {
			v = compare.VarName(v) + "=(sensitive)"
		}
		out = append(out, v)
	}
	return out
}

// resultKey digests what decides a result: the recipe's files, the
// variables it gets and the shared parameters.
func resultKey(digest string, vars []string, p compare.Params) string {
	sorted := append([]string{}, vars...)
	sort.Strings(sorted)
	b, _ := json.Marshal(struct {
		Recipe string         `json:"recipe"`
		Vars   []string       `json:"vars"`
		Params compare.Params `json:"params"`
	}{digest, sorted, p})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func throughput(p probe.BenchPhase) compare.Throughput {
	return compare.Throughput{Bytes: p.Bytes, Seconds: p.Duration.Seconds(), MBps: round1(p.MBps())}
}

func opsRate(p probe.SmallFilePhase) compare.OpsRate {
	return compare.OpsRate{Ops: p.Ops, Seconds: p.Duration.Seconds(), OpsPerSec: round1(p.OpsPerSec())}
}

func round1(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 1, 64), 64)
	return v
}
