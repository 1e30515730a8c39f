package engine

import (
	"runtime"
	"sync"

	"diffuser/lang"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// stepPlanner plans step instances in batches. Between two joins the scope
// does not change, so the instances queued in between are independent:
// each is evaluated, digested and compared with state on its own, and a
// batch is spread over the machine's cores. Results are stored in queue
// order, so diagnostics and changes come out the same on every run.
type stepPlanner struct {
	p     *Plan
	st    *state.State
	scope *lang.Scope
	known []bool // per host: its facts are known (launch is a no-op)
	// factsChanged: per host, refresh found its host facts changed.
	factsChanged []string
	replace      map[string]bool
	hostVals     []cty.Value
	perStep      []*stepEval    // arguments of steps that do not read `host`, evaluated once
	replacing    []*replaceInfo // per step: nil, or how its replacement triggers (engine/replace.go)

	batch []int32
	out   []stepResult

	// Diagnostics per step, each problem once however many instances
	// show it; stepOrder is the order steps first reported one.
	stepDiags []diagSet
	stepOrder []int
	// calls: errors of module call inputs, once per call however many
	// of its steps meet them; locals: the evaluator's diagnostics, where
	// those of inputs not read from host, which steps meet again, go.
	calls  callDiags
	locals *diagSet
}

// reasonRerun is the reason of a step instance named in -replace.
const reasonRerun = "re-run requested with -replace"

// stepEval is one evaluation of a step's arguments.
type stepEval struct {
	args  cty.Value
	gen   lang.Generic
	diags hcl.Diagnostics
}

type stepResult struct {
	c     *Change
	diags hcl.Diagnostics
	host  string // the host the diagnostics depend on; "" for a step-wide evaluation
}

// minParallelBatch is the batch size below which spreading a batch over
// goroutines costs more than it saves.
const minParallelBatch = 256

func (sp *stepPlanner) queue(v int32) {
	g := sp.p.Loaded.Graph
	s := g.Step[v]
	if stp := g.Steps[s]; !stp.PerHost() && sp.perStep[s] == nil {
		// The first instance evaluates for all; later ones, possibly in
		// parallel, only read the result.
		sp.perStep[s] = sp.eval(stp, g.Ref[v])
	}
	sp.batch = append(sp.batch, v)
}

// flush plans every queued instance and keeps their diagnostics for
// diagnostics.
func (sp *stepPlanner) flush() {
	n := len(sp.batch)
	if n == 0 {
		return
	}
	if cap(sp.out) < n {
		sp.out = make([]stepResult, n)
	}
	out := sp.out[:n]
	sp.scope.Ctx(cty.NilVal) // build the shared context before goroutines read it
	workers := runtime.GOMAXPROCS(0)
	if n < minParallelBatch || workers < 2 {
		for i, v := range sp.batch {
			out[i] = sp.plan(v)
		}
	} else {
		var wg sync.WaitGroup
		chunk := (n + workers - 1) / workers
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				for i := lo; i < hi; i++ {
					out[i] = sp.plan(sp.batch[i])
				}
			}(lo, hi)
		}
		wg.Wait()
	}
	g := sp.p.Loaded.Graph
	for i := range out {
		own, evaluated := sp.calls.split(out[i].host, lang.Explain(out[i].diags))
		if sp.locals != nil {
			sp.locals.add("", evaluated)
		}
		if len(own) > 0 {
			s := int(g.Step[out[i].c.V])
			if sp.stepDiags == nil {
				sp.stepDiags = make([]diagSet, len(g.Steps))
			}
			if len(sp.stepDiags[s].order) == 0 {
				sp.stepOrder = append(sp.stepOrder, s)
			}
			sp.stepDiags[s].add(out[i].host, own)
		}
		sp.p.set(out[i].c.V, out[i].c)
		out[i] = stepResult{}
	}
	sp.batch = sp.batch[:0]
}

// diagnostics returns what planning the instances found, each problem
// once per step, steps in the order they first reported one.
func (sp *stepPlanner) diagnostics() hcl.Diagnostics {
	g := sp.p.Loaded.Graph
	diags := sp.calls.result(g)
	for _, s := range sp.stepOrder {
		diags = append(diags, sp.stepDiags[s].result(len(g.StepHosts[s]))...)
	}
	return diags
}

