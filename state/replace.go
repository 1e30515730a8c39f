package state

import (
	"errors"
	"fmt"
	"os"
)

// Where names the store in messages: its directory.
func (s *Store) Where() string { return s.dir }

// Replace writes st as the state keeping st's lineage and serial, for
// moving a state from one backend to another (diffuser state push and
// pull). Like Save it needs the lock and a prior Load, refuses when the
// files changed since, keeps the file it replaces as state.json.backup
// and retires the journal. Whether st may replace what was loaded (its
// lineage, its serial) is the caller's decision.
func (s *Store) Replace(st *State) error {
	if st == nil || st.Lineage == "" {
		return errors.New("replace state: no state, or one without a lineage")
	}
	s.acquire()
	defer s.release()
	s.mu.Lock()
	locked := s.held != nil
	s.mu.Unlock()
	switch {
	case !locked:
		return fmt.Errorf("replace state: %w", ErrNotLocked)
	case !s.disk.loaded:
		return errors.New("replace state: nothing loaded: Load first")
	}
	if err := s.checkUnchanged(); err != nil {
		return fmt.Errorf("replace state: %w", err)
	}
	next := *st
	next.Version = SchemaVersion
	data, err := EncodeState(&next, s.opts.key)
	if err != nil {
		return fmt.Errorf("replace state: %w", err)
	}
	removeTemps(s.dir)
	fi, err := replaceFile(s.dir, StateFile, data, BackupFile)
	if err != nil {
		return fmt.Errorf("replace state: %w", err)
	}
	s.closeJournal()
	_ = os.Remove(s.path(JournalFile))
	s.disk = diskView{loaded: true, lineage: next.Lineage, serial: next.Serial, state: fi, journal: statOrNil(s.path(JournalFile)), sealed: s.opts.key != nil}
	s.jsize, s.jerr = 0, nil
	s.mu.Lock()
	s.sizes = fileSizes{state: int64(len(data))}
	s.mu.Unlock()
	return nil
}
