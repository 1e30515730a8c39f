package state

import (
	"context"
	"diffuser/internal/shell"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"diffuser/internal/strictjson"

	"golang.org/x/sys/unix"
)

// exclFile is the lock of filesystems without flock(2): it exists while
// held.
const exclFile = LockFile + ".excl"

// heldLock is the workspace lock while this Store holds it.
type heldLock struct {
	f      *os.File // flock mode: the flock(2)ed lock file, open while held
	excl   string   // fallback mode: the lock file this Store created
	holder Holder
}

// Lock takes the exclusive workspace lock for holder (fields left zero are
// filled in for this process, see CurrentHolder) and returns the function
// that releases it.
//
// The lock is flock(2) on state.lock: the kernel frees it when the holder
// dies however it dies, so a lock held by a crashed run never needs
// breaking. The holder is written into the file once the lock is taken.
// If another process holds it, Lock fails at once with a *LockedError
// naming that holder, unless WithLockWait was given, in which case it
// retries until then or until ctx is done; the error then says how long
// it waited (LockedError.Waited).
//
// On a filesystem without flock(2) Lock falls back to creating
// state.lock.excl atomically (link(2) of a file already holding the
// holder). Such a lock outlives a crashed holder: the *LockedError then
// says it is Stale, and BreakLock removes it.
//
// The release function waits for journal writes in flight, closes the
// journal and releases the lock; calling it again does nothing.
func (s *Store) Lock(ctx context.Context, holder Holder) (unlock func() error, err error) {
	holder = holder.complete()
	s.mu.Lock()
	already := s.held != nil
	s.mu.Unlock()
	if already {
		return nil, errors.New("lock state: this Store holds the lock already")
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock state: create %s: %w", s.dir, err)
	}
	var hl *heldLock
	err = WaitLock(ctx, s.opts.lockWait, 20*time.Millisecond, time.Second, func() (err error) {
		hl, err = s.tryLock(holder)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.held != nil { // a concurrent Lock on this Store won
		s.mu.Unlock()
		_ = hl.release()
		return nil, errors.New("lock state: this Store holds the lock already")
	}
	s.held = hl
	s.mu.Unlock()
	return sync.OnceValue(func() error { return s.unlock(hl) }), nil
}

func (s *Store) unlock(hl *heldLock) error {
	s.acquire()
	defer s.release()
	s.closeJournal()
	s.mu.Lock()
	s.held = nil
	s.mu.Unlock()
	if err := hl.release(); err != nil {
		return fmt.Errorf("unlock state: %w", err)
	}
	return nil
}

// tryLock takes the lock or fails with a *LockedError naming the holder.
func (s *Store) tryLock(h Holder) (*heldLock, error) {
	if s.opts.noFlock {
		return s.tryLockExcl(h)
	}
	path := s.path(LockFile)
	// Not through a symbolic link: the holder is written into the file,
	// which would truncate whatever the link points to.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			to, _ := os.Readlink(path)
			return nil, fmt.Errorf("%s is a symbolic link (to %s): diffuser writes the lock's holder into this file, which would overwrite %s; remove the link (rm %s)", path, to, to, shell.Quote(path))
		}
		return nil, err // a *PathError: "open PATH: why"
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file: diffuser writes the lock's holder into it; remove it", path)
	}
	err = flock(f, unix.LOCK_EX)
	switch {
	case err == nil:
	case errors.Is(err, unix.EWOULDBLOCK):
		other, _ := readHolder(f)
		f.Close()
		return nil, &LockedError{Path: path, Holder: other}
	case noFlock(err):
		f.Close()
		return s.tryLockExcl(h)
	default:
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	data, err := json.Marshal(h)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt(append(data, '\n'), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close() // releases the flock
		return nil, fmt.Errorf("write holder into %s: %w", path, err)
	}
	return &heldLock{f: f, holder: h}, nil
}

// tryLockExcl is the lock for filesystems without flock(2): a file that
// exists while the lock is held. It is created complete, by linking a
// temporary file that already names the holder, so nobody ever sees it
// empty.
func (s *Store) tryLockExcl(h Holder) (*heldLock, error) {
	path := s.path(exclFile)
	data, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode holder: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, exclFile+".new-*")
	if err != nil {
		return nil, fmt.Errorf("create lock: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write lock %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create lock %s: %w", path, err)
		}
		other, _ := readHolderFile(path)
		return nil, &LockedError{Path: path, Holder: other, Stale: other.Stale()}
	}
	if err := syncDir(s.dir); err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return &heldLock{excl: path, holder: h}, nil
}

