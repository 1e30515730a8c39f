package s3store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"diffuser/internal/strictjson"
	"diffuser/state"
)

// ErrNoConditionalWrites says the server ignores If-None-Match on PUT:
// two processes could both believe they created the lock object.
var ErrNoConditionalWrites = errors.New("the S3 server ignores conditional writes (If-None-Match: * on PUT): " +
	"a second create of the same object succeeded, so its lock could be taken twice; diffuser refuses to keep state there. " +
	"Use a server that supports conditional writes (AWS S3 since 2024, Ceph's radosgw, MinIO) or keep state in the local directory")

// Lock takes the workspace lock for holder by creating the lock object
// with If-None-Match: *, naming holder and a random lock id. If another
// holder has it, Lock fails with a *state.LockedError naming that holder,
// or retries for up to Options.LockWait (until ctx is done). It returns
// the function that releases the lock: it deletes the lock object if it
// still names this lock id, and leaves any other alone.
//
// Before the first lock it proves the server honours the condition (see
// ErrNoConditionalWrites).
func (s *Store) Lock(ctx context.Context, holder state.Holder) (unlock func() error, err error) {
	holder = holder.Complete()
	holder.ID = newID()
	s.mu.Lock()
	already := s.held != nil
	s.mu.Unlock()
	if already {
		return nil, errors.New("lock state: this Store holds the lock already")
	}
	if err := s.probe(ctx); err != nil {
		return nil, fmt.Errorf("lock state in %s: %w", s.Where(), err)
	}
	body, err := json.Marshal(holder)
	if err != nil {
		return nil, fmt.Errorf("lock state: encode holder: %w", err)
	}
	if err := state.WaitLock(ctx, s.opts.LockWait, 100*time.Millisecond, 2*time.Second, func() error { return s.tryLock(ctx, body) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.held = &holder
	s.mu.Unlock()
	return sync.OnceValue(func() error { return s.unlock(holder) }), nil
}

func (s *Store) tryLock(ctx context.Context, body []byte) error {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := s.put(rctx, LockObject, body, true, "")
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return fmt.Errorf("create %s: %w", s.url(LockObject), err)
	}
	h, err := s.readHolder(rctx)
	if err != nil {
		return err
	}
	le := &state.LockedError{Path: s.url(LockObject)}
	if h != nil {
		le.Holder, le.Stale = *h, h.Stale()
	}
	if le.Stale {
		le.Reason = "that process is no longer running, and a lock object does not end with its holder: " +
			"diffuser state unlock WORKSPACE breaks it (the journal keeps what the holder recorded; the next apply resumes from there)"
	}
	return le
}

func (s *Store) unlock(h state.Holder) error {
	s.flushMu.Lock() // records in flight finish first
	defer s.flushMu.Unlock()
	s.mu.Lock()
	s.held = nil
	s.mu.Unlock()
	ctx, cancel := reqCtx()
	defer cancel()
	if _, err := s.removeIf(ctx, h.ID); err != nil {
		return fmt.Errorf("unlock state: %w", err)
	}
	return nil
}

// removeIf deletes the lock object if it names lock id id and returns
// its holder. Between the read and the delete another process could only
// have replaced the object by removing it first (ForceUnlock), which is
// what the id guards against in the common case; see docs/state.md.
func (s *Store) removeIf(ctx context.Context, id string) (*state.Holder, error) {
	h, err := s.readHolder(ctx)
	if err != nil || h == nil {
		return nil, err
	}
	if h.ID != id {
		return nil, &state.LockedError{Path: s.url(LockObject), Holder: *h,
			Reason: fmt.Sprintf("it names lock id %q, not %q: left alone", h.ID, id)}
	}
	return h, s.del(ctx, LockObject)
}

// readHolder returns who the lock object names; nil when there is none.
func (s *Store) readHolder(ctx context.Context) (*state.Holder, error) {
	data, _, err := s.get(ctx, LockObject)
	if err != nil || data == nil {
		return nil, err
	}
	var h state.Holder
	if err := strictjson.Unmarshal(data, &h); err != nil { // a key twice: which holder is it?
		return nil, fmt.Errorf("%s does not name a holder (%v): if no diffuser holds it, delete it by hand", s.url(LockObject), err)
	}
	return &h, nil
}

// LockInfo returns who holds the lock, nil if nobody does.
func (s *Store) LockInfo() (*state.Holder, error) {
	ctx, cancel := reqCtx()
	defer cancel()
	h, err := s.readHolder(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock info: %w", err)
	}
	return h, nil
}

// DeadHolder is always nil: the lock object does not end with its holder,
// so a dead holder's lock is still held (LockInfo, BreakLock).
func (s *Store) DeadHolder() (*state.Holder, error) { return nil, nil }

// BreakLock removes the lock when its holder is provably gone (it ran on
// this host and its process no longer exists) and returns that holder;
// nil, nil when there is no lock. Any other holder is left alone with a
// *state.LockedError saying to use ForceUnlock with its lock id.
func (s *Store) BreakLock() (*state.Holder, error) {
	ctx, cancel := reqCtx()
	defer cancel()
	h, err := s.readHolder(ctx)
	if err != nil || h == nil {
		return nil, err
	}
	if alive, known := h.Alive(); alive || !known {
		reason := "its holder is still running: not broken"
		if !known {
			reason = fmt.Sprintf("its holder ran on another host (or is unnamed) and cannot be checked from here: not broken; "+
				"if you are sure it is gone, run diffuser state unlock WORKSPACE -force %s", h.ID)
		}
		return nil, &state.LockedError{Path: s.url(LockObject), Holder: *h, Reason: reason}
	}
	got, err := s.removeIf(ctx, h.ID)
	if err != nil {
		return nil, fmt.Errorf("break lock: %w", err)
	}
	return got, nil
}

// ForceUnlock removes the lock if it names lock id id, whoever holds it,
// and returns its holder; nil, nil when there is no lock. A lock of
// another id is left alone: a lock taken after the one the operator saw
// is never removed by mistake.
func (s *Store) ForceUnlock(id string) (*state.Holder, error) {
	if id == "" {
		return nil, errors.New("force unlock: no lock id given: diffuser state list's lock holder, or the locked error, names it")
	}
	ctx, cancel := reqCtx()
	defer cancel()
	h, err := s.removeIf(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("force unlock: %w", err)
	}
	return h, nil
}

// probe proves once per Store that a second conditional create of an
// object fails. Only a definite answer is kept: a network error is tried
// again on the next Lock.
func (s *Store) probe(ctx context.Context) error {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.probeOK || s.probed != nil {
		return s.probed
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	name := ".probe-" + newID()
	defer func() { _ = s.del(context.WithoutCancel(ctx), name) }()
	body := []byte("diffuser conditional-write probe\n")
	if _, err := s.put(ctx, name, body, true, ""); err != nil {
		return fmt.Errorf("create %s: %w", s.url(name), err)
	}
	_, err := s.put(ctx, name, body, true, "")
	switch {
	case err == nil:
		s.probed = ErrNoConditionalWrites
	case isConditionFailed(err):
		s.probeOK = true
	default:
		return fmt.Errorf("probe conditional writes with %s: %w", s.url(name), err)
	}
	return s.probed
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
