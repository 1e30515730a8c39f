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
	// groupVals and stepVals are the values the cached scope was built
	// with, and whether each was built full: one is built again only
	// when its group or step becomes full.
	groupVals []builtVal
	stepVals  []builtVal
	// groupRead: by host, whether a step waits for its whole group (reads
	// hosts.<group>). Set once, read without mu.
	groupRead []bool
}

// builtVal is a group's or step's value in a scope, and whether it was
// built from a group fully launched (a step fully run).
type builtVal struct {
	val  cty.Value
	full bool
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
	ls.groupVals, ls.stepVals = make([]builtVal, len(g.Groups)), make([]builtVal, len(g.Steps))
	ls.groupRead = make([]bool, len(g.Hosts))
	for gi, hosts := range g.GroupHosts {
		for _, h := range hosts {
			ls.groupRead[h] = g.GroupJoinV[gi] >= 0
		}
	}
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

// stepsAllDone makes whole, for the outputs, every step and group the
// recipe's outputs read (directly or through locals and modules). The
// scope is rebuilt only if that changes it: after a walk where everything
// ran, the last evaluation's scope is current, and rebuilding it (every
// host, every local) cost a 1,000-server apply a tenth of a second after
// its last step. What the outputs do not read is left as it is: a group
// only steps run on (the clients) never became whole during the walk,
// and building it at the end was a thousand hosts' values that no output
// reads.
func (ls *liveScope) stepsAllDone() {
	r := ls.p.Loaded.Recipe
	g := ls.p.Loaded.Graph
	groups, steps := map[string]bool{}, map[string]bool{}
	for _, o := range r.Outputs {
		for _, ref := range o.RefGroups {
			groups[ref.Name] = true
		}
		for _, ref := range o.RefSteps {
			steps[ref.Name] = true
		}
	}
	ls.mu.Lock()
	changed := false
	for i := range ls.stepFull {
		if !ls.stepFull[i] && steps[g.Steps[i].Name] {
			ls.stepFull[i] = true
			changed = changed || ls.read[i]
		}
	}
	for i := range ls.groupFull {
		if !ls.groupFull[i] && groups[r.Groups[i].Name] {
			ls.groupFull[i] = true
			// A group of no hosts is the same empty list either way.
			changed = changed || len(g.GroupHosts[i]) > 0
		}
	}
	if changed {
		ls.gen++
	}
	ls.mu.Unlock()
}

// hostLaunched forgets a cached host value: its facts changed. A host of
// a group some expression reads (hosts.<group>) gets its value now, on
// its launch's goroutine: when the last host of the group launches, the
// group's value is then a list of values already made, not a thousand
// hosts' values made while every evaluation waits for the scope.
func (ls *liveScope) hostLaunched(h int32) {
	ls.mu.Lock()
	ls.hostVals[h] = cty.NilVal
	ls.mu.Unlock()
	if ls.groupRead[h] {
		ls.hostVal(h)
	}
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
// that need no host (lang.Step.PerHost: they read no `host`, and no module
// input around them is set from it and checked per host) the first
// evaluation serves all instances.
func (ls *liveScope) stepArgs(stp *lang.Step, s int, h int32) (cty.Value, lang.Generic, hcl.Diagnostics) {
	if stp.PerHost() {
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

// scope returns the scope of the current generation. A rebuild builds
// again only what changed since the last one: the value of a group that
// has finished launching (from the hosts' cached values), of a step that
// has finished, and the locals, module inputs and outputs that read them
// (lang.Scope.EvalLocalsSince). Building every group (a thousand hosts'
// values) and every local again held every evaluation, and the applier's
// lock with it, for tens of milliseconds at each of a handful of
// generations, some of them on the apply's critical chain.
func (ls *liveScope) scope() *lang.Scope {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.cached != nil && ls.cachedGen == ls.gen {
		return ls.cached
	}
	p := ls.p
	g := p.Loaded.Graph
	r := p.Loaded.Recipe
	s := &lang.Scope{Recipe: r, Vars: p.Loaded.Vars, Hosts: map[string]cty.Value{}, Steps: map[string]cty.Value{}}
	changedGroups, changedSteps := map[string]bool{}, map[string]bool{}
	for gi, grp := range r.Groups {
		if c := &ls.groupVals[gi]; c.val == cty.NilVal || c.full != ls.groupFull[gi] {
			c.val, c.full = ls.groupValLocked(gi), ls.groupFull[gi]
			changedGroups[grp.Name] = true
		}
		s.Hosts[grp.Name] = ls.groupVals[gi].val
	}
	for si, stp := range g.Steps {
		if !ls.read[si] {
			continue
		}
		if c := &ls.stepVals[si]; c.val == cty.NilVal || c.full != ls.stepFull[si] {
			if ls.stepFull[si] {
				ls.a.mu.Lock()
				c.val = p.stepValFromState(ls.a.st, si)
				ls.a.mu.Unlock()
			} else {
				c.val = stp.StepVal(p.stepHostNames(si), nil, false)
			}
			c.full = ls.stepFull[si]
			changedSteps[stp.Name] = true
		}
		s.Steps[stp.Name] = ls.stepVals[si].val
	}
	s.EvalLocalsSince(ls.cached, changedGroups, changedSteps)
	s.Ctx(cty.NilVal) // build the shared context now: the scope is read by many goroutines
	ls.cached, ls.cachedGen = s, ls.gen
	return s
}

// groupValLocked builds `hosts.<group>` of group gi: from the recorded
// hosts once every one has launched (their cached `host` values), else
// from what the plan knows. Needs ls.mu.
func (ls *liveScope) groupValLocked(gi int) cty.Value {
	g := ls.p.Loaded.Graph
	grp := ls.p.Loaded.Recipe.Groups[gi]
	hosts := g.GroupHosts[gi]
	if !ls.groupFull[gi] {
		infos := make([]lang.HostInfo, len(hosts))
		for i, h := range hosts {
			infos[i] = hostInfo(g.Hosts[h], nil, &ls.facts)
		}
		return grp.GroupVal(infos)
	}
	vals := make([]cty.Value, len(hosts))
	names := grp.VolumeNames()
	for i, h := range hosts {
		if vals[i] = ls.hostVals[h]; vals[i] == cty.NilVal {
			vals[i] = hostInfo(g.Hosts[h], ls.snapshotHost(g.Hosts[h]), &ls.facts).Val(names)
			ls.hostVals[h] = vals[i]
		}
	}
	return grp.ListVal(vals)
}
