package engine

import (
	"sort"

	"diffuser/state"
)

// A step's destroy command is recorded when the step runs (state keeps
// it for when the step has left the recipe). Edited on a step that has
// nothing else to do, it was never recorded: a fixed command never
// replaced the failing one, an added one was never run, a removed one
// still ran. The plan lists these instances (nothing runs for them), and
// apply, or an apply with nothing to do, records the new command.

// DestroysChanged lists, sorted, the instances that stay as they are but
// whose destroy command, known at plan, is not the one state records.
func (p *Plan) DestroysChanged() []string {
	var out []string
	for _, c := range p.vchange {
		if c.Action == NoOp && c.DestroyChanged {
			out = append(out, c.Addr)
		}
	}
	sort.Strings(out)
	return out
}

// RecordDestroys writes into st the new destroy command of each instance
// DestroysChanged lists, and reports whether it changed any.
func (p *Plan) RecordDestroys(st *state.State) bool {
	changed := false
	for _, c := range p.vchange {
		if c.Action != NoOp || !c.DestroyChanged {
			continue
		}
		if in := st.Steps[c.Addr]; in != nil && in.Destroy != c.NewDestroy {
			in.Destroy = c.NewDestroy
			changed = true
		}
	}
	return changed
}

// recordDestroys is RecordDestroys at the start of an apply, through the
// recorder.
func (a *applier) recordDestroys() {
	for _, addr := range a.p.DestroysChanged() {
		a.mu.Lock()
		in := a.st.Steps[addr]
		v, _ := a.p.lookupInstance(addr)
		c := a.p.vchange[v]
		if in == nil || c == nil || in.Destroy == c.NewDestroy {
			a.mu.Unlock()
			continue
		}
		in.Destroy = c.NewDestroy
		cp := *in
		a.mu.Unlock()
		if a.opt.Recorder == nil {
			continue
		}
		if err := a.opt.Recorder.PutInstance(addr, cp); err != nil {
			a.res.Warnings = append(a.res.Warnings, err.Error())
		}
	}
}
