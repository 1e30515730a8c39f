package engine

import (
	"fmt"
	"sort"
	"strings"

	"diffuser/lang"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
)

// Move is one recorded step instance a moved block renames: plan shows it,
// apply renames it in state before anything runs. Its digest does not
// change (a step's name is not part of it), so a step moved with the
// same meaning plans as a no-op.
type Move struct {
	From, To string // instance addresses
	Step     string // the new lang.Step.Name
	// By are the moved blocks that made the move, in the order they
	// apply (more than one when a move leads to another's from).
	By []*lang.Moved
}

// Reason names the module histories that made the move ("" when only
// the recipe's own moved blocks did).
func (m Move) Reason() string {
	var reasons []string
	for _, mv := range m.By {
		if r := mv.Reason(); r != "" {
			reasons = append(reasons, r)
		}
	}
	return strings.Join(reasons, "; ")
}

// movedState returns st with the recipe's moved blocks applied to a copy
// of its instances (st itself is not changed), and the moves made.
// An instance whose new address state already holds is an error: which
// of the two records the work is not for diffuser to guess. A move can
// lead to the from of another (module.a moved to module.b, and module.b's
// history moves caller.module.b.step.x into its own step): an instance
// follows such chains. The recipe's own blocks win over a module's
// history; two histories moving one instance to different places, or two
// instances moving to one place, are errors.
func movedState(st *state.State, moved []*lang.Moved) (*state.State, []Move, hcl.Diagnostics) {
	if len(moved) == 0 || len(st.Steps) == 0 {
		return st, nil, nil
	}
	var moves []Move
	var diags hcl.Diagnostics
	addrs := make([]string, 0, len(st.Steps))
	for addr := range st.Steps {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	into := map[string]*lang.Moved{} // new address -> the block that moved something there
	// A problem is one per recorded step and kind of problem, however
	// many hosts: the first instance's error says how many more share it.
	type problem struct{ summary, step string }
	first := map[problem]*hcl.Diagnostic{}
	more := map[problem]int{}
	var order []problem
	report := func(step string, d *hcl.Diagnostic) {
		k := problem{d.Summary, step}
		if first[k] != nil {
			more[k]++
			return
		}
		first[k] = d
		order = append(order, k)
		diags = append(diags, d)
	}
	for _, addr := range addrs {
		in := st.Steps[addr]
		step, by, d := resolveMoves(addr, in.Step, moved)
		if d.HasErrors() {
			report(in.Step, d[0])
			continue
		}
		if len(by) == 0 {
			continue
		}
		last := by[len(by)-1]
		to := InstanceAddr(step, in.Host)
		if st.Steps[to] != nil {
			report(in.Step, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Moved object still exists",
				Detail: fmt.Sprintf("The moved block would move %s to %s, but state already records %s. Remove one of them from state "+
					"(diffuser state rm '%s'), or remove the moved block.", addr, to, to, to),
				Subject: last.ToRange.Ptr()})
			continue
		}
		if prev := into[to]; prev != nil {
			report(in.Step, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two moves to one place",
				Detail: fmt.Sprintf("State records two instances that move to %s (the other by the moved block at %s). Remove one of them from state "+
					"(diffuser state rm), or say in the recipe where each goes.", to, prev.Where()),
				Subject: last.ToRange.Ptr()})
			continue
		}
		into[to] = last
		moves = append(moves, Move{From: addr, To: to, Step: step, By: by})
	}
	for _, k := range order {
		if n := more[k]; n > 0 {
			first[k].Detail += fmt.Sprintf(" The same holds for %d more instance(s) of %s.", n, lang.StepAddr(k.step))
		}
	}
	if len(moves) == 0 || diags.HasErrors() {
		return st, nil, diags
	}
	cp := *st
	cp.Steps = make(map[string]*state.Instance, len(st.Steps))
	for k, v := range st.Steps {
		cp.Steps[k] = v
	}
	for _, m := range moves {
		in := *cp.Steps[m.From]
		delete(cp.Steps, m.From)
		in.Step = m.Step
		cp.Steps[m.To] = &in
	}
	return &cp, moves, nil
}

