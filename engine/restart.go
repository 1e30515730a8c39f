package engine

import (
	"fmt"
	"slices"
	"strings"

	"diffuser/lang"
	"diffuser/state"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Restart on change: a service step's restart_on (reload_on) names steps
// whose change in an apply restarts (reloads) it; a run step's restart_on
// runs its command again (guards skipped). With the same host set
// the instances pair per host (step.conf on server[1] restarts only
// server[1]'s service), otherwise any instance of the named step restarts
// every instance of the service. The service waits for the named steps
// (lang adds them to after).
//
// No lost handlers: before a named step's instance runs, every service
// instance it would restart records in state that it owes a restart
// (state.Instance.Pending); the service clears it when it next succeeds.
// A plan that finds a pending restart plans it again.

// restartLink is one service instance a step instance restarts.
type restartLink struct {
	svc    int32
	reload bool
}

// restartPlan is a service instance's planned restart.
type restartPlan struct {
	reload   bool
	triggers []int32 // instances whose change restarts it
	pending  string  // what state says it still owes
	// only: the restart is the service's only change (it was a no-op).
	only bool
	// requested: -replace named the instance; a service restarts (its
	// Apply alone leaves a running unit as it is).
	requested bool
}

// checkRestartKinds refuses restart_on and reload_on on steps whose kind
// cannot restart anything.
func checkRestartKinds(r *lang.Recipe, kinds steps.Registry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, s := range r.Steps {
		refs := append(append([]lang.Ref{}, s.RestartOn...), s.ReloadOn...)
		if len(refs) == 0 {
			continue
		}
		if _, ok := kinds[s.Kind].(steps.Restarter); !ok {
			attr := "restart_on"
			if len(s.RestartOn) == 0 {
				attr = "reload_on"
			}
			diags = append(diags, lang.Annotate(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: attr + " on a step that cannot restart",
				Detail:  fmt.Sprintf("Step %q is a %s step; only service steps restart or reload, and run steps run again, when a step they name changes. Use after to order it.", s.Name, s.Kind),
				Subject: refs[0].Range.Ptr()}}, s.Module)...)
			continue
		}
		if _, ok := kinds[s.Kind].(steps.Rerunner); ok && len(s.ReloadOn) > 0 {
			diags = append(diags, lang.Annotate(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "reload_on on a step that cannot reload",
				Detail:  fmt.Sprintf("Step %q is a %s step: it has nothing to reload. restart_on runs its command again when a step it names changes.", s.Name, s.Kind),
				Subject: s.ReloadOn[0].Range.Ptr()}}, s.Module)...)
		}
	}
	return diags
}

// changes says whether an action changes what an instance made.
func changes(a Action) bool { return a == Create || a == Update || a == Replace }

// planRestarts plans the restarts that the planned changes (and restarts
// pending in state) call for, and remembers which instance restarts which
// service for apply.
func (p *Plan) planRestarts(st *state.State) {
	g := p.Loaded.Graph
	stepIdx := map[string]int{}
	for s, stp := range g.Steps {
		stepIdx[stp.Name] = s
	}
	p.restartLinks = map[int32][]restartLink{}
	p.restarts = map[int32]*restartPlan{}
	for s, stp := range g.Steps {
		type ref struct {
			name   string
			reload bool
		}
		var refs []ref
		for _, r := range stp.RestartOn {
			refs = append(refs, ref{r.Name, false})
		}
		for _, r := range stp.ReloadOn {
			refs = append(refs, ref{r.Name, true})
		}
		if len(refs) == 0 {
			continue
		}
		for i := range g.StepHosts[s] {
			sv := g.StepVertex(s, i)
			rp := &restartPlan{}
			if old := st.Steps[g.Addr(sv)]; old != nil {
				rp.pending = old.Pending
			}
			for _, r := range refs {
				t, ok := stepIdx[r.name]
				if !ok {
					continue
				}
				var tvs []int32
				if slices.Equal(g.StepHosts[t], g.StepHosts[s]) {
					tvs = []int32{g.StepVertex(t, i)}
				} else {
					for j := range g.StepHosts[t] {
						tvs = append(tvs, g.StepVertex(t, j))
					}
				}
				for _, tv := range tvs {
					p.restartLinks[tv] = append(p.restartLinks[tv], restartLink{svc: sv, reload: r.reload})
					if changes(p.Actions[tv]) {
						rp.triggers = append(rp.triggers, tv)
						rp.reload = r.reload && (len(rp.triggers) == 1 || rp.reload)
					}
				}
			}
			if len(rp.triggers) == 0 && rp.pending == "" {
				continue
			}
			if len(rp.triggers) == 0 {
				rp.reload = len(rp.pending) > 6 && rp.pending[:6] == "reload"
			}
			c := p.vchange[sv]
			if c == nil {
				continue
			}
			// A restart owed by a service whose last run failed is still
			// owed (its daemon may run what it read before: a failed
			// reload, a precondition decided at apply), unless its host
			// is a new machine: the debt was the old one's.
			if launch := p.Actions[g.LaunchV[g.Ref[sv]]]; (c.Action == Create || c.Action == Replace) && len(rp.triggers) == 0 &&
				(launch == Create || launch == Replace) {
				continue
			}
			// A service created (or replaced) in this apply restarts too
			// when a step it names changes: its package may have started
			// the daemon with the packaged configuration before the
			// recipe's was written (nfs-kernel-server, nfs-ganesha,
			// moosefs-master do), and a restart of a stopped unit is a
			// start, a reload of one a start.
			p.restarts[sv] = rp
			c.Restart = "restart"
			if rp.reload {
				c.Restart = "reload"
			}
			why := c.Restart + " because " + p.restartCause(rp)
			if c.Action == NoOp {
				rp.only = true
				c.Action, c.Reason = Update, why
				p.Actions[sv] = Update
				c.Prev = p.Loaded.prevArgs(st.Steps[c.Addr])
			} else if c.Reason == "" {
				c.Reason = "then " + why
			} else {
				c.Reason += "; then " + why
			}
		}
	}
}

