package s3store

import (
	"context"
	"fmt"

	"diffuser/state"
)

// Record makes rec durable: it returns once a journal object holding it
// has been stored. Records that arrive while a journal object is being
// written share the next one, so N concurrent callers cost far fewer than
// N PUTs. It needs the lock held through this Store and a prior Load.
// After a failed write no more records are accepted until Save.
func (s *Store) Record(rec state.Record) error {
	line, err := state.EncodeRecord(rec, s.opts.Key)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	s.mu.Lock()
	if s.held == nil {
		s.mu.Unlock()
		return fmt.Errorf("record %s: %w", rec, state.ErrNotLocked)
	}
	if s.pending == nil {
		s.pending = &batch{}
	}
	b := s.pending
	b.buf = append(b.buf, line...)
	s.mu.Unlock()

	// Leader-follower: whoever gets flushMu first writes every record
	// pending then; the others find their batch done.
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	if !b.done {
		s.pending = nil
		d := s.disk
		s.mu.Unlock()
		seq, err := s.flush(d, b.buf)
		s.mu.Lock()
		b.done, b.err = true, err
		if err == nil {
			s.disk.seq, s.disk.live, s.disk.renew = seq+1, true, nil
		} else {
			s.disk.jerr = err
		}
	}
	err = b.err
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("record %s: %w", rec, err)
	}
	return nil
}

// flush writes buf as the next journal object of d's serial (the first
// one starts with the journal header) and returns its sequence number.
func (s *Store) flush(d view, buf []byte) (int, error) {
	switch {
	case !d.loaded:
		return 0, fmt.Errorf("nothing loaded: call Load before Record")
	case d.jerr != nil:
		return 0, fmt.Errorf("journal unusable since an earlier write failed (%v): save the state to start a new one", d.jerr)
	}
	ctx, cancel := reqCtx()
	defer cancel()
	seq := 0
	if d.live {
		seq = d.seq
		if err := s.renewHeader(ctx, d); err != nil {
			return 0, err
		}
	} else {
		// A new journal: state.json must still be the one loaded.
		if err := s.checkUnchanged(ctx, d); err != nil {
			return 0, err
		}
		h, err := state.JournalHeader(d.lineage, d.serial, s.opts.Key)
		if err != nil {
			return 0, err
		}
		buf = append(h, buf...)
	}
	name := journalKey(d.serial, seq)
	if _, err := s.put(ctx, name, buf, true, ""); err != nil {
		if isConditionFailed(err) {
			return 0, fmt.Errorf("%w: %s exists already: another process writes this state; load again", state.ErrChanged, s.url(name))
		}
		return 0, fmt.Errorf("put %s: %w", s.url(name), err)
	}
	return seq, nil
}

// renewHeader puts back the first journal object of d's serial with this
// version's header when it holds an older diffuser's (d.renew), before
// this build adds a record the older diffusers would misread: they then
// refuse the journal instead of replaying it. The PUT is conditional on
// the object's ETag when it was loaded.
func (s *Store) renewHeader(ctx context.Context, d view) error {
	if d.renew == nil {
		return nil
	}
	name := journalKey(d.serial, 0)
	if _, err := s.put(ctx, name, d.renew, false, d.renewTag); err != nil {
		if isConditionFailed(err) {
			return fmt.Errorf("%w: %s changed since it was loaded: another process writes this state; load again", state.ErrChanged, s.url(name))
		}
		return fmt.Errorf("put %s: %w", s.url(name), err)
	}
	return nil
}