func (hl *heldLock) release() error {
	if hl.f != nil {
		err := hl.f.Truncate(0) // nobody holds it any more
		if uerr := flock(hl.f, unix.LOCK_UN); err == nil {
			err = uerr
		}
		if cerr := hl.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	cur, err := readHolderFile(hl.excl)
	if err != nil {
		return fmt.Errorf("read %s: %w", hl.excl, err)
	}
	if !sameHolder(cur, hl.holder) {
		return fmt.Errorf("%s names %s, not this process: left alone", hl.excl, cur)
	}
	return os.Remove(hl.excl)
}

// LockInfo returns who holds the workspace lock, or nil if nobody does.
// It takes nothing and changes nothing. A holder with PID 0 means the lock
// is held but the holder has not written its name yet. For the fallback
// lock, Holder.Stale tells whether the holder is gone.
func (s *Store) LockInfo() (*Holder, error) {
	ep := s.path(exclFile)
	if _, err := os.Stat(ep); err == nil {
		h, err := readHolderFile(ep)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock info: %w", err)
		}
		if err == nil {
			return &h, nil
		}
	}
	path := s.path(LockFile)
	f, err := openNoWait(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock info: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("lock info: %s is not a regular file: remove it (rm %s)", path, shell.Quote(path))
	}
	switch err := flock(f, unix.LOCK_SH); {
	case err == nil:
		_ = flock(f, unix.LOCK_UN)
		return nil, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		h, _ := readHolder(f)
		return &h, nil
	case noFlock(err):
		return nil, nil
	default:
		return nil, fmt.Errorf("lock info: flock %s: %w", path, err)
	}
}

// DeadHolder returns the holder still named in state.lock when no process
// holds the lock: one that ended without releasing it (killed: the kernel
// freed its flock(2) lock when it died, and a clean release empties the
// file). nil when the lock is held, was released, or was never taken. It
// takes nothing and changes nothing.
func (s *Store) DeadHolder() (*Holder, error) {
	if h, err := s.LockInfo(); err != nil || h != nil {
		return nil, err
	}
	h, err := readHolderFile(s.path(LockFile))
	if errors.Is(err, fs.ErrNotExist) || err == nil && h.PID == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path(LockFile), err)
	}
	return &h, nil
}

// BreakLock removes a lock whose holder is provably gone and returns that
// holder; it returns nil, nil when there is no lock to break. Only the
// fallback lock (filesystems without flock(2)) can be stale: its holder ran
// on this host and its process no longer exists (or its pid now belongs to
// a later process). A live holder, or one on another host whose liveness
// cannot be told from here, is never broken: BreakLock returns a
// *LockedError saying why. A flock(2) lock needs no breaking, the kernel
// frees it when its holder dies.
func (s *Store) BreakLock() (*Holder, error) {
	ep := s.path(exclFile)
	h, err := readHolderFile(ep)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, s.checkFlockFree()
	}
	if err != nil {
		return nil, fmt.Errorf("break lock: %w", err)
	}
	if alive, known := h.Alive(); alive || !known {
		reason := "its holder is still running: not broken"
		if !known {
			reason = "its holder ran on another host (or is unnamed) and cannot be checked from here: not broken; if you are sure it is gone, remove the file by hand"
		}
		return nil, &LockedError{Path: ep, Holder: h, Reason: reason}
	}
	// Move the file aside before removing it, then check it is the one
	// judged stale: another process may have broken it and locked anew in
	// between.
	aside := fmt.Sprintf("%s.broken-%d", ep, os.Getpid())
	if err := os.Rename(ep, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // someone else broke it
		}
		return nil, fmt.Errorf("break lock: %w", err)
	}
	got, err := readHolderFile(aside)
	if err == nil && !sameHolder(got, h) {
		// A new, live lock: put it back unless yet another one exists.
		lerr := os.Link(aside, ep)
		_ = os.Remove(aside)
		if lerr != nil {
			return nil, fmt.Errorf("break lock: a new lock of %s appeared and could not be put back: %w", got, lerr)
		}
		return nil, &LockedError{Path: ep, Holder: got, Reason: "it was taken anew while breaking: not broken"}
	}
	if err := os.Remove(aside); err != nil {
		return nil, fmt.Errorf("break lock: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return nil, fmt.Errorf("break lock: %w", err)
	}
	return &h, nil
}

