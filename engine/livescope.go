package engine

import (
	"sync"

	"github.com/hashicorp/hcl/v2"

	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// liveScope builds evaluation scopes during apply from live state. A scope
// only changes when a host group finishes launching or every instance of a
// step finishes (a generation), so scopes are cached per generation: a
// 100,000-instance apply evaluates locals and host lists a handful of
// times, not once per instance. Steps only read groups and steps they wait
// for, so values still pending are unknown and never read.
type liveScope struct {
	p *Plan
	a *applier

	mu        sync.Mutex // guards everything below
	gen       int
	cachedGen int
	cached    *lang.Scope
	groupFull []bool
	stepFull  []bool
	hostVals  []cty.Value
	read      []bool // steps some expression reads
	argCache  []*cachedArgs
	facts     factsCache
}

// cachedArgs are a step's arguments evaluated once for every instance, for
// steps whose arguments do not read `host`: 1,000 clients mounting the same
// volume evaluate its expression once, not 1,000 times on the critical path.
type cachedArgs struct {
	once sync.Once
	args cty.Value
	gen  lang.Generic
	diag hcl.Diagnostics
}

func newLiveScope(p *Plan, a *applier) *liveScope {
	g := p.Loaded.Graph
	ls := &liveScope{p: p, a: a, cachedGen: -1, read: readSteps(p.Loaded.Recipe, p.Loaded.Graph.Steps),
		groupFull: make([]bool, len(g.Groups)), stepFull: make([]bool, len(g.Steps)), hostVals: make([]cty.Value, len(g.Hosts))}
	// What the plan already knew (no-op launches, settled steps) counts as full.
	for gi := range g.Groups {
		full := true
		for _, h := range g.GroupHosts[gi] {
			if p.Actions[g.LaunchV[h]] != NoOp {
				full = false
			}
		}
		ls.groupFull[gi] = full
	}
	for s := range g.Steps {
		full := true
		for i := range g.StepHosts[s] {
			if p.Actions[g.StepVertex(s, i)] != NoOp {
				full = false
			}
		}
		ls.stepFull[s] = full
	}
	ls.argCache = make([]*cachedArgs, len(g.Steps))
	return ls
}

func (ls *liveScope) groupDone(gi int) {
	ls.mu.Lock()
	ls.groupFull[gi] = true
	ls.gen++
	ls.mu.Unlock()
}

func (ls *liveScope) stepDone(s int) {
	ls.mu.Lock()
	ls.stepFull[s] = true
	if ls.read[s] {
		// Only a step some expression reads changes the scope: rebuilding
		// it (locals included) after every step cost a 1,000-server
		// GlusterFS apply a tenth of a second per step, with every
		// instance waiting for the rebuild.
		ls.gen++
	}
	ls.mu.Unlock()
}

// stepsAllDone makes every step and group whole for the outputs. The
// scope is rebuilt only if that changes it: after a walk where everything
// ran, the last evaluation's scope is current, and rebuilding it (every
// host, every local) cost a 1,000-server apply a tenth of a second after
// its last step.
func (ls *liveScope) stepsAllDone() {
	ls.mu.Lock()
	changed := false
	for i := range ls.stepFull {
		if !ls.stepFull[i] {
			ls.stepFull[i] = true
			changed = changed || ls.read[i]
		}
	}
	for i := range ls.groupFull {
		if !ls.groupFull[i] {
			ls.groupFull[i] = true
			// A group of no hosts is the same empty list either way.
			changed = changed || len(ls.p.Loaded.Graph.GroupHosts[i]) > 0
		}
	}
	if changed {
		ls.gen++
	}
	ls.mu.Unlock()
}

// hostLaunched forgets a cached host value: its facts changed.
func (ls *liveScope) hostLaunched(h int32) {
	ls.mu.Lock()
	ls.hostVals[h] = cty.NilVal
	ls.mu.Unlock()
}

func (ls *liveScope) snapshotHost(slot HostSlot) *state.Host {
	ls.a.mu.Lock()
	defer ls.a.mu.Unlock()
	if h := ls.a.st.Hosts[slot.Name]; h != nil {
		cp := *h
		return &cp
	}
	return nil
}

// hostVal is `host` for a launched host.
func (ls *liveScope) hostVal(h int32) cty.Value {
	ls.mu.Lock()
	v := ls.hostVals[h]
	ls.mu.Unlock()
	if v != cty.NilVal {
		return v
	}
	g := ls.p.Loaded.Graph
	slot := g.Hosts[h]
	info := hostInfo(slot, ls.snapshotHost(slot), &ls.facts)
	v = info.Val(ls.p.Loaded.Recipe.Group(slot.Group).VolumeNames())
	ls.mu.Lock()
	ls.hostVals[h] = v
	ls.mu.Unlock()
	return v
}

// stepArgs evaluates step s's arguments for host h. Every value a step reads
// is final once the step may run (it waits for what it reads), so for steps
// that do not read `host` the first evaluation serves all instances.
func (ls *liveScope) stepArgs(stp *lang.Step, s int, h int32) (cty.Value, lang.Generic, hcl.Diagnostics) {
	if stp.UsesHost {
		return ls.scope().StepArgs(stp, ls.hostVal(h))
	}
	ls.mu.Lock()
	c := ls.argCache[s]
	if c == nil {
		c = &cachedArgs{}
		ls.argCache[s] = c
	}
	ls.mu.Unlock()
	c.once.Do(func() { c.args, c.gen, c.diag = ls.scope().StepArgs(stp, ls.hostVal(h)) })
	return c.args, c.gen, c.diag
}

// scope returns the scope of the current generation.
func (ls *liveScope) scope() *lang.Scope {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.cached != nil && ls.cachedGen == ls.gen {
		return ls.cached
	}
	p := ls.p
	g := p.Loaded.Graph
	r := p.Loaded.Recipe
	ls.a.mu.Lock()
	s := &lang.Scope{Recipe: r, Vars: p.Loaded.Vars, Hosts: map[string]cty.Value{}, Steps: map[string]cty.Value{}}
	for gi, grp := range r.Groups {
		infos := make([]lang.HostInfo, len(g.GroupHosts[gi]))
		for i, h := range g.GroupHosts[gi] {
			var sh *state.Host
			if ls.groupFull[gi] {
				sh = ls.a.st.Hosts[g.Hosts[h].Name]
			}
			infos[i] = hostInfo(g.Hosts[h], sh, &ls.facts)
		}
		s.Hosts[grp.Name] = grp.GroupVal(infos)
	}
	for si, stp := range g.Steps {
		if !ls.read[si] {
			continue
		}
		names := p.stepHostNames(si)
		if !ls.stepFull[si] {
			s.Steps[stp.Name] = stp.StepVal(names, nil, false)
			continue
		}
		s.Steps[stp.Name] = p.stepValFromState(ls.a.st, si)
	}
	ls.a.mu.Unlock()
	s.EvalLocals()
	s.Ctx(cty.NilVal) // build the shared context now: the scope is read by many goroutines
	ls.cached, ls.cachedGen = s, ls.gen
	return s
}
