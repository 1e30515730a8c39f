package state

import (
	"fmt"
	"sync"
)

// Recorder is how the engine records progress during a walk. It owns the
// State loaded from a Store: every change goes through Record (journaled,
// durable on return) or Update (written by the next Compact), and reads go
// through View.
//
// All methods are safe for concurrent use. Record applies its change to
// the state and queues it for the journal under one lock, so the journal
// holds changes in the order they were applied; it then waits for the
// journal write outside that lock, so concurrent Records share fsyncs.
// Compact holds the lock throughout, pausing Record, Update and View.
// When the journal has grown past the Store's threshold (NeedsCompact),
// the Record that notices compacts before returning.
type Recorder struct {
	store *Store
	mu    sync.RWMutex
	st    *State
}

// NewRecorder returns a Recorder over st, which must be what store.Load
// returned, with store locked. From now on st is the Recorder's: touch it
// only through View and Update.
func NewRecorder(store *Store, st *State) *Recorder {
	return &Recorder{store: store, st: st}
}

// Record applies rec to the state and returns once it is durable in the
// journal. rec's Instance or Host is stored as is: do not modify it after.
func (r *Recorder) Record(rec Record) error {
	line, err := rec.line()
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	r.mu.Lock()
	if err := r.st.Apply(rec); err != nil {
		r.mu.Unlock()
		return fmt.Errorf("record: %w", err)
	}
	b, err := r.store.enqueue(line)
	r.mu.Unlock()
	if err == nil {
		err = r.store.wait(b)
	}
	if err != nil {
		return fmt.Errorf("record %s: %w", rec, err)
	}
	if r.store.NeedsCompact() {
		if err := r.compact(false); err != nil {
			return fmt.Errorf("record %s: recorded, but compacting failed: %w", rec, err)
		}
	}
	return nil
}

// View calls fn with the state under a read lock. fn must neither keep nor
// modify what it is given.
func (r *Recorder) View(fn func(*State)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(r.st)
}

// Update calls fn with the state under the write lock, for changes that
// need no journal record of their own (recipe, provider, outputs): they
// become durable with the next Compact.
func (r *Recorder) Update(fn func(*State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.st)
}

// Compact saves the whole state to state.json (Store.Save) and retires the
// journal. Call it at the end of an apply.
func (r *Recorder) Compact() error { return r.compact(true) }

func (r *Recorder) compact(force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !force && !r.store.NeedsCompact() {
		return nil // another Record compacted first
	}
	return r.store.Save(r.st)
}
