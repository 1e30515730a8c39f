package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Replacement steps (`when_replaced = hosts.G`, lang/replace.go) run only
// in an apply that puts a new machine in place of a recorded host of G.
// An instance is paired with its own host when the step runs on exactly
// the hosts of its when_replaced groups (it runs on the new machine
// only), else every instance runs when any host of those groups is
// replaced (a step on a survivor, e.g. the heal). Otherwise, first
// deploys and hosts added by a larger count included, it plans nothing.
//
// Crash safety: before the old machine is destroyed, every instance the
// replacement owes is recorded as failed ("owed"), so an apply killed
// after the new machine came up still runs it next time.

// replaceInfo is what a replacement step's instances need to know.
type replaceInfo struct {
	paired   bool
	replaced []int32 // replaced hosts of the when_replaced groups, ascending
}

// replacedHosts marks, per host, a launch that replaces a recorded machine.
func (p *Plan) replacedHosts(st *state.State) []bool {
	g := p.Loaded.Graph
	out := make([]bool, len(g.Hosts))
	for h, slot := range g.Hosts {
		out[h] = p.Actions[g.LaunchV[h]] == Replace && st.Hosts[slot.Name] != nil
	}
	return out
}

// replaceInfos returns per step its replaceInfo, nil for ordinary steps.
func (p *Plan) replaceInfos(replaced []bool) []*replaceInfo {
	g := p.Loaded.Graph
	groupIdx := map[string]int{}
	for gi, name := range g.Groups {
		groupIdx[name] = gi
	}
	out := make([]*replaceInfo, len(g.Steps))
	for s, stp := range g.Steps {
		if !stp.ReplacementStep() {
			continue
		}
		var hosts []int32
		for _, ref := range stp.WhenReplaced {
			if gi, ok := groupIdx[ref.Name]; ok {
				hosts = append(hosts, g.GroupHosts[gi]...)
			}
		}
		slices.Sort(hosts)
		hosts = slices.Compact(hosts)
		ri := &replaceInfo{paired: slices.Equal(hosts, g.StepHosts[s])}
		for _, h := range hosts {
			if replaced[h] {
				ri.replaced = append(ri.replaced, h)
			}
		}
		out[s] = ri
	}
	return out
}

// triggers names the replaced hosts that make the instance on host h run.
func (ri *replaceInfo) triggers(g *Instances, h int32) []string {
	var names []string
	for _, r := range ri.replaced {
		if !ri.paired || r == h {
			names = append(names, g.Hosts[r].Name)
		}
	}
	return names
}

// planReplacement overrides the action of a replacement step's instance:
// it runs when a replacement triggers it, an earlier one is still owed
// (recorded, not applied) or -replace names it (requested: the ordinary
// plan stands, "re-run requested with -replace", or a first run when it
// never ran), and is a no-op otherwise.
func planReplacement(c *Change, ri *replaceInfo, g *Instances, h int32, old *state.Instance, launch Action, requested bool) {
	who := ri.triggers(g, h)
	switch {
	case len(who) == 0 && requested && old == nil:
		c.Reason = reasonRunRequested
	case len(who) == 0 && requested && old.Status == state.StatusApplied:
	case len(who) > 0:
		if launch != Replace { // on its own replaced host the reason is already "host is replaced"
			c.Action, c.Reason = Update, replacedReason(who)
			if old == nil {
				c.Action = Create
			}
		}
		c.Deferred, c.Prev = false, cty.NilVal
	case old != nil && old.Status != state.StatusApplied:
		c.Action, c.Reason, c.Deferred, c.Prev = Create, "replacement did not finish last time", false, cty.NilVal
	default:
		c.Action, c.Reason, c.Deferred, c.Prev = NoOp, "", false, cty.NilVal
	}
}

// reasonRunRequested is the reason of a replacement step's instance that
// never ran, named in -replace.
const reasonRunRequested = "run requested with -replace"

func replacedReason(who []string) string {
	if len(who) == 1 {
		return who[0] + " is replaced"
	}
	return strings.Join(who, ", ") + " are replaced"
}

