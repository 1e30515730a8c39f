package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The functions below are the state's byte formats without the files, for
// stores that keep state elsewhere (an object store, package state/s3):
// they write and read exactly what a Store writes and reads, sealed with a
// key when one is given.

// EncodeState returns the bytes Save writes for st: indented JSON, sealed
// with k when k is not nil, newline-terminated. st's Version and Serial are
// written as they are; the caller sets them. A state decoded with fields
// this build does not know is refused (State.Writable).
func EncodeState(st *State, k *Key) ([]byte, error) {
	if st == nil {
		return nil, errors.New("encode state: nil state")
	}
	if err := st.Writable(); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	if k != nil {
		data = k.seal(data, purposeState)
	}
	return append(data, '\n'), nil
}

// JournalHeader returns the first line of a journal that continues the
// state of lineage at serial, sealed with k when k is not nil.
func JournalHeader(lineage string, serial uint64, k *Key) ([]byte, error) {
	h, err := json.Marshal(journalHeader{Journal: journalVersion, Lineage: lineage, Serial: serial})
	if err != nil {
		return nil, fmt.Errorf("encode journal header: %w", err)
	}
	if k != nil {
		h = k.seal(h, purposeJournal)
	}
	return append(h, '\n'), nil
}

// RenewJournalHeader returns the start of a journal (its header line and
// any records after it) with this version's header in place of an older
// version's, and whether it replaced one. A journal this build continues
// must carry its version first: the diffusers that read only the older one
// then refuse the records it adds (SchemaVersion) instead of replaying
// them. first without a complete header line is returned as it is.
func RenewJournalHeader(journalPath string, first []byte, k *Key) ([]byte, bool, error) {
	h, hlen, err := decodeHeader(journalPath, first, k)
	if err != nil || h == nil || h.Journal >= journalVersion {
		return first, false, err
	}
	renewed, err := JournalHeader(h.Lineage, h.Serial, k)
	if err != nil {
		return nil, false, err
	}
	return append(renewed, first[hlen:]...), true, nil
}

// EncodeRecord returns rec as one journal line (newline included), sealed
// with k when k is not nil. It refuses a record that does not Validate.
func EncodeRecord(rec Record, k *Key) ([]byte, error) {
	line, err := rec.line()
	if err != nil {
		return nil, err
	}
	if k != nil {
		line = append(k.seal(bytes.TrimSuffix(line, []byte("\n")), purposeJournal), '\n')
	}
	return line, nil
}

// Decode builds a state the way Load does: data is the state file
// (nil: there is none), journal the journal's bytes (a header line, then
// records), replayed over it. statePath and journalPath name them in
// errors. With neither, it returns New(newLineage()). Live says whether the
// journal continues the decoded state (a later record may be appended to
// it); a journal an interrupted save already folded in is ignored, not
// live.
func Decode(statePath string, data []byte, journalPath string, journal []byte, k *Key) (st *State, live bool, err error) {
	if data != nil {
		if data, err = open(k, statePath, 0, data, purposeState); err != nil {
			return nil, false, err
		}
	}
	st, v, err := decode(statePath, data, data != nil, journalPath, journal, newLineage, k)
	if err != nil {
		return nil, false, err
	}
	return st, v.live, nil
}

// NewLineage returns a fresh random lineage (a version 4 UUID).
func NewLineage() string { return newLineage() }
