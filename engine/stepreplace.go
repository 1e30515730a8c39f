package engine

import (
	"fmt"

	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// replaceWhy says why running a step instance whose record in state is
// old must first undo what old's kind made (steps.Destroyer: a mount's
// unmount and fstab line, with the recorded arguments), or "" when the
// work is updated in place (where a steps.Leaver still removes what the
// old arguments made and the new ones drop: undoReplaced). Two cases:
//   - the step's kind changed (a mount step rewritten as a run step): the
//     new kind knows nothing of what the old one made, which would
//     otherwise stay on the host for good;
//   - the kind is a steps.Replacer and the arguments naming what the
//     instance owns changed (a mount's target): the old one would stay
//     beside the new.
//
// The step's own destroy command is not run: it is the recipe's undo for
// when the step leaves the recipe, and may stop what the new step goes on
// using (a run step that started a daemon becoming the service step that
// manages it). Only a record whose kind undoes itself counts, and only
// when the new arguments are known (apply decides what plan could not).
// args may be marked; they are unmarked here.
func (l *Loaded) replaceWhy(old *state.Instance, kind string, args cty.Value) string {
	if old == nil || !ran(*old) || !l.kindUndoes(*old) {
		return ""
	}
	if old.Kind != kind {
		return fmt.Sprintf("the kind changes from %s to %s: the %s instance is undone first", old.Kind, kind, old.Kind)
	}
	rp, ok := l.Kinds[kind].(steps.Replacer)
	if !ok || args == cty.NilVal || !args.IsWhollyKnown() {
		return ""
	}
	prev := l.prevArgs(old)
	if prev == cty.NilVal {
		return ""
	}
	plain, _ := args.UnmarkDeep()
	if why := rp.Replaces(prev, plain); why != "" {
		return why + ": the old one is undone first"
	}
	return ""
}
