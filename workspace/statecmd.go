package workspace

import (
	"diffuser/lang"

	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"diffuser/engine"
	"diffuser/state"
)

// lockedState is a workspace's state loaded under its lock, for commands
// that edit state without a recipe (state rm, state mv, forget-hostkey).
type lockedState struct {
	store  Backend
	st     *state.State
	unlock func() error
}

// lockState locks the workspace called name (waiting up to LockTimeout)
// for command and loads its state. A workspace that does not exist is an
// error, not one made empty.
func (e *Env) lockState(ctx context.Context, command, name string, args ...string) (*lockedState, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s, err := e.envBackend(name, true)
	if err != nil {
		return nil, err
	}
	if err := e.checkExists(s, name); err != nil {
		return nil, err
	}
	unlock, err := s.Lock(ctx, state.CurrentHolder(holderCommand(command, append([]string{name}, args...)...)))
	if err != nil {
		return nil, err
	}
	st, err := s.Load()
	if err != nil {
		_ = unlock()
		return nil, err
	}
	return &lockedState{store: s, st: st, unlock: unlock}, nil
}

// save writes the edited state (the file it replaces is kept as
// state.json.backup) and releases the lock.
func (ls *lockedState) save() error {
	err := ls.store.Save(ls.st)
	if uerr := ls.unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

// Edit is what state rm or state mv changed.
type Edit struct {
	Hosts     []Move // removed hosts (To empty) or moved ones
	Instances []Move // removed step instances (To empty) or moved ones
	// Redo lists moved instances whose digest could not follow the move
	// (a sensitive step records no arguments): the next plan updates them.
	Redo   []string
	Backup string // the copy of state.json from before the edit
}

// Move is one address before and after an edit; To is empty for a removal.
type Move struct{ From, To string }

// UnknownAddressError is an address state does not hold, with the ones
// that look like it.
type UnknownAddressError struct {
	Workspace string
	Addr      string
	Near      []string
}

func (e *UnknownAddressError) Error() string {
	msg := fmt.Sprintf("workspace %s has no %s in state", e.Workspace, e.Addr)
	if len(e.Near) > 0 {
		msg += "; did you mean " + strings.Join(e.Near, ", ") + "?"
	}
	return msg + " (diffuser state list " + e.Workspace + " lists every address)"
}

// StateRm forgets hosts, whole steps or step instances from workspace
// name's state without touching any machine: a host goes with every step
// instance on it, a step with all its instances. Every address must be in
// state, or nothing is removed.
func (e *Env) StateRm(ctx context.Context, name string, addrs []string) (*Edit, error) {
	if len(addrs) == 0 {
		return nil, errors.New("state rm: give at least one address: a host (server[1]), a step (step.NAME) or a step instance (step.NAME[\"server[1]\"])")
	}
	parsed := make([]engine.Address, len(addrs))
	for i, a := range addrs {
		var err error
		if parsed[i], err = engine.ParseAddress(a); err != nil {
			return nil, err
		}
	}
	ls, err := e.lockState(ctx, "state rm", name, addrs...)
	if err != nil {
		return nil, err
	}
	defer ls.unlock()
	st := ls.st
	hosts, insts := map[string]bool{}, map[string]bool{}
	for _, a := range parsed {
		found := false
		switch a.Kind {
		case engine.AddrHost:
			if st.Hosts[a.Host] != nil {
				hosts[a.Host], found = true, true
			}
			for addr, inst := range st.Steps {
				if inst.Host == a.Host {
					insts[addr], found = true, true
				}
			}
		case engine.AddrStep, engine.AddrModule:
			for addr, inst := range st.Steps {
				if engine.TargetsStep(a.String(), inst.Step) {
					insts[addr], found = true, true
				}
			}
		case engine.AddrInstance:
			if st.Steps[a.String()] != nil {
				insts[a.String()], found = true, true
			}
		}
		if !found {
			return nil, &UnknownAddressError{Workspace: name, Addr: a.String(), Near: nearAddresses(st, a)}
		}
	}
	ed := &Edit{Backup: backupOf(ls.store)}
	for _, h := range sortedSet(hosts) {
		delete(st.Hosts, h)
		ed.Hosts = append(ed.Hosts, Move{From: h})
	}
	for _, addr := range sortedSet(insts) {
		delete(st.Steps, addr)
		ed.Instances = append(ed.Instances, Move{From: addr})
	}
	if err := ls.save(); err != nil {
		return nil, err
	}
	return ed, nil
}

// StateMv renames, in workspace name's state, a step instance, every
// instance of a step (step.old to step.new), or a host with every
// instance on it (server[3] to storage[0]), for a recipe whose names
// changed: the next plan then finds the work done instead of destroying
// it under the old name and doing it again under the new one. Nothing on
// any machine changes. Digests are kept (a step's name is not part of
// them); a host's name is, so a moved host's instances get the digest
// their arguments give under the new name (engine.Redigest). src and dst
// must be of one kind; dst must not be in state; an instance keeps its
// host (move the host to rename that).
func (e *Env) StateMv(ctx context.Context, name, src, dst string) (*Edit, error) {
	from, err := engine.ParseAddress(src)
	if err != nil {
		return nil, err
	}
	to, err := engine.ParseAddress(dst)
	if err != nil {
		return nil, err
	}
	switch {
	case from.Kind != to.Kind:
		return nil, fmt.Errorf("cannot move a %s (%s) to a %s (%s): both must be hosts, both steps, both step instances or both modules", from.Kind, from, to.Kind, to)
	case from == to:
		return nil, fmt.Errorf("%s and %s are the same address: nothing to move", src, dst)
	case from.Kind == engine.AddrInstance && from.Host != to.Host:
		return nil, fmt.Errorf("a step instance records work done on its host, so it cannot move to another host (%s to %s); to rename the host, move the host: diffuser state mv %s '%s' '%s'",
			from.Host, to.Host, name, from.Host, to.Host)
	}
	kinds, err := e.Kinds()
	if err != nil {
		return nil, err
	}
	ls, err := e.lockState(ctx, "state mv", name, src, dst)
	if err != nil {
		return nil, err
	}
	defer ls.unlock()
	st := ls.st
	ed := &Edit{Backup: backupOf(ls.store)}
	taken := func(what string) error {
		return fmt.Errorf("%s is already in state: remove it first (diffuser state rm %s '%s') or move it elsewhere", what, name, what)
	}
	// moveInst renames one instance; host is its new host name.
	moveInst := func(addr, step, host string) {
		inst := st.Steps[addr]
		delete(st.Steps, addr)
		if host != inst.Host {
			prov := ""
			if h := st.Hosts[host]; h != nil {
				prov = h.ProviderID
			}
			if dg, ok := engine.Redigest(kinds, inst, host, prov); ok {
				inst.Digest = dg
			} else if inst.Status == state.StatusApplied {
				ed.Redo = append(ed.Redo, engine.InstanceAddr(step, host))
			}
		}
		inst.Step, inst.Host = step, host
		na := engine.InstanceAddr(step, host)
		st.Steps[na] = inst
		ed.Instances = append(ed.Instances, Move{From: addr, To: na})
	}
	switch from.Kind {
	case engine.AddrInstance:
		if st.Steps[from.String()] == nil {
			return nil, &UnknownAddressError{Workspace: name, Addr: from.String(), Near: nearAddresses(st, from)}
		}
		if st.Steps[to.String()] != nil {
			return nil, taken(to.String())
		}
		moveInst(from.String(), to.Step, to.Host)
	case engine.AddrModule:
		// Every step of the module, nested ones too, keeps its path below it.
		var addrs []string
		for addr, inst := range st.Steps {
			switch {
			case engine.TargetsStep(from.Step, inst.Step):
				addrs = append(addrs, addr)
			case engine.TargetsStep(to.Step, inst.Step):
				return nil, taken(to.String())
			}
		}
		if len(addrs) == 0 {
			return nil, &UnknownAddressError{Workspace: name, Addr: from.String(), Near: nearAddresses(st, from)}
		}
		sort.Strings(addrs)
		for _, addr := range addrs {
			inst := st.Steps[addr]
			moveInst(addr, to.Step+strings.TrimPrefix(inst.Step, from.Step), inst.Host)
		}
	case engine.AddrStep:
		var addrs []string
		for addr, inst := range st.Steps {
			switch inst.Step {
			case from.Step:
				addrs = append(addrs, addr)
			case to.Step:
				return nil, taken(to.String())
			}
		}
		if len(addrs) == 0 {
			return nil, &UnknownAddressError{Workspace: name, Addr: from.String(), Near: nearAddresses(st, from)}
		}
		sort.Strings(addrs)
		for _, addr := range addrs {
			moveInst(addr, to.Step, st.Steps[addr].Host)
		}
	case engine.AddrHost:
		if st.Hosts[to.Host] != nil {
			return nil, taken(to.Host)
		}
		var addrs []string
		for addr, inst := range st.Steps {
			switch inst.Host {
			case from.Host:
				addrs = append(addrs, addr)
			case to.Host:
				return nil, taken(engine.InstanceAddr(inst.Step, to.Host))
			}
		}
		h := st.Hosts[from.Host]
		if h == nil && len(addrs) == 0 {
			return nil, &UnknownAddressError{Workspace: name, Addr: from.String(), Near: nearAddresses(st, from)}
		}
		if h != nil {
			delete(st.Hosts, from.Host)
			h.Name, h.Group, h.Index = to.Host, to.Group, to.Index
			st.Hosts[to.Host] = h
			ed.Hosts = append(ed.Hosts, Move{From: from.Host, To: to.Host})
		}
		sort.Strings(addrs)
		for _, addr := range addrs {
			moveInst(addr, st.Steps[addr].Step, to.Host)
		}
	}
	if err := ls.save(); err != nil {
		return nil, err
	}
	return ed, nil
}

// moduleOf is the module a step or module address is in
// (module.a.module.b.step.x: module.a.module.b; module.a.module.b:
// module.a), or "" at the root.
func moduleOf(addr string) string {
	if i := strings.LastIndex(addr, ".step."); i > 0 {
		return addr[:i]
	}
	if i := strings.LastIndex(addr, ".module."); i > 0 {
		return addr[:i]
	}
	return ""
}

// nearAddresses lists what state holds that looks like a: the same step
// or host under another name or host, or an address a few edits away.
func nearAddresses(st *state.State, a engine.Address) []string {
	want := a.String()
	type cand struct {
		addr string
		d    int
	}
	var cs []cand
	add := func(addr string, related bool) {
		d := lang.EditDistance(want, addr)
		if related {
			d = min(d, 1)
		}
		if d <= max(2, len(want)/5) {
			cs = append(cs, cand{addr, d})
		}
	}
	steps := map[string]bool{}
	for _, inst := range st.Steps {
		steps[inst.Step] = true
	}
	for h := range st.Hosts {
		add(h, false)
	}
	mods := map[string]bool{}
	for s := range steps {
		add(lang.StepAddr(s), a.Kind == engine.AddrInstance && s == a.Step)
		for m := moduleOf(s); m != ""; m = moduleOf(m) {
			mods[m] = true
		}
	}
	for m := range mods {
		add(m, false)
	}
	for addr, inst := range st.Steps {
		add(addr, a.Kind == engine.AddrInstance && inst.Step == a.Step && inst.Host != a.Host)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].addr < cs[j].addr
	})
	var out []string
	for _, c := range cs {
		if c.addr != want && len(out) < 5 {
			out = append(out, c.addr)
		}
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
