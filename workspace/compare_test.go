package workspace_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/compare"
	"diffuser/engine"
	"diffuser/probe"
	"diffuser/state"
	"diffuser/workspace"
)

// A recipe for the simulated cloud: servers and clients counted by
// variables, a run step per group, a verify block on the clients.
const cmpRecipe = `
recipe "%s" {}
variable "servers" {
  type    = number
  default = 1
}
variable "clients" {
  type    = number
  default = 1
}
variable "flavor" {
  type    = string
  default = "plain"
}
hosts "server" { count = var.servers }
hosts "client" { count = var.clients }
step "daemon" {
  on  = hosts.server
  run = "start-daemon %s ${var.flavor}"
}
step "mount" {
  on    = hosts.client
  after = [step.daemon]
  run   = "mount-it %s"
}
verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/%s"
}
`

// world is a simulated cloud whose commands answer as the test says, and
// an Env over it.
type cmpWorld struct {
	t     *testing.T
	cloud *sim.Cloud
	env   *workspace.Env
	dir   string
	// failApply makes commands containing it fail.
	failApply atomic.Value
	mu        sync.Mutex
	ran       []string
}

func newCmpWorld(t *testing.T) *cmpWorld {
	w := &cmpWorld{t: t, cloud: sim.New(), dir: t.TempDir()}
	w.failApply.Store("")
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		w.mu.Lock()
		w.ran = append(w.ran, host+": "+cmd)
		w.mu.Unlock()
		if f := w.failApply.Load().(string); f != "" && strings.Contains(cmd, f) {
			return 0, 1, "starting...\ndisk on fire\n"
		}
		return 0, 0, ""
	}
	w.env = &workspace.Env{DataDir: filepath.Join(w.dir, "data"), Factories: map[string]cloud.Factory{"sim": w.cloud.Factory()},
		Connector: w.cloud.Connector()}
	return w
}

