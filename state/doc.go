// Package state owns the workspace state: what was applied, per host and
// per step instance, its schema, the exclusive lock and durable writes.
// It is a leaf: it imports nothing else from diffuser.
//
// A workspace directory (.diffuser/<workspace>/, 0700) holds:
//
//	state.json         the state (0600), replaced atomically by Save
//	state.json.backup  the state.json that the last Save replaced
//	state.journal      one JSON line per Record since the last Save
//	state.lock         flock(2)ed by the process that holds the lock
//
// The engine's use, per apply:
//
//	store := state.Open(dir)
//	unlock, err := store.Lock(ctx, state.CurrentHolder("diffuser apply glusterfs"))
//	defer unlock()
//	st, err := store.Load()                // state.json + journal replayed
//	rec := state.NewRecorder(store, st)
//	// after each finished step instance, from any goroutine:
//	err = rec.Record(state.PutInstance(addr, inst)) // durable on return
//	// at the end:
//	err = rec.Compact()                    // one state.json, empty journal
//
// Why a journal: rewriting state.json after every one of 100,000 step
// instances costs time quadratic in their number. Record appends one line
// and fsyncs, and concurrent Records share the fsync. Save (Compact) folds
// the journal into state.json; Recorder does it on its own whenever the
// journal outgrows state.json, which keeps the total cost linear.
//
// Crash safety: state.json is at every instant a complete file, old or
// new. A Record that returned is on disk. A crash mid-Record leaves at most
// a torn last journal line, which Load drops. The journal names the serial
// of the state.json it continues, so a journal already folded in by a Save
// that crashed before removing it is ignored rather than replayed over
// newer state; replaying a record twice is harmless anyway, since records
// are puts and deletes by key.
//
// Locking: Store and Recorder methods are safe for concurrent use; the
// doc comment of each type says what waits for what. Writes need the
// workspace lock held through the same Store, and refuse to run if the
// files changed on disk since Load.
package state
