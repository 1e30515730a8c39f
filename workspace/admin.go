package workspace

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"diffuser/state"
)

// ReadState loads a workspace's state by name, without a recipe.
func (e *Env) ReadState(name string) (*state.State, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	s, err := e.envBackend(name, false)
	if err != nil {
		return nil, err
	}
	if !isLocal(s) {
		st, err := s.Load()
		if err == nil && isEmpty(st) {
			return nil, fmt.Errorf("no workspace %q in %s: %w", name, s.Where(), ErrNoState)
		}
		return st, err
	}
	dir := e.Layout().Workspace(name)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no workspace %q under %s: %w", name, e.dataDir(), ErrNoState)
	}
	return s.Load()
}

// checkExists refuses a workspace whose backend holds no state.
func (e *Env) checkExists(s Backend, name string) error {
	if isLocal(s) {
		if _, err := os.Lstat(e.Layout().StateFile(name)); err != nil { // a link is there: Load says what is wrong with it
			return fmt.Errorf("no workspace %q under %s (no %s): %w", name, e.dataDir(), state.StateFile, ErrNoState)
		}
		return nil
	}
	st, err := s.Load()
	if err != nil {
		return err
	}
	if st.Serial == 0 && len(st.Hosts)+len(st.Steps) == 0 {
		return fmt.Errorf("no workspace %q in %s: %w", name, s.Where(), ErrNoState)
	}
	return nil
}

// Names lists the workspaces under the data directory that hold state.
func (e *Env) Names() []string {
	ents, _ := os.ReadDir(e.dataDir())
	var out []string
	for _, ent := range ents {
		if !ent.IsDir() {
			continue
		}
		if _, err := os.Stat(e.Layout().StateFile(ent.Name())); err == nil {
			out = append(out, ent.Name())
		}
	}
	sort.Strings(out)
	return out
}

// UnlockResult says what Unlock found.
type UnlockResult struct {
	Broken *state.Holder // the stale holder whose lock was broken
	Dead   *state.Holder // not locked: the last holder died without releasing
	Forced *state.Holder // the holder whose lock -force removed
}

// Unlock breaks a workspace's lock when its holder is no longer alive; a
// live holder's lock is never broken. With force (a lock id, for a
// backend whose lock outlives its holder: S3) it removes the lock that
// id names, whoever holds it, and no other.
func (e *Env) Unlock(name, force string) (UnlockResult, error) {
	if err := CheckName(name); err != nil {
		return UnlockResult{}, err
	}
	s, err := e.envBackend(name, false)
	if err != nil {
		return UnlockResult{}, err
	}
	if force != "" {
		fu, ok := s.(forceUnlocker)
		if !ok {
			return UnlockResult{}, fmt.Errorf("--force: the lock of %s is a flock(2) lock, freed by the kernel when its holder exits; there is nothing to force (a live holder's lock is never broken)", s.Where())
		}
		h, err := fu.ForceUnlock(force)
		return UnlockResult{Forced: h}, err
	}
	h, err := s.BreakLock()
	if err != nil {
		return UnlockResult{}, err
	}
	if h != nil {
		return UnlockResult{Broken: h}, nil
	}
	if dead, err := s.DeadHolder(); err == nil && dead != nil {
		return UnlockResult{Dead: dead}, nil
	}
	return UnlockResult{}, nil
}

// ForgetHostKey drops a host's pinned SSH key, under the workspace lock,
// so the next connection trusts and records the key it offers.
func (e *Env) ForgetHostKey(ctx context.Context, name, host string) error {
	ls, err := e.lockState(ctx, "state forget-hostkey", name, host)
	if err != nil {
		return err
	}
	defer ls.unlock()
	h, ok := ls.st.Hosts[host]
	if !ok {
		return fmt.Errorf("no host %q in workspace %s; hosts: %s", host, name, strings.Join(sortedHosts(ls.st), ", "))
	}
	h.SSH.HostKey = ""
	return ls.save()
}

// ForgetJumpHostKey drops the pinned key of the jump host named jump (its
// address, with ":port" when the port is not 22, as JumpName gives it) in
// every host's jump chain, under the workspace lock, so that the next
// connection through it trusts and pins the key offered then. It returns
// the hosts reached through that jump host.
func (e *Env) ForgetJumpHostKey(ctx context.Context, name, jump string) ([]string, error) {
	ls, err := e.lockState(ctx, "state forget-hostkey", name, "--jump", jump)
	if err != nil {
		return nil, err
	}
	defer ls.unlock()
	var hosts []string
	known := map[string]bool{}
	for _, hn := range sortedHosts(ls.st) {
		h := ls.st.Hosts[hn]
		found := false
		for j := h.SSH.Jump; j != nil; j = j.Jump {
			known[JumpName(j)] = true
			if JumpName(j) == jump {
				j.HostKey = ""
				found = true
			}
		}
		if found {
			hosts = append(hosts, hn)
		}
	}
	if len(hosts) == 0 {
		if len(known) == 0 {
			return nil, fmt.Errorf("no host of workspace %s is reached through a jump host, so there is no jump host key to forget", name)
		}
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no jump host %q in workspace %s; jump hosts: %s", jump, name, strings.Join(names, ", "))
	}
	return hosts, ls.save()
}