// checkFlockFree returns a *LockedError if a process holds the flock.
func (s *Store) checkFlockFree() error {
	h, err := s.LockInfo()
	if err != nil {
		return fmt.Errorf("break lock: %w", err)
	}
	if h != nil {
		return &LockedError{Path: s.path(LockFile), Holder: *h,
			Reason: "it is a flock(2) lock, held by a running process (the kernel frees it when the process exits): not broken"}
	}
	return nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// noFlock tells whether a flock(2) error means the filesystem does not do
// flock.
func noFlock(err error) bool {
	return errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL)
}

// readHolder reads the holder a lock file names. A file that is not one
// holder's record (damaged, a key given twice: which process is it?)
// names none: the error says which file and to remove it by hand.
func readHolder(f *os.File) (Holder, error) {
	var h Holder
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil || len(data) == 0 {
		return h, err
	}
	if err := strictjson.Unmarshal(data, &h); err != nil {
		return Holder{}, fmt.Errorf("%w; the lock file names no holder: if no diffuser command runs on this workspace, remove it (rm %s)",
			strictjson.InFile(f.Name(), data, err), shell.Quote(f.Name()))
	}
	return h, nil
}

func readHolderFile(path string) (Holder, error) {
	f, err := openNoWait(path)
	if err != nil {
		return Holder{}, err
	}
	defer f.Close()
	return readHolder(f)
}

func sameHolder(a, b Holder) bool {
	return a.PID == b.PID && a.Hostname == b.Hostname && a.Since.Equal(b.Since) && a.ProcStart == b.ProcStart
}

// WaitLock calls try until it takes the lock: try returns nil when it
// did, a *LockedError while someone else holds it, and any other error to
// give up. Between tries it sleeps, from first doubling up to most, until
// wait has passed (the *LockedError then tells how long it waited) or ctx
// ends. Every error it returns starts "lock state: ". The file Store and
// the S3 backend wait alike through it.
func WaitLock(ctx context.Context, wait, first, most time.Duration, try func() error) error {
	start := time.Now()
	deadline := start.Add(wait)
	delay := first
	var last *LockedError
	gaveUp := func() error {
		last.Waited = time.Since(start)
		return fmt.Errorf("lock state: gave up waiting (%w): %w", ctx.Err(), last)
	}
	for {
		if err := ctx.Err(); err != nil {
			if last != nil {
				return gaveUp()
			}
			return fmt.Errorf("lock state: %w", err)
		}
		err := try()
		if err == nil {
			return nil
		}
		var le *LockedError
		if !errors.As(err, &le) {
			if ctx.Err() != nil && last != nil { // cancelled mid-request while waiting
				return gaveUp()
			}
			return fmt.Errorf("lock state: %w", err)
		}
		last = le
		if !time.Now().Before(deadline) {
			le.Waited = wait
			return fmt.Errorf("lock state: %w", err)
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return gaveUp()
		case <-t.C:
		}
		delay = min(2*delay, most)
	}
}
