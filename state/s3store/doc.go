// Package s3store keeps a workspace's state in an S3 bucket (AWS, Ceph's
// RADOS gateway, any S3-compatible endpoint) with the guarantees of the
// local state directory (package state): lineage and serial checks, a
// durable journal, an exclusive lock naming its holder, sealing at rest.
// It owns the objects under one prefix and nothing else; it imports state
// (for the byte formats, errors and the holder) and the AWS SDK, never
// anything above them.
//
// Objects under the prefix P (P is the backend block's key joined with
// the workspace name):
//
//	P/state.json                 the state, as state.Store writes it
//	P/state.json.backup          the state.json the last Save replaced
//	P/journal/<serial>/<seq>     one object per journal flush
//	P/state.lock                 exists while someone holds the lock
//
// Journal: S3 cannot append, so every flush (one or more records batched
// while the previous flush was in flight) is a new object, created with
// If-None-Match: * so that two writers can never both write sequence n.
// The objects of one serial, concatenated in sequence order, are exactly
// the bytes of a local state.journal (a header naming lineage and serial,
// then one line per record), and Load decodes them with the same code. A
// Record returns once its object's PUT has succeeded: S3 acknowledges a
// PUT only after the object is durably stored. Save writes the new
// state.json (If-Match on the one loaded, so an overwrite by anyone else
// fails), then deletes the journal objects it folded in; objects of an
// older serial that a crash left behind are ignored by Load, as local
// journals are.
//
// Lock: state.lock is created with If-None-Match: * holding the holder
// (user, host, pid, command, time, a random lock id). A server that
// ignores the condition would let two holders in, so before the first
// lock Store proves the condition holds: it creates a probe object twice
// and requires the second create to fail. A server that lets it succeed
// is refused (ErrNoConditionalWrites) rather than used unsafely. The lock
// does not end with its holder: a killed holder's lock stays until
// BreakLock (its holder ran on this host and is gone) or ForceUnlock with
// its id.
package s3store