// recipe writes a recipe named name and returns its path.
func (w *cmpWorld) recipe(name string) string {
	p := filepath.Join(w.dir, name+".hcl")
	src := strings.ReplaceAll(cmpRecipe, "%s", name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// cmpMeasure answers the measurements with numbers made from the host
// names, and fails bench on the recipes listed in failBench.
type cmpMeasure struct {
	mu        sync.Mutex
	calls     map[string]int // by recipe name and phase
	failBench map[string]bool
	// onBench runs at the start of every bench (nil: nothing).
	onBench func(recipe string)
}

func newCmpMeasure() *cmpMeasure {
	return &cmpMeasure{calls: map[string]int{}, failBench: map[string]bool{}}
}

func (f *cmpMeasure) count(l *engine.Loaded, phase string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[l.Recipe.Name+" "+phase]++
}

func (f *cmpMeasure) n(recipe, phase string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[recipe+" "+phase]
}

func cmpClients(st *state.State) []string {
	var out []string
	for n, h := range st.Hosts {
		if h.Group == "client" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (f *cmpMeasure) Verify(_ context.Context, l *engine.Loaded, st *state.State, _ probe.VerifyOptions) ([]probe.Check, error) {
	f.count(l, "verify")
	var out []probe.Check
	for _, h := range cmpClients(st) {
		out = append(out, probe.Check{Verify: "roundtrip", Name: "read", Host: h, OK: true})
	}
	return out, nil
}

func (f *cmpMeasure) Bench(_ context.Context, l *engine.Loaded, st *state.State, opt probe.BenchOptions) (*probe.BenchReport, error) {
	f.count(l, "bench")
	if f.onBench != nil {
		f.onBench(l.Recipe.Name)
	}
	if !opt.InstallFio {
		return nil, errors.New("compare must ask bench to install fio")
	}
	rep := &probe.BenchReport{Threads: opt.Threads, PerThread: opt.Bytes / int64(opt.Threads)}
	for i, h := range cmpClients(st) {
		c := probe.BenchClient{Verify: "roundtrip", Host: h, Path: "/mnt/x", FSType: "fuse.sim", Tool: "fio",
			Write: probe.BenchPhase{Bytes: opt.Bytes, Duration: time.Duration(i+1) * time.Second},
			Read:  probe.BenchPhase{Bytes: opt.Bytes, Duration: time.Duration(i+1) * 500 * time.Millisecond}}
		if f.failBench[l.Recipe.Name] && i == 1 {
			c.Read, c.Err = probe.BenchPhase{}, "read: exit status 1: Input/output error"
		}
		rep.Clients = append(rep.Clients, c)
		rep.Write.Bytes += opt.Bytes
		rep.Read.Bytes += opt.Bytes
	}
	rep.Write.Duration = 2 * time.Second
	rep.Read.Duration = time.Second
	return rep, nil
}

func (f *cmpMeasure) SmallFiles(_ context.Context, l *engine.Loaded, st *state.State, opt probe.SmallFileOptions) (*probe.SmallFileReport, error) {
	f.count(l, "smallfiles")
	ops := int64(opt.Files * opt.Workers)
	rep := &probe.SmallFileReport{Files: opt.Files, Workers: opt.Workers}
	for _, h := range cmpClients(st) {
		rep.Clients = append(rep.Clients, probe.SmallFileClient{Host: h, Create: probe.SmallFilePhase{Ops: ops, Duration: time.Second},
			Stat: probe.SmallFilePhase{Ops: ops, Duration: time.Second / 4}, Delete: probe.SmallFilePhase{Ops: ops, Duration: time.Second / 2}})
		rep.Create.Ops += ops
		rep.Stat.Ops += ops
		rep.Delete.Ops += ops
	}
	rep.Create.Duration, rep.Stat.Duration, rep.Delete.Duration = time.Second, time.Second/4, time.Second/2
	return rep, nil
}

func (w *cmpWorld) options(f *cmpMeasure, entries ...string) workspace.CompareOptions {
	es, err := compare.ParseEntries(entries)
	if err != nil {
		w.t.Fatal(err)
	}
	return workspace.CompareOptions{Entries: es, Params: compare.Params{Servers: 2, Clients: 2, Bytes: 64 << 20, Threads: 4, Files: 100, Workers: 2, Provider: "sim"},
		Dir: filepath.Join(w.dir, "report"), Measure: f}
}

func cmpResult(t *testing.T, rep *compare.Report, label string) compare.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Label == label {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", label, rep.Results)
	return compare.Result{}
}

// TestRunPartialAndResume: three recipes, one failing in apply and one in
// bench. The measured one has its numbers; the failed ones say the phase,
// step, host and log tail; every cluster is destroyed. A re-run measures
// only the failed ones again; changed parameters or --fresh measure all.
func TestRunPartialAndResume(t *testing.T) {
	w := newCmpWorld(t)
	f := newCmpMeasure()
	f.failBench["beta"] = true
	w.failApply.Store("start-daemon gamma")
	opt := w.options(f, w.recipe("alpha"), w.recipe("beta"), w.recipe("gamma"))
	var events []string
	var mu sync.Mutex
	opt.OnEvent = func(e workspace.CompareEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e.Label+" "+e.Phase+" "+e.State)
	}
	reports := 0
	opt.OnReport = func(*compare.Report) error { reports++; return nil }

	rep, err := w.env.Compare(context.Background(), opt)
	if !errors.Is(err, workspace.ErrCompareFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	if reports != 3 {
		t.Errorf("the report was rendered %d times, want after each of 3 recipes", reports)
	}
	a := cmpResult(t, rep, "alpha")
	if a.Status != compare.Measured || a.Failure != nil || a.DestroyError != "" {
		t.Fatalf("alpha: %+v", a)
	}
	if a.Hosts["server"] != 2 || a.Hosts["client"] != 2 {
		t.Errorf("alpha's hosts %v, want 2 servers and 2 clients (from --servers and --clients)", a.Hosts)
	}
	if a.Write.MBps != 67.1 || a.Read.MBps != 134.2 || a.Create.OpsPerSec != 400 || a.Stat.OpsPerSec != 1600 || a.Delete.OpsPerSec != 800 {
		t.Errorf("alpha aggregates: write %+v read %+v create %+v stat %+v delete %+v", a.Write, a.Read, a.Create, a.Stat, a.Delete)
	}
	if len(a.Clients) != 2 || a.Clients[1].Write.MBps != 33.6 || a.Clients[1].Create.OpsPerSec != 200 {
		t.Errorf("alpha clients: %+v", a.Clients)
	}
	if a.ApplySeconds <= 0 || a.VerifySeconds < 0 || a.ReadySeconds < a.ApplySeconds || a.DestroySeconds <= 0 {
		t.Errorf("alpha times: apply %v verify %v ready %v destroy %v", a.ApplySeconds, a.VerifySeconds, a.ReadySeconds, a.DestroySeconds)
	}
	if strings.Join(a.Vars, " ") != "servers=2 clients=2" {
		t.Errorf("alpha vars %q", a.Vars)
	}

	b := cmpResult(t, rep, "beta")
	if b.Status != compare.Failed || b.Failure == nil || b.Failure.Phase != "bench" || !strings.Contains(b.Failure.Error, "client[1]: read: exit status 1") {
		t.Fatalf("beta: %+v %+v", b, b.Failure)
	}
	if b.Write.MBps == 0 || len(b.Clients) != 2 || b.Clients[0].Error != "" || !strings.Contains(b.Clients[1].Error, "Input/output error") {
		t.Errorf("beta keeps what bench measured: %+v", b.Clients)
	}
	if b.Create.Ops != 0 || f.n("beta", "smallfiles") != 0 {
		t.Errorf("beta ran small files after bench failed")
	}

	g := cmpResult(t, rep, "gamma")
	if g.Status != compare.Failed || g.Failure.Phase != "apply" || !strings.HasPrefix(g.Failure.Step, "step.daemon[") ||
		!strings.HasPrefix(g.Failure.Host, "server[") || !strings.Contains(g.Failure.Tail, "disk on fire") || g.Failure.Log == "" {
		t.Fatalf("gamma: %+v", g.Failure)
	}
	if _, err := os.Stat(g.Failure.Log); err != nil {
		t.Errorf("gamma's log %s: %v", g.Failure.Log, err)
	}
	if g.Hosts["server"] != 2 || f.n("gamma", "verify") != 0 {
		t.Errorf("gamma: hosts %v, verify ran %d times", g.Hosts, f.n("gamma", "verify"))
	}
	if n := w.cloud.Hosts(); n != 0 {
		t.Errorf("%d simulated hosts left: every cluster is destroyed, failed ones too", n)
	}
	for _, want := range []string{"alpha apply start", "alpha apply done", "alpha verify done", "alpha bench done", "alpha smallfiles done",
		"alpha destroy done", "beta bench failed", "beta destroy done", "gamma apply failed", "gamma destroy done"} {
		found := false
		for _, e := range events {
			found = found || e == want
		}
		if !found {
			t.Errorf("no event %q in %v", want, events)
		}
	}
	disk, err := compare.ReadReport(opt.Dir)
	if err != nil || disk == nil || len(disk.Results) != 3 {
		t.Fatalf("compare.json: %v %+v", err, disk)
	}

	// Resume: gamma's disk is fixed; alpha is skipped, beta and gamma run.
	w.failApply.Store("")
	f.failBench = map[string]bool{}
	rep, err = w.env.Compare(context.Background(), opt)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if f.n("alpha", "bench") != 1 || f.n("beta", "bench") != 2 || f.n("gamma", "bench") != 1 {
		t.Errorf("bench calls after resume: %v", f.calls)
	}
	if got := cmpResult(t, rep, "alpha"); got.Key != a.Key || !got.Started.Equal(a.Started) {
		t.Errorf("alpha was not kept as measured: %+v", got)
	}
	for _, r := range rep.Results {
		if r.Status != compare.Measured {
			t.Errorf("%s after resume: %s %+v", r.Label, r.Status, r.Failure)
		}
	}

	// Other parameters: everything again. --fresh: everything again.
	opt.Params.Bytes = 32 << 20
	if _, err := w.env.Compare(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if f.n("alpha", "bench") != 2 {
		t.Errorf("alpha not measured again with another --size: %v", f.calls)
	}
	opt.Fresh = true
	if _, err := w.env.Compare(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if f.n("alpha", "bench") != 3 || f.n("gamma", "bench") != 3 {
		t.Errorf("--fresh did not measure everything again: %v", f.calls)
	}
	if n := w.cloud.Hosts(); n != 0 {
		t.Errorf("%d simulated hosts left", n)
	}
}

// TestRunKeepAndLeftovers: --keep leaves the clusters running; the next
// run (not --keep) measures from nothing: it destroys what the workspace
// holds first, then applies anew.
func TestRunKeepAndLeftovers(t *testing.T) {
	w := newCmpWorld(t)
	f := newCmpMeasure()
	opt := w.options(f, w.recipe("alpha"))
	opt.Keep = true
	rep, err := w.env.Compare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.cloud.Hosts(); n != 4 {
		t.Fatalf("--keep: %d hosts running, want 4", n)
	}
	if r := rep.Results[0]; r.DestroySeconds != 0 || !strings.Contains(strings.Join(r.Notes, " "), "diffuser destroy") {
		t.Errorf("--keep result: %+v", r)
	}
	launches := w.cloud.Launches()
	opt.Keep, opt.Fresh = false, true
	var phases []string
	opt.OnEvent = func(e workspace.CompareEvent) { phases = append(phases, e.Phase+" "+e.State) }
	if _, err := w.env.Compare(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	if strings.Join(phases[:3], ", ") != "cleanup start, cleanup done, apply start" {
		t.Errorf("phases %v: want the leftover cluster destroyed before the apply", phases)
	}
	if w.cloud.Launches() != launches+4 || w.cloud.Hosts() != 0 {
		t.Errorf("launches %d (were %d), hosts %d: want 4 new launches and nothing left", w.cloud.Launches(), launches, w.cloud.Hosts())
	}
}

// TestRunVars: NAME=VALUE goes to every recipe that declares NAME,
// LABEL.NAME=VALUE to one, both win over --servers; an undeclared name or
// an unknown label is an error before anything runs.
func TestRunVars(t *testing.T) {
	w := newCmpWorld(t)
	f := newCmpMeasure()
	opt := w.options(f, w.recipe("alpha"), "two="+w.recipe("beta"))
	opt.Vars = []string{"flavor=spicy", "two.servers=3", "two.flavor=mild"}
	rep, err := w.env.Compare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	a, b := cmpResult(t, rep, "alpha"), cmpResult(t, rep, "two")
	if strings.Join(a.Vars, " ") != "servers=2 clients=2 flavor=spicy" || a.Hosts["server"] != 2 {
		t.Errorf("alpha: vars %q hosts %v", a.Vars, a.Hosts)
	}
	if strings.Join(b.Vars, " ") != "clients=2 flavor=spicy servers=3 flavor=mild" || b.Hosts["server"] != 3 || b.Workspace != "compare-two" {
		t.Errorf("two: vars %q hosts %v workspace %s", b.Vars, b.Hosts, b.Workspace)
	}
	var mild bool
	for _, c := range w.ran {
		mild = mild || strings.Contains(c, "start-daemon beta mild")
	}
	if !mild {
		t.Errorf("beta's daemon did not run with flavor=mild")
	}
	for _, bad := range [][]string{{"nosuch=1"}, {"three.servers=1"}, {"noequals"}} {
		opt.Vars = bad
		if _, err := w.env.Compare(context.Background(), opt); err == nil || errors.Is(err, workspace.ErrCompareFailed) {
			t.Errorf("-var %v: %v, want an error before anything runs", bad, err)
		}
	}
}

// TestRunInterrupted: a comparison stopped during a recipe's bench saves
// that recipe as stopped (its cluster kept, the report saying how to
// destroy it) and does not start the next; the next run clears the
// leftover cluster first and measures both.
func TestRunInterrupted(t *testing.T) {
	w := newCmpWorld(t)
	f := newCmpMeasure()
	ctx, cancel := context.WithCancel(context.Background())
	f.onBench = func(recipe string) {
		if recipe == "alpha" {
			cancel()
		}
	}
	opt := w.options(f, w.recipe("alpha"), w.recipe("beta"))
	rep, err := w.env.Compare(ctx, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Compare: %v, want context.Canceled", err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want only alpha's", len(rep.Results))
	}
	a := rep.Results[0]
	if a.Status != compare.Stopped || !strings.Contains(a.DestroyError, "diffuser destroy") || a.ReadySeconds <= 0 {
		t.Errorf("alpha: %s %+v %q", a.Status, a.Failure, a.DestroyError)
	}
	if w.cloud.Hosts() != 4 {
		t.Errorf("%d hosts: the stopped recipe's cluster stays for the user or the next run", w.cloud.Hosts())
	}
	disk, err := compare.ReadReport(opt.Dir)
	if err != nil || len(disk.Results) != 1 || disk.Results[0].Status != compare.Stopped {
		t.Fatalf("compare.json after the interrupt: %v %+v", err, disk)
	}
	f.onBench = nil
	var phases []string
	opt.OnEvent = func(e workspace.CompareEvent) { phases = append(phases, e.Label+" "+e.Phase+" "+e.State) }
	rep, err = w.env.Compare(context.Background(), opt)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if len(rep.Results) != 2 || rep.Results[0].Status != compare.Measured || rep.Results[1].Status != compare.Measured {
		t.Errorf("resume: %+v", rep.Results)
	}
	if phases[0] != "alpha cleanup start" || w.cloud.Hosts() != 0 {
		t.Errorf("resume phases %v, hosts %d: want alpha's leftover destroyed first and nothing left", phases, w.cloud.Hosts())
	}
}

// TestRunProviderFromSite: without -provider the site's default_provider
// decides, and the report names it.
func TestRunProviderFromSite(t *testing.T) {
	w := newCmpWorld(t)
	f := newCmpMeasure()
	opt := w.options(f, w.recipe("alpha"))
	opt.Params.Provider = ""
	opt.Site = filepath.Join(w.dir, "site.hcl")
	if err := os.WriteFile(opt.Site, []byte("default_provider = \"sim\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := w.env.Compare(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Params.Provider != "sim" || rep.Results[0].Status != compare.Measured {
		t.Errorf("provider %q, status %s", rep.Params.Provider, rep.Results[0].Status)
	}
}
