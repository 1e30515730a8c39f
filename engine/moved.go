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
}

// movedState returns st with the recipe's moved blocks applied to a copy
// of its instances (st itself is not changed), and the moves made.
// An instance whose new address state already holds is an error: which
// of the two records the work is not for diffuser to guess.
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
	for _, addr := range addrs {
		in := st.Steps[addr]
		for _, mv := range moved {
			step, ok := movedStep(in.Step, mv)
			if !ok {
				continue
			}
			to := InstanceAddr(step, in.Host)
			if st.Steps[to] != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Moved object still exists",
					Detail: fmt.Sprintf("The moved block would move %s to %s, but state already records %s. Remove one of them from state "+
						"(diffuser state rm '%s'), or remove the moved block.", addr, to, to, to),
					Subject: mv.DeclRange.Ptr()})
				break
			}
			moves = append(moves, Move{From: addr, To: to, Step: step})
			break
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