// planReplaceNotes sets the Note of every launch that replaces a recorded
// machine from its group's replace_note, and lists per replaced host the
// replacement instances it owes (recorded before the old machine goes).
func (p *Plan) planReplaceNotes(scope *lang.Scope, replaced []bool, infos []*replaceInfo) hcl.Diagnostics {
	g := p.Loaded.Graph
	var diags hcl.Diagnostics
	for s, ri := range infos {
		if stp := g.Steps[s]; ri != nil && !ri.paired && stp.Drain != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "drain on a step that does not run on the replaced hosts",
				Detail: fmt.Sprintf("Step %s has a drain, which runs on the old machine of the host it is paired with, but it does not run on exactly the hosts of its when_replaced groups. "+
					"Give the drain to a step with the same `on` as its when_replaced (e.g. on = hosts.server, when_replaced = hosts.server).", stp.Name),
				Subject: stp.Drain.Range().Ptr()})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	notes := map[string]string{}
	for h, slot := range g.Hosts {
		if !replaced[h] {
			continue
		}
		grp := p.Loaded.Recipe.Group(slot.Group)
		note, ok := notes[slot.Group]
		if !ok && grp != nil && grp.ReplaceNote != nil {
			v, d := grp.ReplaceNote.Value(scope.Ctx(cty.NilVal))
			diags = append(diags, d...)
			if !d.HasErrors() {
				note = noteString(v)
			}
			notes[slot.Group] = note
		}
		c := p.vchange[g.LaunchV[h]]
		if c == nil {
			continue
		}
		c.Note = note
		if c.Reason == reasonGone || (h < len(p.gone) && p.gone[h]) {
			continue // refresh found the machine gone: nothing to drain
		}
		var names []string
		for s, ri := range infos {
			if ri != nil && ri.paired && g.Steps[s].Drain != nil && slices.Contains(ri.replaced, int32(h)) {
				if p.drains == nil {
					p.drains = map[int32][]int32{}
				}
				p.drains[int32(h)] = append(p.drains[int32(h)], int32(s))
				names = append(names, "step."+g.Steps[s].Name)
			}
		}
		if len(names) > 0 {
			if c.Note != "" {
				c.Note += "\n"
			}
			c.Note += fmt.Sprintf("if the old machine still answers, it is drained first (the drain of %s runs on it); it is destroyed only if that succeeds", strings.Join(names, ", "))
		}
	}
	for s, ri := range infos {
		if ri == nil {
			continue
		}
		for i, h := range g.StepHosts[s] {
			v := g.StepVertex(s, i)
			if p.Actions[v] == NoOp {
				continue
			}
			for _, r := range ri.replaced {
				if !ri.paired || r == h {
					if p.owed == nil {
						p.owed = map[int32][]int32{}
					}
					p.owed[r] = append(p.owed[r], v)
				}
			}
		}
	}
	return diags
}

func noteString(v cty.Value) string {
	if !v.IsWhollyKnown() {
		return "(known after apply)"
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return ""
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return fmt.Sprintf("(replace_note is not a string: %s)", err)
	}
	return s.AsString()
}

// retire makes way for the replacement of host h, recorded as old, on a
// provider that makes machines: the drain runs on the old machine, the
// instances the replacement owes are recorded, and the old machine is
// destroyed and its record deleted, all before the new machine is
// launched (it may take the old one's name and address). A launch that
// fails after this leaves no record of h: its machine is gone.
func (a *applier) retire(ctx context.Context, h int32, spec cloud.HostSpec, old *state.Host) error {
	if err := a.drainOld(ctx, h, old); err != nil {
		return err
	}
	if err := a.recordOwed(h); err != nil {
		return err
	}
	if err := a.opt.Provider.Destroy(ctx, spec, CloudHost(old)); err != nil {
		return fmt.Errorf("destroying the old host: %w", err)
	}
	name := a.g.Hosts[h].Name
	a.mu.Lock()
	a.deleteHostLocked(name)
	a.mu.Unlock()
	return a.opt.Recorder.DeleteHost(name)
}

// keepsMachines says whether provider (a provider key) neither makes nor
// destroys machines: static, whose hosts are machines someone else owns.
func keepsMachines(provider string) bool {
	return lang.ProviderBase(provider) == "static"
}