// resolveMoves follows the moves of a recorded step (lang.Step.Name) and
// returns its last name and the blocks used in order (none: nothing
// moves it).
func resolveMoves(addr, step string, moved []*lang.Moved) (string, []*lang.Moved, hcl.Diagnostics) {
	used := map[*lang.Moved]bool{}
	var by []*lang.Moved
	for range moved {
		var own, carried *lang.Moved
		next := ""
		for _, mv := range moved {
			to, ok := movedStep(step, mv)
			if !ok || used[mv] {
				continue
			}
			switch {
			case mv.By == nil:
				if own == nil {
					own, next = mv, to
				}
			case carried == nil:
				carried = mv
				if own == nil {
					next = to
				}
			default:
				if other, _ := movedStep(step, carried); own == nil && other != to {
					return step, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Ambiguous module history",
						Detail: fmt.Sprintf("State records %s, which %s (moved block at %s) moves to %s and %s (moved block at %s) to %s. "+
							"Say where it goes with a moved block %s, e.g. moved { from = %s  to = %s }, or remove it from state.",
							addr, carried.By.Addr, carried.Where(), lang.StepAddr(other), mv.By.Addr, mv.Where(), lang.StepAddr(to),
							callerPlace(mv.By), relativeTo(mv.By.Parent, lang.StepAddr(step)), relativeTo(mv.By.Parent, lang.StepAddr(other))),
						Subject: mv.FromRange.Ptr()}}
				}
			}
		}
		mv := own
		if mv == nil {
			mv = carried
		}
		if mv == nil {
			break
		}
		used[mv] = true
		by, step = append(by, mv), next
	}
	return step, by, nil
}

// callerPlace says where the caller of module m writes a moved block.
func callerPlace(m *lang.Module) string {
	if m.Parent == nil {
		return "in the recipe"
	}
	return "in " + m.Parent.Addr + " (addresses relative to it)"
}

// relativeTo is addr as a moved block in module m (nil: the recipe)
// writes it.
func relativeTo(m *lang.Module, addr string) string {
	if m == nil {
		return addr
	}
	return strings.TrimPrefix(addr, m.Addr+".")
}

// movedStep says whether a recorded step (lang.Step.Name) is what mv
// moves, and its new name.
func movedStep(step string, mv *lang.Moved) (string, bool) {
	addr := lang.StepAddr(step)
	switch {
	case addr == mv.From:
		return stepName(mv.To), true
	case strings.HasPrefix(mv.From, "module.") && !strings.Contains(strings.TrimPrefix(mv.From, "module."), ".step.") &&
		strings.HasPrefix(addr, mv.From+"."):
		return stepName(mv.To + strings.TrimPrefix(addr, mv.From)), true
	}
	return "", false
}

// lineOf is "file:line" of r, for a block named in a message.
// stepName is the lang.Step.Name of a step address.
func stepName(addr string) string { return strings.TrimPrefix(addr, "step.") }

// applyMoves renames in st what the plan moves, and records it.
func (a *applier) applyMoves() {
	for _, m := range a.p.Moves {
		a.mu.Lock()
		in := a.st.Steps[m.From]
		if in == nil || a.st.Steps[m.To] != nil {
			a.mu.Unlock()
			continue // state changed since the plan; the next plan says so
		}
		delete(a.st.Steps, m.From)
		in.Step = m.Step
		if v, ok := a.p.lookupInstance(m.To); ok {
			if c := a.p.vchange[v]; c != nil && c.DestroyChanged {
				in.Destroy = c.NewDestroy // the step it moved to undoes itself its own way
			}
		}
		a.st.Steps[m.To] = in
		cp := *in
		a.mu.Unlock()
		if a.opt.Recorder == nil {
			continue
		}
		if err := a.opt.Recorder.PutInstance(m.To, cp); err != nil {
			a.res.Warnings = append(a.res.Warnings, err.Error())
		}
		if err := a.opt.Recorder.DeleteInstance(m.From); err != nil {
			a.res.Warnings = append(a.res.Warnings, err.Error())
		}
	}
}