// eval evaluates a step's arguments for host h and checks them against
// its kind's schema.
func (sp *stepPlanner) eval(stp *lang.Step, h int32) *stepEval {
	args, gen, d := sp.scope.StepArgs(stp, sp.hostVals[h])
	if !d.HasErrors() {
		d = append(d, argDiags(stp, sp.p.Loaded.Kinds[stp.Kind], args, gen.Sensitive)...)
	}
	return &stepEval{args, gen, d}
}

// plan decides one step instance's action. It only reads shared data.
func (sp *stepPlanner) plan(v int32) stepResult {
	p, st := sp.p, sp.st
	l, g := p.Loaded, p.Loaded.Graph
	s, h := int(g.Step[v]), g.Ref[v]
	stp := g.Steps[s]
	var args cty.Value
	var gen lang.Generic
	var diags hcl.Diagnostics
	diagHost := ""
	if e := sp.perStep[s]; e != nil {
		args, gen = e.args, e.gen
		if v == g.StepVertex(s, 0) {
			diags = e.diags // reported once, with the step's first instance
		}
	} else {
		e := sp.eval(stp, h)
		args, gen, diags, diagHost = e.args, e.gen, e.diags, g.Hosts[h].Name
	}
	if gen.Sensitive {
		// sensitive = true: plan output shows none of its arguments.
		args = args.Mark(lang.Sensitive)
	}
	slot := g.Hosts[h]
	addr := g.Addr(v)
	c := &Change{V: v, Addr: addr, Kind: stp.Kind, Step: stp.Name, Host: slot.Name, Group: slot.Group, Args: args}
	prov := ""
	if sh := st.Hosts[slot.Name]; sh != nil && sp.known[h] {
		prov = sh.ProviderID
	}
	launch := p.Actions[g.LaunchV[h]]
	// Only instances on hosts whose facts are known (launch a no-op or a
	// start) can have a digest: elsewhere it would be thrown away.
	var dg string
	ok := false
	if sp.known[h] {
		dg, ok = Digest(stp.Kind, args, slot.Name, prov)
	}
	c.Digest = dg
	old := st.Steps[addr]
	switch {
	case launch == Create || launch == Replace:
		c.Action = Create
		if launch == Replace {
			c.Reason = "host is replaced"
		}
		c.Digest = ""
	case old == nil:
		c.Action = Create
	case old.Status != state.StatusApplied:
		c.Action, c.Reason = Create, "did not finish last time"
	case sp.replace[addr]:
		c.Action, c.Reason = Update, reasonRerun
	case !ok:
		c.Action, c.Reason, c.Deferred = Update, "inputs known after apply", true
	case old.Digest != dg && stp.ReadsFacts && sp.factsChanged[h] != "":
		c.Action, c.Reason = Update, "inputs changed: host facts changed: "+sp.factsChanged[h]
	case old.Digest != dg:
		c.Action, c.Reason = Update, "inputs changed"
	default:
		c.Action = NoOp
		if dv, _ := gen.Destroy.UnmarkDeep(); dv.IsKnown() {
			d := ""
			if !dv.IsNull() {
				d = dv.AsString()
			}
			c.NewDestroy, c.DestroyChanged = d, d != old.Destroy
		}
	}
	if onOldHost := launch != Create && launch != Replace; onOldHost && (c.Action == Update || c.Action == Create && old != nil) {
		if why := l.replaceWhy(old, stp.Kind, args, gen.Destroy); why != "" {
			if c.Action == Create {
				why += " (" + c.Reason + ")"
			}
			c.Action, c.Reason = Replace, why
		}
	}
	if !ok {
		c.Deferred = true
	}
	if c.Action == Update || c.Action == Replace && old.Kind == stp.Kind {
		c.Prev = l.prevArgs(old)
	}
	if ri := sp.replacing[s]; ri != nil {
		planReplacement(c, ri, g, h, old, launch, sp.replace[addr])
	}
	p.digests[v] = dg
	return stepResult{c: c, diags: diags, host: diagHost}
}
