package engine

import (
	"context"
	"fmt"

	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// replaceWhy says why running a step instance whose record in state is
// old must first undo the old instance, or "" when the work is updated in
// place (where a steps.Leaver still removes what the old arguments made
// and the new ones drop: undoReplaced). Two cases:
//   - the step's kind changed from one that undoes itself (steps.Destroyer:
//     a mount step rewritten as a run step): the new kind knows nothing of
//     what the old one made, which would otherwise stay on the host for
//     good. The old kind's undo runs (unmount, fstab line), not the step's
//     destroy command;
//   - the kind is a steps.Replacer and the arguments naming what the
//     instance is changed (a mount's target, a file's path, a service's
//     unit): the old one would stay beside the new. The undo is the kind's
//     own when it has one (mount), else the destroy command recorded with
//     old (file, service: written for the old path or unit), when the step
//     still has a destroy command (destroy, its value now: not null; it
//     may be unknown). Otherwise there is nothing to undo and the instance
//     is updated in place, leaving the old file or unit as its step
//     leaving the recipe would.
//
// The recorded destroy command is the recipe's undo for when the step
// leaves the recipe, and may do more than undo the instance: stop what the
// new step goes on using (a run step that started a daemon becoming the
// service step that manages it), remove a path the new instance uses too.
// So it never runs when the kind changes, and a recipe that drops a
// step's destroy command in the change that renames its file or unit
// keeps it an update (the nfs recipe's gvfs_service, whose old unit
// gvfs_retire stops, and whose old destroy would remove the new mount's
// link), as Terraform reads destroy-time provisioners from the
// configuration. Only a record with recorded arguments counts (a sensitive
// step records none), and only when the new arguments are known (apply
// decides what plan could not). args and destroy may be marked; when args
// are, the reason names no value.
func (l *Loaded) replaceWhy(old *state.Instance, kind string, args, destroy cty.Value) string {
	if old == nil || !ran(*old) {
		return ""
	}
	undoes := l.kindUndoes(*old)
	if old.Kind != kind {
		if !undoes {
			return ""
		}
		return fmt.Sprintf("the kind changes from %s to %s: the %s instance is undone first", old.Kind, kind, old.Kind)
	}
	var how string
	switch {
	case undoes:
		how = "the old one is undone first"
	case old.Destroy != "" && hasDestroy(destroy):
		how = "the old one's destroy command runs first"
	default:
		return ""
	}
	rp, ok := l.Kinds[kind].(steps.Replacer)
	if !ok || args == cty.NilVal || !args.IsWhollyKnown() {
		return ""
	}
	prev := l.prevArgs(old)
	if prev == cty.NilVal {
		return ""
	}
	plain, marks := args.UnmarkDeep()
	why := rp.Replaces(prev, plain)
	switch {
	case why == "":
		return ""
	case len(marks) > 0:
		// The reason names argument values, which a sensitive step's
		// plan does not show.
		why = "what it names changes (values hidden: sensitive step)"
	}
	return why + ": " + how
}

// hasDestroy reports whether a step's destroy value (lang.Generic's) is a
// command, or unknown yet: not null, not "".
func hasDestroy(destroy cty.Value) bool {
	if destroy == cty.NilVal {
		return false
	}
	d, _ := destroy.UnmarkDeep()
	switch {
	case d.IsNull():
		return false
	case !d.IsKnown():
		return true
	}
	return d.Type() == cty.String && d.AsString() != ""
}

// undoOld undoes the instance old before its replacement (replaceWhy
// said why): with its kind's own undo and the recorded arguments when it
// has one, else with its recorded destroy command.
func (a *applier) undoOld(ctx context.Context, r runner.Runner, old state.Instance) error {
	if a.p.Loaded.kindUndoes(old) {
		return a.undoKind(ctx, r, old)
	}
	return runDestroy(ctx, r, old)
}
