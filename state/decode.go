package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"diffuser/internal/strictjson"
)

// journalVersion is the version of the journal format this build writes;
// every version from 1 up is read. 2 for the reason SchemaVersion is 2: its
// records hold the same instances and fields, and a journal this build
// wrote beside a version-1 state.json (an apply killed before its first
// save) must be refused by the diffusers that read version 1.
const journalVersion = 2

// journalHeader is the first line of a journal. Serial and Lineage name the
// state.json the records apply over: a journal whose Serial is lower than
// state.json's was already folded in by a Save (which crashed before it
// removed the journal) and is ignored.
type journalHeader struct {
	Journal int    `json:"journal"`
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// journalView is what decoding learnt about the journal.
type journalView struct {
	live    bool  // the journal applies to the decoded state: appending continues it
	good    int64 // bytes of complete lines; anything after is a torn write
	n       int   // records replayed
	version int   // its header's journal version
}

// decode builds the state from the bytes of state.json (present tells
// whether the file exists) and of the journal, replaying the journal's
// records over it. It is the whole reader: it never touches the disk, and
// newLineage supplies the lineage of a state that does not exist yet.
// data is already opened (plaintext); journal lines are opened with k as
// they are read (see seal.go).
func decode(statePath string, data []byte, present bool, journalPath string, jdata []byte, newLineage func() string, k *Key) (*State, journalView, error) {
	var st *State
	if present {
		var err error
		if st, err = decodeState(statePath, data); err != nil {
			return nil, journalView{}, err
		}
	}
	h, hlen, err := decodeHeader(journalPath, jdata, k)
	if err != nil {
		return nil, journalView{}, err
	}
	if st == nil {
		lineage := newLineage()
		if h != nil {
			// The journal of a state never saved (serial 0) is the whole
			// state; any other is refused below.
			lineage = h.Lineage
		}
		st = New(lineage)
	}
	if h == nil {
		return st, journalView{}, nil
	}
	if h.Lineage != st.Lineage {
		return nil, journalView{}, &LineageError{File: journalPath, Disk: h.Lineage, Have: st.Lineage,
			Hint: fmt.Sprintf("the journal records another state's progress, none of this one's: move %s aside (or put back the state.json of lineage %s it continues)", journalPath, h.Lineage)}
	}
	switch {
	case h.Serial < st.Serial:
		return st, journalView{}, nil // already folded into state.json
	case h.Serial > st.Serial:
		what := fmt.Sprintf("state.json is at serial %d", st.Serial)
		if !present {
			what = "state.json is missing"
		}
		return nil, journalView{}, &CorruptError{File: journalPath, Line: 1,
			Err: fmt.Errorf("the journal continues state serial %d but %s", h.Serial, what),
			Hint: fmt.Sprintf("state.json is older than the journal (restored from a backup?): to keep the recorded progress put back the state.json with serial %d; to drop it, move %s aside (the steps it recorded will run again)",
				h.Serial, journalPath)}
	}
	v, err := replay(journalPath, jdata, hlen, st, k)
	if err != nil {
		return nil, journalView{}, err
	}
	v.version = h.Journal
	if err := st.Check(); err != nil {
		return nil, journalView{}, &CorruptError{File: journalPath, Err: err, Hint: "nothing was changed; " + journalHint(journalPath)}
	}
	return st, v, nil
}

// decodeState parses state.json.
func decodeState(path string, data []byte) (*State, error) {
	hint := fmt.Sprintf("the file is damaged: the previous copy is %s%s, check it and copy it over %s to go back one save",
		path, backupSuffix, path)
	if len(bytes.TrimSpace(data)) == 0 {
		line, col := strictjson.Position(data, len(data)) // where the state was expected
		return nil, &CorruptError{File: path, Line: line, Column: col, Hint: hint, Err: fmt.Errorf("the file is empty (%d bytes, none but white space): diffuser never writes an empty state, "+
			"so it was cut short or overwritten outside diffuser (a full disk, a crash of the machine, a copy that failed)", len(data))}
	}
	var st State
	extra, err := decodeKnown(data, &st)
	if err != nil {
		// A newer schema may not even fit these types: say so rather than
		// report a type error.
		var peek struct {
			Version int `json:"version"`
		}
		if json.Unmarshal(data, &peek) == nil && peek.Version > SchemaVersion {
			return nil, &VersionError{File: path, Found: peek.Version, Supported: SchemaVersion}
		}
		return nil, corruptAt(path, data, err, 0, hint)
	}
	switch {
	case st.Version > SchemaVersion:
		return nil, &VersionError{File: path, Found: st.Version, Supported: SchemaVersion}
	case st.Version <= 0:
		return nil, &CorruptError{File: path, Err: errors.New("no schema version: this is not a diffuser state file"), Hint: hint}
	case st.Lineage == "":
		return nil, &CorruptError{File: path, Err: errors.New("no lineage"), Hint: hint}
	}
	if err := st.whole(); err != nil {
		return nil, &CorruptError{File: path, Err: err, Hint: hint}
	}
	if err := st.normalize(); err != nil {
		return nil, &CorruptError{File: path, Err: err, Hint: hint}
	}
	if err := st.Check(); err != nil {
		return nil, &CorruptError{File: path, Err: err, Hint: checkHint(path)}
	}
	st.noteUnknown(path, extra)
	return &st, nil
}

// whole refuses a state.json without its hosts or instances (null, or
// no key at all). diffuser always writes both, as {} when there are none;
// read as empty, the next plan would launch every host again, or re-run
// every step, beside what was built.
func (s *State) whole() error {
	for _, m := range []struct {
		name  string
		isNil bool
		what  string
	}{
		{"hosts", s.Hosts == nil, "launch every host again"},
		{"instances", s.Steps == nil, "run every step again"},
	} {
		if m.isNil {
			return fmt.Errorf("%s is null or missing: diffuser always writes an object there ({} when there is none); "+
				"read as empty, the next plan would %s beside what was built", m.name, m.what)
		}
	}
	return nil
}

// normalize makes absent maps empty and refuses null entries, so that
// readers can index and dereference without checks.
func (s *State) normalize() error {
	if s.Hosts == nil {
		s.Hosts = map[string]*Host{}
	}
	if s.Steps == nil {
		s.Steps = map[string]*Instance{}
	}
	if s.Outputs == nil {
		s.Outputs = map[string]Output{}
	}
	for k, h := range s.Hosts {
		if h == nil {
			return fmt.Errorf("host %q is null", k)
		}
	}
	for k, in := range s.Steps {
		if in == nil {
			return fmt.Errorf("instance %q is null", k)
		}
	}
	return nil
}

// decodeHeader reads the journal's first line. A journal that is empty or
// whose header line is torn yields a nil header: it holds nothing.
func decodeHeader(path string, jdata []byte, k *Key) (*journalHeader, int, error) {
	nl := bytes.IndexByte(jdata, '\n')
	if nl < 0 {
		return nil, 0, nil
	}
	text, err := open(k, path, 1, jdata[:nl], purposeJournal)
	if err != nil {
		return nil, 0, err
	}
	var h journalHeader
	if err := strictjson.Unmarshal(text, &h); err != nil {
		return nil, 0, corruptAt(path, text, err, 0, journalHint(path))
	}
	switch {
	case h.Journal > journalVersion:
		return nil, 0, &VersionError{File: path, Found: h.Journal, Supported: journalVersion}
	case h.Journal <= 0 || h.Lineage == "":
		return nil, 0, &CorruptError{File: path, Line: 1, Err: errors.New("not a diffuser journal header"), Hint: journalHint(path)}
	}
	return &h, nl + 1, nil
}

// replay applies the records after the header (which ends at off) to st.
// A last line without its newline is a write torn by a crash: it was never
// acknowledged, so it is dropped. Any other bad line is an error.
func replay(path string, jdata []byte, off int, st *State, k *Key) (journalView, error) {
	v := journalView{live: true, good: int64(off)}
	for line := 2; ; line++ {
		rest := jdata[off:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return v, nil
		}
		text, err := open(k, path, line, rest[:nl], purposeJournal)
		if err != nil {
			return journalView{}, err
		}
		var r Record
		extra, err := decodeKnown(text, &r)
		if err != nil {
			return journalView{}, corruptAt(path, text, err, line-1, journalHint(path))
		}
		if err := st.Apply(r); err != nil {
			return journalView{}, &CorruptError{File: path, Line: line, Err: err, Hint: journalHint(path)}
		}
		for i, f := range extra {
			extra[i] = fmt.Sprintf("line %d: %s", line, f)
		}
		st.noteUnknown(path, extra)
		off += nl + 1
		v.good = int64(off)
		v.n++
	}
}

// checkHint is the advice for a state that parses but fails Check.
func checkHint(path string) string {
	return fmt.Sprintf("nothing was changed: %s was edited or damaged; fix the value named (or put back %s%s, the previous copy) and run the command again", path, path, backupSuffix)
}

func journalHint(path string) string {
	return fmt.Sprintf("the journal holds the progress recorded since the last save: move %s aside to drop it (the steps it recorded will run again)", path)
}
