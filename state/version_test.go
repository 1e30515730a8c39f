package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaveMovesVersion1On: testdata/version1/state.json is what a diffuser
// built from 998d84d (2026-12-07) wrote for the built-in glusterfs recipe
// on simulated hosts: schema version 1, with module instances
// (module.brick.step.format["server[0]"]) and host facts, remembered
// inputs and succeeded_on, which diffusers reading version 1 before
// 2026-12-06 misread: one built from 640cdc7 took a module's address for a
// step's name, planned every module instance's destroy (running their
// destroy commands: the brick unmounted) and dropped the fields it did not
// know at its next save; one built from bb676a7 refused the file as
// damaged and said to copy the backup over it. Every diffuser refuses a
// higher version as written by a newer one, so this build reads the file
// and saves it as a version above 1, keeping the version-1 file as the
// backup.
func TestSaveMovesVersion1On(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "version1", StateFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, StateFile), string(old))
	s, st := lockedStore(t, dir)
	if st.Version != 1 || len(st.Steps) == 0 || st.Inputs == nil {
		t.Fatalf("version-1 state read as version %d, %d instances, inputs %v", st.Version, len(st.Steps), st.Inputs)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatal(err)
	}
	if head.Version != SchemaVersion || head.Version <= 1 {
		t.Errorf("saved as schema version %d: a diffuser reading version 1 misreads its module instances and drops its fields; want %d (> 1), which they refuse", head.Version, SchemaVersion)
	}
	if backup, err := os.ReadFile(filepath.Join(dir, BackupFile)); err != nil || string(backup) != string(old) {
		t.Errorf("the version-1 file is not kept as %s (err %v)", BackupFile, err)
	}
	if again := mustLoad(t, dir); again.Version != SchemaVersion || len(again.Steps) != len(st.Steps) {
		t.Errorf("reloaded: version %d, %d instances; want %d, %d", again.Version, len(again.Steps), SchemaVersion, len(st.Steps))
	}
}

// TestOlderJournalContinuedAsThisVersion: an older diffuser's apply that
// stopped before its save leaves a version-1 journal beside state.json;
// this build continues it, but first gives it this version's header, so
// that the diffusers reading version 1 refuse the records it adds instead
// of replaying them. The older records stay, the torn end does not.
func TestOlderJournalContinuedAsThisVersion(t *testing.T) {
	dir := t.TempDir()
	s, st, unlock := lockAndLoad(t, dir)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutInstance(addr(0), testInstance(0))); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// Make both files an older diffuser's: version 1, and a torn last line.
	sp, jp := filepath.Join(dir, StateFile), filepath.Join(dir, JournalFile)
	for _, f := range []struct{ path, from, to string }{
		{sp, fmt.Sprintf(`"version": %d,`, SchemaVersion), `"version": 1,`},
		{jp, fmt.Sprintf(`{"journal":%d,`, journalVersion), `{"journal":1,`},
	} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), f.from) {
			t.Fatalf("%s has no %s", f.path, f.from)
		}
		data = []byte(strings.Replace(string(data), f.from, f.to, 1))
		if f.path == jp {
			data = append(data, `{"kind":"inst`...)
		}
		writeFile(t, f.path, string(data))
	}
	s, st = lockedStore(t, dir)
	if st.Steps[addr(0)] == nil {
		t.Fatal("the version-1 journal's record is not replayed")
	}
	if err := s.Record(PutInstance(addr(1), testInstance(1))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"journal":%d,`, journalVersion); !strings.HasPrefix(string(data), want) || strings.Contains(string(data), `{"kind":"inst`+"\n") {
		t.Errorf("the journal continued by this build:\n%s\nwant it to start %s, without the torn line", data, want)
	}
	if got := mustLoad(t, dir); got.Steps[addr(0)] == nil || got.Steps[addr(1)] == nil {
		t.Errorf("reloaded: %d instances, want both records", len(got.Steps))
	}
}

// TestRenewJournalHeader: the start of a version-1 journal, sealed or not,
// gets this version's header and keeps its records; a journal of this
// version, or one without a whole header line, is returned as it is.
func TestRenewJournalHeader(t *testing.T) {
	for _, k := range []*Key{nil, testKey(t, 7)} {
		line := func(s string) string {
			if k != nil {
				return string(k.seal([]byte(s), purposeJournal)) + "\n"
			}
			return s + "\n"
		}
		rec, err := EncodeRecord(PutInstance(addr(0), testInstance(0)), k)
		if err != nil {
			t.Fatal(err)
		}
		old := line(`{"journal":1,"lineage":"L","serial":3}`) + string(rec)
		got, renewed, err := RenewJournalHeader("state.journal", []byte(old), k)
		if err != nil || !renewed {
			t.Fatalf("sealed %v: renewed %v, err %v", k != nil, renewed, err)
		}
		h, _, err := decodeHeader("state.journal", got, k)
		if err != nil || h.Journal != journalVersion || h.Lineage != "L" || h.Serial != 3 {
			t.Errorf("sealed %v: renewed header %+v (err %v)", k != nil, h, err)
		}
		if !strings.HasSuffix(string(got), string(rec)) {
			t.Errorf("sealed %v: the record is not kept", k != nil)
		}
		for _, same := range []string{string(got), `{"journal":1,"lineage":"L"`} {
			if again, renewed, err := RenewJournalHeader("state.journal", []byte(same), k); err != nil || renewed || string(again) != same {
				t.Errorf("sealed %v: %q renewed %v (err %v)", k != nil, same, renewed, err)
			}
		}
	}
}
