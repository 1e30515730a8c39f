package engine

import (
	"context"
	"fmt"

	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// A step instance that leaves the recipe while another instance on the
// same host takes over what it owned (the same file, mount target or
// service unit: a step or module call renamed without a moved block, a
// step moved into a module) is handed over: its undo is not run. The
// destroy phase runs after every change, so its destroy command
// (`systemctl disable --now unit; rm -f file`) or its kind's undo (a
// mount's unmount) would undo the work the new instance has just done,
// and the apply would end reporting success with the service stopped, the
// file gone or the volume unmounted. The record is forgotten, and the
// plan and apply say which instance took over.

// ownedThing is what an instance of kind with args owns on its host that
// only one instance can own (ownedKey's file path or mount target, or a
// service's unit), as a key and as shown; ok is false for a kind that owns
// nothing such, or a value not known yet.
func ownedThing(kind string, args cty.Value) (key, shown string, ok bool) {
	if key, written, hidden, ok := ownedKey(kind, args); ok {
		if hidden {
			written = "(sensitive)"
		}
		return key, ownedPaths[kind].arg + " " + written, true
	}
	if kind != "service" {
		return "", "", false
	}
	args, _ = args.UnmarkDeep()
	if !args.IsWhollyKnown() || args.IsNull() || !args.Type().IsObjectType() || !args.Type().HasAttribute("name") {
		return "", "", false
	}
	n := args.GetAttr("name")
	if n.IsNull() || n.Type() != cty.String {
		return "", "", false
	}
	unit := steps.UnitName(n.AsString()) // as systemctl reads it
	return "service\x00" + unit, "service " + unit, true
}

// recordedThing is ownedThing of an instance as state records it, when
// undoing it would do anything (none for a sensitive step, whose
// arguments state does not keep).
func (l *Loaded) recordedThing(inst *state.Instance) (key, shown string, ok bool) {
	if inst == nil || !l.undoable(*inst) {
		return "", "", false
	}
	args := l.prevArgs(inst)
	if args == cty.NilVal {
		return "", "", false
	}
	return ownedThing(inst.Kind, args)
}

// handOverNote is what plan and apply say of a destroy handed over to to.
func handOverNote(to, shown string) string {
	return fmt.Sprintf("not undone: %s has the same %s now, which this one's undo would undo; a moved block or `diffuser state mv` keeps a record under its new name", to, shown)
}

// planHandOvers sets HandedTo on each planned destroy of a step instance
// whose host stays and whose recorded file, mount target or service
// another instance of the recipe on that host owns, as far as the plan
// knows the other's arguments (apply decides again from state).
func (p *Plan) planHandOvers(st *state.State) {
	if p.DestroyAll {
		return
	}
	var owners map[string]string // host + key -> address
	for _, c := range p.Destroys {
		if c.Kind == "launch" || st.Hosts[c.Host] == nil {
			continue
		}
		key, shown, ok := p.Loaded.recordedThing(st.Steps[c.Addr])
		if !ok {
			continue
		}
		if owners == nil {
			owners = p.plannedOwners()
		}
		if to := owners[c.Host+"\x00"+key]; to != "" {
			c.HandedTo, c.HandedOver = to, handOverNote(to, shown)
		}
	}
}

// planKeptOld makes an update of each step replacement (a file's path, a
// unit, a mount's target or a kind changed) whose old file, unit or
// mount target another instance of the recipe has on the same host now:
// undoing the old one (its destroy command, an unmount) would undo that
// other instance's work, whenever it runs (two file steps swapping paths
// undid each other). KeptOld says which instance, for apply.
func (p *Plan) planKeptOld(st *state.State) {
	var owners map[string]string
	for v, c := range p.vchange {
		if c.Action != Replace || c.Kind == "launch" {
			continue
		}
		key, shown, ok := p.Loaded.recordedThing(st.Steps[c.Addr])
		if !ok {
			continue
		}
		if owners == nil {
			owners = p.plannedOwners()
		}
		to := owners[c.Host+"\x00"+key]
		if to == "" || to == c.Addr {
			continue
		}
		if p.keptOld == nil {
			p.keptOld = map[int32]string{}
		}
		p.keptOld[v] = to
		c.Action, c.Reason = Update, fmt.Sprintf("inputs changed; the old one is not undone: %s has the same %s now", to, shown)
		p.Actions[v] = Update
	}
}

// plannedOwners indexes the recipe's instances by host and ownedThing.
func (p *Plan) plannedOwners() map[string]string {
	owners := map[string]string{}
	for _, c := range p.vchange {
		if c.Kind == "launch" || c.Args == cty.NilVal {
			continue
		}
		if key, _, ok := ownedThing(c.Kind, c.Args); ok {
			owners[c.Host+"\x00"+key] = c.Addr
		}
	}
	return owners
}

// handOvers returns, for the destroy phase of an apply that keeps the
// cluster, the destroys of step instances whose recorded file, mount
// target or service an instance applied and kept on the same host records
// too: by address, the address of that instance.
func (a *applier) handOvers() map[string]string {
	if a.p.DestroyAll {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	leaving := map[string]bool{}
	hosts := map[string]bool{}
	for _, c := range a.p.Destroys {
		leaving[c.Addr] = true
		if c.Kind != "launch" {
			hosts[c.Host] = true
		}
	}
	owners := map[string]string{}
	for addr, inst := range a.st.Steps {
		if leaving[addr] || !hosts[inst.Host] || inst.Status != state.StatusApplied {
			continue
		}
		if key, _, ok := a.p.Loaded.recordedThing(inst); ok {
			owners[inst.Host+"\x00"+key] = addr
		}
	}
	out := map[string]string{}
	for _, c := range a.p.Destroys {
		if c.Kind == "launch" || a.st.Hosts[c.Host] == nil {
			continue
		}
		if key, _, ok := a.p.Loaded.recordedThing(a.st.Steps[c.Addr]); ok {
			if to := owners[c.Host+"\x00"+key]; to != "" {
				out[c.Addr] = to
			}
		}
	}
	return out
}

// leaveHandedOver removes what old made that the instance it is handed to
// (to) does not keep, as an update in place from one to the other would
// (steps.Leaver: a mount's fstab line when the new one has fstab false),
// through r; nothing for a kind without Leave or without both instances'
// arguments recorded.
func (a *applier) leaveHandedOver(ctx context.Context, r runner.Runner, old state.Instance, to string) error {
	a.mu.Lock()
	var owner state.Instance
	if o := a.st.Steps[to]; o != nil {
		owner = *o
	}
	a.mu.Unlock()
	lv, ok := a.p.Loaded.Kinds[old.Kind].(steps.Leaver)
	if !ok || owner.Kind != old.Kind {
		return nil
	}
	prev, now := a.p.Loaded.prevArgs(&old), a.p.Loaded.prevArgs(&owner)
	if prev == cty.NilVal || now == cty.NilVal {
		return nil
	}
	return lv.Leave(ctx, r, prev, now)
}