// replaceKept makes way for the replacement of host h, recorded as old, by
// a machine that exists already (static): once that machine answered,
// the drain runs on the old one and the instances the replacement owes
// are recorded; the caller then records the new machine over old. Until
// then state holds old as it was: a replacement that does not answer (a
// typo in the site file's address) drains nothing, owes nothing and
// loses nothing state knew (the pinned host key, the facts), so that
// putting the address back plans no change. The provider's Destroy is not
// called: it releases nothing of such a machine.
func (a *applier) replaceKept(ctx context.Context, h int32, old *state.Host) error {
	if err := a.drainOld(ctx, h, old); err != nil {
		return err
	}
	return a.recordOwed(h)
}

// keptNote says, for a failed launch of a host replacing old on a
// provider that keeps machines, what state still holds.
func keptNote(old *state.Host) string {
	return fmt.Sprintf("state keeps %s as recorded (%s), and nothing was drained or run for the replacement: "+
		"fix the site file's address, port or user, or make the machine named now answer", old.Name, old.SSH.Target())
}

// recordOwed records, before host h's old machine is destroyed, that the
// replacement instances it triggers are owed: a failed record, so the next
// plan runs them even if this apply dies before they do.
func (a *applier) recordOwed(h int32) error {
	for _, v := range a.p.owed[h] {
		addr := a.g.Addr(v)
		stp := a.g.Steps[a.g.Step[v]]
		slot := a.g.Hosts[a.g.Ref[v]]
		a.mu.Lock()
		var inst state.Instance
		if old := a.st.Steps[addr]; old != nil {
			inst = *old
		} else {
			inst = state.Instance{Step: stp.Name, Host: slot.Name, Kind: stp.Kind}
		}
		a.mu.Unlock()
		inst.Status = state.StatusFailed
		inst.Error = fmt.Sprintf("owed: %s was replaced, this replacement step has not run yet", a.g.Hosts[h].Name)
		inst.Finished = time.Now()
		if err := a.putInstance(addr, inst); err != nil {
			return err
		}
	}
	return nil
}

// drainOld runs, on the old machine of replaced host h, the drain of each
// replacement step paired with h, before that machine is destroyed. A
// machine that does not answer within 30 seconds has nothing to drain (it
// is the dead machine the replacement is for); a drain that fails stops
// the launch, and the old machine is kept.
func (a *applier) drainOld(ctx context.Context, h int32, old *state.Host) error {
	steps := a.p.drains[h]
	if len(steps) == 0 || a.opt.Connector == nil {
		return nil
	}
	name := a.g.Hosts[h].Name
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r, err := ConnectHost(cctx, a.opt.Connector, old, nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.mu.Lock()
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("%s: the old machine does not answer (%v): nothing drained, it is replaced as a dead one", name, err))
		a.mu.Unlock()
		return nil
	}
	for _, s := range steps {
		stp := a.g.Steps[s]
		_, gen, diags := a.live.stepArgs(stp, int(s), h)
		if diags.HasErrors() {
			return fmt.Errorf("evaluating the drain of step %s: %s", stp.Name, lang.DiagText(diags))
		}
		d, marks := gen.Drain.UnmarkDeep()
		if d.IsNull() {
			continue
		}
		if !d.IsKnown() {
			return fmt.Errorf("the drain of step %s reads values known only later in the apply: it may read variables, locals, host and hosts", stp.Name)
		}
		sensitive := gen.Sensitive || len(marks) > 0
		lr := &loggedRunner{r: r, sensitive: sensitive, logs: a.logs, step: stp.Name + ".drain", host: name}
		res, err := lr.Run(ctx, d.AsString(), runner.Options{Timeout: a.stepTimeout(gen.Timeout)})
		switch {
		case err != nil && sensitive:
			return fmt.Errorf("draining the old machine of %s (drain of step %s, details hidden: sensitive step): the old machine is kept", name, stp.Name)
		case err != nil:
			return fmt.Errorf("draining the old machine of %s (drain of step %s): %w; the old machine is kept", name, stp.Name, err)
		case res.Exit != 0:
			tail := runner.LastLines(res.Stdout+res.Stderr, 10)
			if sensitive {
				tail = "(output hidden: sensitive step)"
			}
			return fmt.Errorf("draining the old machine of %s: %w; the old machine is kept: fix what the drain reports and apply again, or stop the machine to replace it as a dead one",
				name, &runner.ExitError{What: "the drain of step " + stp.Name, Cmd: d.AsString(), Status: res.Exit, Tail: tail})
		}
	}
	return nil
}
