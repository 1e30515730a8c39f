package engine_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/facts"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// world is a workspace on the simulated cloud with a real state store.
type world struct {
	t     *testing.T
	cloud *sim.Cloud
	store *state.Store
	st    *state.State
	src   string
	vars  []string
	kinds steps.Registry // nil: the real kinds
	// extra are more files of the recipe directory (modules), by path
	// relative to it.
	extra map[string]string
}

func newWorld(t *testing.T, src string) *world {
	t.Helper()
	w := &world{t: t, cloud: sim.New(), store: state.Open(t.TempDir()), src: src}
	unlock, err := w.store.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unlock() })
	w.st, err = w.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func load(_ testing.TB, src string, vars ...string) (*engine.Loaded, hcl.Diagnostics) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
	return engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{Vars: vars}, builtin.Kinds())
}

func mustLoad(t *testing.T, src string, vars ...string) *engine.Loaded {
	t.Helper()
	l, diags := load(t, src, vars...)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return l
}

func (w *world) plan(opts ...func(*engine.PlanOptions)) *engine.Plan {
	w.t.Helper()
	l := w.load()
	opt := engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }}
	for _, o := range opts {
		o(&opt)
	}
	p, diags := l.Plan(context.Background(), opt)
	if diags.HasErrors() {
		w.t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

// load loads the world's recipe (with its extra files and kinds) and
// variables.
func (w *world) load() *engine.Loaded {
	w.t.Helper()
	var l *engine.Loaded
	if w.extra != nil {
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(w.src)}}
		for name, src := range w.extra {
			fsys["r/"+name] = &fstest.MapFile{Data: []byte(src)}
		}
		var diags hcl.Diagnostics
		kinds := w.kinds
		if kinds == nil {
			kinds = builtin.Kinds()
		}
		if l, diags = engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{Vars: w.vars}, kinds); diags.HasErrors() {
			w.t.Fatalf("load: %s", diags.Error())
		}
	} else {
		l = mustLoad(w.t, w.src, w.vars...)
	}
	if w.kinds != nil && w.extra == nil {
		var diags hcl.Diagnostics
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(w.src)}}
		if l, diags = engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r"}, lang.Inputs{Vars: w.vars}, w.kinds); diags.HasErrors() {
			w.t.Fatalf("load: %s", diags.Error())
		}
	}
	return l
}

func (w *world) refresh(o *engine.PlanOptions) {
	o.Refresh = simRefresher{w}
}

type simRefresher struct{ w *world }

func (r simRefresher) HostStatus(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Status, error) {
	p, _ := r.w.cloud.Factory().New(ctx, cty.NilVal, cloud.Env{})
	return p.Status(ctx, spec, engine.CloudHost(h))
}

func (r simRefresher) Check(ctx context.Context, h *state.Host, kind steps.Kind, args cty.Value) (steps.Check, error) {
	run, err := r.w.cloud.Connector().Runner(ctx, *h, nil)
	if err != nil {
		return steps.Check{}, err
	}
	return kind.Check(ctx, run, args)
}

func (r simRefresher) Facts(ctx context.Context, h *state.Host, devices bool) (facts.Facts, error) {
	run, err := r.w.cloud.Connector().Runner(ctx, *h, nil)
	if err != nil {
		return facts.Facts{}, err
	}
	if !devices {
		return facts.GatherStable(ctx, run)
	}
	return facts.Gather(ctx, run)
}

type recorder struct{ s *state.Store }

func (r recorder) PutHost(h state.Host) error { return r.s.Record(state.PutHost(&h)) }
func (r recorder) DeleteHost(n string) error  { return r.s.Record(state.DeleteHost(n)) }
func (r recorder) PutInstance(a string, i state.Instance) error {
	return r.s.Record(state.PutInstance(a, &i))
}
func (r recorder) DeleteInstance(a string) error            { return r.s.Record(state.DeleteInstance(a)) }
func (r recorder) SetOutputs(map[string]state.Output) error { return nil }

func (w *world) apply(p *engine.Plan, parallelism int) *engine.Result {
	w.t.Helper()
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	return w.applyVia(p, parallelism, prov, w.cloud.Connector())
}

// applyVia is apply through another provider and connector (wrapping the
// simulated cloud's).
func (w *world) applyVia(p *engine.Plan, parallelism int, prov cloud.Provider, conn engine.Connector) *engine.Result {
	w.t.Helper()
	res := p.Apply(context.Background(), w.st, engine.ApplyOptions{Provider: prov, Cluster: "test",
		Connector: conn, Recorder: recorder{w.store}, Parallelism: parallelism, LogDir: w.t.TempDir()})
	if err := w.store.Save(w.st); err != nil {
		w.t.Fatal(err)
	}
	// What is on disk must equal what the engine holds in memory.
	disk, err := w.store.Load()
	if err != nil {
		w.t.Fatal(err)
	}
	if len(disk.Steps) != len(w.st.Steps) || len(disk.Hosts) != len(w.st.Hosts) {
		w.t.Fatalf("state on disk has %d instances/%d hosts, memory %d/%d", len(disk.Steps), len(disk.Hosts), len(w.st.Steps), len(w.st.Hosts))
	}
	w.st = disk
	return res
}

func summary(p *engine.Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.Action.Symbol() + " " + c.Addr)
		if c.Reason != "" {
			b.WriteString(" (" + c.Reason + ")")
		}
		b.WriteString("\n")
	}
	for _, c := range p.Destroys {
		b.WriteString("- " + c.Addr + "\n")
	}
	return b.String()
}

// mustLoadFS loads src with the built-in modules and the sim kinds.
func mustLoadFS(t *testing.T, src string) *engine.Loaded {
	t.Helper()
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, simKinds)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return l
}
