package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"diffuser/lang"
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
// it runs when a replacement triggers it or an earlier one is still owed
// (recorded, not applied), and is a no-op otherwise.
func planReplacement(c *Change, ri *replaceInfo, g *Instances, h int32, old *state.Instance, launch Action) {
	who := ri.triggers(g, h)
	switch {
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
	notes := map[string]string{}
	for h, slot := range g.Hosts {
		if !replaced[h] {
			continue
		}
		grp := p.Loaded.Recipe.Group(slot.Group)
		if grp == nil || grp.ReplaceNote == nil {
			continue
		}
		note, ok := notes[slot.Group]
		if !ok {
			v, d := grp.ReplaceNote.Value(scope.Ctx(cty.NilVal))
			diags = append(diags, d...)
			if !d.HasErrors() {
				note = noteString(v)
			}
			notes[slot.Group] = note
		}
		if c := p.vchange[g.LaunchV[h]]; c != nil {
			c.Note = note
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
