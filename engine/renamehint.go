package engine

import (
	"maps"
	"slices"
	"strings"

	"diffuser/lang"
)

// ReasonGone is the reason of a destroy whose step the recipe no longer
// declares.
const ReasonGone = "no longer in the recipe"

// Rename is a module call whose steps a plan destroys while a call new in
// the plan creates steps of the same names on the same hosts, or a step
// of the recipe whose instances it destroys while a new step of the same
// kind is created on the same hosts: most likely the call or step was
// renamed, and a moved block (or state mv) would keep its work instead of
// undoing and redoing it (a run step's destroy runs after its renamed
// self ran: what a creates guard skipped is then gone).
type Rename struct{ From, To string }

// LikelyRenames lists the module calls and steps that look renamed: every
// instance of From goes as no longer in the recipe, and To's created
// instances are exactly the same relative addresses (step and host; for a
// step, kind and host). Each call or step appears in one pair at most.
func (p *Plan) LikelyRenames() []Rename {
	gone := map[string]map[string]bool{}
	for _, c := range p.Destroys {
		if c.Kind == "launch" || c.Reason != ReasonGone {
			continue
		}
		if call, rest, ok := renameUnit(c.Addr, c.Kind); ok {
			if gone[call] == nil {
				gone[call] = map[string]bool{}
			}
			gone[call][rest] = true
		}
	}
	if len(gone) == 0 {
		return nil
	}
	born := map[string]map[string]bool{}
	// mixed: calls with instances that are not new (changed, or recorded
	// and kept as they are): not renamed, and a moved block into them
	// would meet what state already records there.
	mixed := map[string]bool{}
	var steps []*lang.Step
	g := p.Loaded.Graph
	if g != nil {
		steps = g.Steps
	}
	for s, step := range steps {
		call, _, ok := splitCall(step.Name)
		if !ok {
			call = "step." + step.Name
		}
		if mixed[call] {
			continue
		}
		for i := range g.StepHosts[s] {
			if p.Actions[g.StepVertex(s, i)] == NoOp {
				mixed[call] = true
				break
			}
		}
	}
	for _, c := range p.Changes {
		if c.Kind == "launch" {
			continue
		}
		call, rest, ok := renameUnit(c.Addr, c.Kind)
		if !ok {
			continue
		}
		if c.Action != Create {
			mixed[call] = true
			continue
		}
		if born[call] == nil {
			born[call] = map[string]bool{}
		}
		born[call][rest] = true
	}
	var out []Rename
	used := map[string]bool{}
	for _, from := range slices.Sorted(maps.Keys(gone)) {
		for _, to := range slices.Sorted(maps.Keys(born)) {
			if from != to && !used[to] && !mixed[to] && maps.Equal(gone[from], born[to]) {
				out = append(out, Rename{From: from, To: to})
				used[to] = true
				break
			}
		}
	}
	return out
}

// renameUnit is what a rename moves as one: a top-level module call
// (module.NAME, rest the address inside it), or a step of the recipe
// (step.NAME, rest its kind and host: a renamed step keeps both).
func renameUnit(addr, kind string) (unit, rest string, ok bool) {
	if call, rest, ok := splitCall(addr); ok {
		return call, rest, true
	}
	after, ok := strings.CutPrefix(addr, "step.")
	if !ok {
		return "", "", false
	}
	name, host, ok := strings.Cut(after, "[")
	if !ok {
		return "", "", false
	}
	return "step." + name, kind + "\x00" + host, true
}

// splitCall splits module.NAME.rest into the top-level call and the rest.
func splitCall(addr string) (call, rest string, ok bool) {
	after, ok := strings.CutPrefix(addr, "module.")
	if !ok {
		return "", "", false
	}
	name, rest, ok := strings.Cut(after, ".")
	return "module." + name, rest, ok
}
