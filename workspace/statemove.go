package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"

	"diffuser/state"
)

// Moved says what state push or pull copied.
type Moved struct {
	From, To string // where, as Backend.Where names them
	Lineage  string
	Serial   uint64
	// Replaced is the state the destination held before (nil: none); its
	// copy is Backup.
	Replaced *state.State
	Backup   string
}

// ErrOtherLineage says the destination holds another state.
var ErrOtherLineage = errors.New("the destination holds another state")

// Push copies workspace name's state from the local data directory to the
// site file's backend; Pull copies it back. Both keep the lineage and the
// serial, hold both locks while they copy (the source's first), replay
// the source's journal into what they write, and refuse to overwrite a
// destination that holds another lineage, or a later serial of the same
// one, unless force. The source is left as it was: once the site file
// names the backend, commands read and write only there.
func (e *Env) Push(ctx context.Context, name string, force bool) (*Moved, error) {
	remote, err := e.remoteBackend(name, "push")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.Layout().Workspace(name), 0o700); err != nil {
		return nil, err
	}
	m, err := e.moveState(ctx, name, e.localStore(name, e.LockTimeout), remote, force, "state push")
	if err == nil {
		err = e.markRemote(name, remote)
	}
	return m, err
}

// Pull copies workspace name's state from the site file's backend to the
// local data directory (see Push).
func (e *Env) Pull(ctx context.Context, name string, force bool) (*Moved, error) {
	remote, err := e.remoteBackend(name, "pull")
	if err != nil {
		return nil, err
	}
	m, err := e.moveState(ctx, name, remote, e.localStore(name, e.LockTimeout), force, "state pull")
	if err == nil {
		// The local copy is the state now, for commands without the backend.
		if rerr := os.Remove(e.Layout().BackendMarker(name)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
	}
	return m, err
}

func (e *Env) remoteBackend(name, verb string) (Backend, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	cfg, err := e.envBackendConfig()
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, fmt.Errorf("state %s: the site file names no backend: add a backend \"s3\" block to it (and give it with -site unless it is ./diffuser.hcl)", verb)
	}
	return e.backend(name, cfg, true)
}

func (e *Env) moveState(ctx context.Context, name string, from, to Backend, force bool, command string) (*Moved, error) {
	holder := state.CurrentHolder(holderCommand(command, name))
	unlockFrom, err := from.Lock(ctx, holder)
	if err != nil {
		return nil, fmt.Errorf("locking the source %s: %w", from.Where(), err)
	}
	defer func() { _ = unlockFrom() }()
	unlockTo, err := to.Lock(ctx, holder)
	if err != nil {
		return nil, fmt.Errorf("locking the destination %s: %w", to.Where(), err)
	}
	defer func() { _ = unlockTo() }()
	src, err := from.Load()
	if err != nil {
		return nil, fmt.Errorf("reading the source: %w", err)
	}
	if isEmpty(src) {
		return nil, fmt.Errorf("workspace %s has no state in %s: %w", name, from.Where(), ErrNoState)
	}
	dst, err := to.Load()
	if err != nil {
		return nil, fmt.Errorf("reading the destination: %w", err)
	}
	m := &Moved{From: from.Where(), To: to.Where(), Lineage: src.Lineage, Serial: src.Serial}
	if !isEmpty(dst) {
		m.Replaced, m.Backup = dst, backupOf(to)
		switch {
		case dst.Lineage != src.Lineage && !force:
			return nil, fmt.Errorf("%w: %s holds state lineage %s (serial %d, %d host(s)), not %s's lineage %s: "+
				"refusing to overwrite it; pass -force to replace it (its copy is kept as %s)",
				ErrOtherLineage, to.Where(), dst.Lineage, dst.Serial, len(dst.Hosts), from.Where(), src.Lineage, backupOf(to))
		case dst.Lineage == src.Lineage && dst.Serial > src.Serial && !force:
			return nil, fmt.Errorf("%s holds serial %d of this state, newer than %s's serial %d: refusing to go back; "+
				"pass -force to replace it anyway (its copy is kept as %s)", to.Where(), dst.Serial, from.Where(), src.Serial, backupOf(to))
		}
	}
	if err := to.Replace(src); err != nil {
		return nil, err
	}
	return m, nil
}

// isEmpty: nothing was ever saved or recorded.
func isEmpty(st *state.State) bool {
	return st.Serial == 0 && len(st.Hosts)+len(st.Steps)+len(st.Outputs) == 0 && st.Inputs == nil
}