// restartCause says why a restart is planned: `step.conf["server[1]"]
// will change`, `… and 2 more will change`, or the pending restart.
func (p *Plan) restartCause(rp *restartPlan) string {
	g := p.Loaded.Graph
	switch n := len(rp.triggers); {
	case n == 0:
		return "it is still pending (" + rp.pending + "): an earlier apply changed what it names and did not finish it (interrupted, failed, or -target left it out)"
	case n == 1:
		return g.Addr(rp.triggers[0]) + " will change"
	default:
		return fmt.Sprintf("%s and %d more will change", g.Addr(rp.triggers[0]), n-1)
	}
}

// markPending records, before instance v runs, that the services it
// restarts owe a restart. Services not in state yet owe nothing: they
// start with the new configuration. A service whose last run failed
// owes it too: its daemon may still run (a failed reload keeps the old
// one), and planRestarts keeps the debt with its retry.
func (a *applier) markPending(v int32, addr string) error {
	for _, l := range a.p.restartLinks[v] {
		svcAddr := a.g.Addr(l.svc)
		a.mu.Lock()
		old := a.st.Steps[svcAddr]
		var inst state.Instance
		if old != nil {
			inst = *old
		}
		a.mu.Unlock()
		if old == nil || inst.Pending != "" {
			continue
		}
		mode := "restart"
		if l.reload {
			mode = "reload"
		}
		inst.Pending = mode + ": " + addr
		if err := a.putInstance(svcAddr, inst); err != nil {
			return err
		}
	}
	return nil
}

// noteChanged remembers that instance v changed in this apply.
func (a *applier) noteChanged(v int32) {
	a.mu.Lock()
	if a.changed == nil {
		a.changed = map[int32]bool{}
	}
	a.changed[v] = true
	a.mu.Unlock()
}

// restartDue says whether service instance v restarts now: a step that
// restarts it changed in this apply, or state says it still owes one; and
// with what arguments.
func (a *applier) restartDue(v int32, kind steps.Kind, plain cty.Value, pending string) (cty.Value, string, bool) {
	rp := a.p.restarts[v]
	if rp == nil {
		return plain, "", false
	}
	due := pending != "" || rp.requested
	a.mu.Lock()
	for _, t := range rp.triggers {
		due = due || a.changed[t]
	}
	a.mu.Unlock()
	if !due {
		return plain, "", false
	}
	rs, ok := kind.(steps.Restarter)
	if !ok {
		return plain, "", false
	}
	args, ok := rs.RestartArgs(plain, rp.reload)
	if !ok {
		return plain, "", false
	}
	if rp.reload {
		return args, "reloaded", true
	}
	return args, "restarted", true
}

// planRequestedRestarts makes -replace of a service instance a restart:
// "re-run" of a service step applies its arguments, which leaves a unit
// already running as it is, while whoever names a daemon's instance in
// -replace wants it started afresh, as Terraform's -replace recreates.
// A run step (a Rerunner) runs its command again with its restart
// arguments, without creates and unless: its declared ones would have a
// guard that holds (it does once the step ran) skip the command asked
// for. Other kinds re-apply.
func (p *Plan) planRequestedRestarts(replace map[string]bool) {
	g := p.Loaded.Graph
	for v, c := range p.vchange {
		if !replace[c.Addr] || c.Action != Update || g.Kind[v] != VStep {
			continue
		}
		kind := p.Loaded.Kinds[c.Kind]
		if _, ok := kind.(steps.Restarter); !ok {
			continue
		}
		rp := p.restarts[v]
		if rp == nil {
			rp = &restartPlan{}
			p.restarts[v] = rp
		}
		rp.requested, rp.reload, rp.only = true, false, false
		if _, ok := kind.(steps.Rerunner); ok {
			if skipped := skippedGuards(kind.(steps.Restarter), c.Args); skipped != "" {
				c.Reason = strings.Replace(c.Reason, reasonRerun, reasonRerun+"; its command runs whatever its "+skipped, 1)
			}
			continue
		}
		c.Restart = "restart"
		c.Reason = strings.Replace(c.Reason, reasonRerun, "restart requested with -replace", 1)
	}
}

// skippedGuards names the arguments a Rerunner's restart leaves out of
// args (a run step's creates and unless), for the plan to say the command
// runs whatever they say: "creates says", "unless says", "creates and
// unless say"; "" when args has none of them. An argument not yet known
// counts as given.
func skippedGuards(rs steps.Restarter, args cty.Value) string {
	plain, _ := args.UnmarkDeep()
	if plain.IsNull() || !plain.IsKnown() || !plain.Type().IsObjectType() {
		return ""
	}
	rerun, ok := rs.RestartArgs(plain, false)
	if !ok {
		return ""
	}
	var names []string
	for name := range plain.Type().AttributeTypes() {
		if !plain.GetAttr(name).IsNull() && rerun.GetAttr(name).IsNull() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0] + " says"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " say"
}
