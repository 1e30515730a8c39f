package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestLoadMissingIsFreshAndTouchesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	a := mustLoad(t, dir)
	b := mustLoad(t, dir)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(a.Lineage) {
		t.Errorf("lineage %q is not a random UUID", a.Lineage)
	}
	if a.Lineage == b.Lineage {
		t.Errorf("two fresh states share lineage %s", a.Lineage)
	}
	if a.Version != SchemaVersion || a.Serial != 0 || a.Hosts == nil || a.Steps == nil || a.Outputs == nil {
		t.Errorf("fresh state = %+v", a)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created %s (err %v)", dir, err)
	}
}

func TestSaveRoundTripPermissionsAndBackup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	s, st := lockedStore(t, dir)
	st.Recipe, st.Provider = "glusterfs", "docker"
	for i := range 3 {
		h := testHost(i)
		st.Hosts[h.Name] = h
		st.Steps[addr(i)] = testInstance(i)
	}
	st.Outputs["mount"] = Output{Value: "10.0.0.10:/gv0"}
	st.Outputs["secret"] = Output{Value: "hunter2", Sensitive: true}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if st.Serial != 1 {
		t.Errorf("serial after first save = %d, want 1", st.Serial)
	}
	got := mustLoad(t, dir)
	if !reflect.DeepEqual(got, st) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, st)
	}
	if _, err := os.Stat(filepath.Join(dir, BackupFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup exists after the first save (err %v)", err)
	}
	first, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}

	st.Steps[addr(7)] = testInstance(7)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(filepath.Join(dir, BackupFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(backup, first) {
		t.Error("state.json.backup is not the state.json the second save replaced")
	}
	if now := mustLoad(t, dir); now.Serial != 2 || now.Steps[addr(7)] == nil {
		t.Errorf("after second save: serial %d, has new instance %v", now.Serial, now.Steps[addr(7)] != nil)
	}

	if err := s.Record(PutInstance(addr(9), testInstance(9))); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{
		".": 0o700, StateFile: 0o600, BackupFile: 0o600, JournalFile: 0o600, LockFile: 0o600,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

func TestCorruptStateNamesLineAndColumn(t *testing.T) {
	valid := `{
  "version": 1,
  "serial": 3,
  "lineage": "L",
  "hosts": {},
  "instances": {
    "step.a[\"h\"]": {"step": "a", "started": "2025-01-02T03:04:05Z"}
  }
}
`
	cases := []struct {
		name, old, new string
		line, col      int
		msg            string
	}{
		{"syntax", `"hosts": {},`, `"hosts": {,},`, 5, 13, "invalid character ','"},
		{"type", `"serial": 3,`, `"serial": "three",`, 3, 13, "serial"},
		{"type of object", `"hosts": {},`, `"hosts": [],`, 5, 12, "hosts"},
		{"bad time", `"2025-01-02T03:04:05Z"`, `"yesterday"`, 7, 47, "yesterday"},
		{"truncated", "  }\n}\n", "  }\n", 9, 1, "unexpected end"},
		{"non-ascii before", `"lineage": "L",`, `"lineage": "Ł€", x`, 4, 20, "invalid character 'x'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := strings.Replace(valid, c.old, c.new, 1)
			if bad == valid {
				t.Fatal("case does not change the file")
			}
			writeFile(t, filepath.Join(dir, StateFile), bad)
			writeFile(t, filepath.Join(dir, BackupFile), valid)
			_, err := Open(dir).Load()
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CorruptError", err)
			}
			if ce.Line != c.line || ce.Column != c.col {
				t.Errorf("at %d:%d, want %d:%d (%v)", ce.Line, ce.Column, c.line, c.col, err)
			}
			mustContain(t, err.Error(), filepath.Join(dir, StateFile), c.msg, BackupFile, "(serial 3; hosts: 0, step instances: 1; what the last save recorded is not in it)",
				"it holds no hosts: copied back, it forgets every host the damaged file recorded")
			if got, _ := os.ReadFile(filepath.Join(dir, StateFile)); string(got) != bad {
				t.Error("Load modified the damaged file")
			}
		})
	}
	if _, err := decodeState("x", []byte(valid)); err != nil {
		t.Fatalf("the valid file does not load: %v", err)
	}
}

func TestCorruptStateWithoutBackupSaysSo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, StateFile), "{\n  \"version\": 1,\n  oops\n}\n")
	_, err := Open(dir).Load()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 3 || ce.Column != 3 {
		t.Fatalf("err = %v, want *CorruptError at 3:3", err)
	}
	mustContain(t, err.Error(), "no readable backup")
}

func TestSchemaVersions(t *testing.T) {
	cases := map[string]struct {
		content string
		newer   bool
	}{
		"newer":                {fmt.Sprintf(`{"version": %d, "serial": 1, "lineage": "L"}`, SchemaVersion+1), true},
		"newer, other shape":   {`{"version": 7, "serial": "one", "hosts": ["a"], "lineage": "L"}`, true},
		"version missing":      {`{"serial": 1, "lineage": "L"}`, false},
		"version zero":         {`{"version": 0, "serial": 1, "lineage": "L"}`, false},
		"lineage missing":      {`{"version": 1, "serial": 1}`, false},
		"not an object at all": {`[1, 2]`, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, StateFile), c.content)
			_, err := Open(dir).Load()
			var ve *VersionError
			var ce *CorruptError
			switch {
			case c.newer && errors.As(err, &ve):
				if ve.Found <= SchemaVersion || ve.Supported != SchemaVersion {
					t.Errorf("VersionError %+v", ve)
				}
				mustContain(t, err.Error(), "written by a newer diffuser", "version", fmt.Sprintf("up to %d", SchemaVersion))
			case !c.newer && errors.As(err, &ce):
			default:
				t.Errorf("err = %v (%T)", err, errors.Unwrap(err))
			}
		})
	}
}

func TestSaveRefusesOtherLineage(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, StateFile))

	other := New("another-lineage")
	other.Serial = st.Serial
	err := s.Save(other)
	var le *LineageError
	if !errors.As(err, &le) || le.Disk != st.Lineage || le.Have != "another-lineage" {
		t.Fatalf("err = %v, want *LineageError", err)
	}
	mustContain(t, err.Error(), st.Lineage, "another-lineage", "different states")

	// A state.json of another workspace copied in while we hold the state.
	elsewhere := t.TempDir()
	s2, st2 := lockedStore(t, elsewhere)
	if err := s2.Save(st2); err != nil {
		t.Fatal(err)
	}
	copied, _ := os.ReadFile(filepath.Join(elsewhere, StateFile))
	writeFile(t, filepath.Join(dir, StateFile), string(copied))
	err = s.Save(st)
	if !errors.As(err, &le) || le.Disk != st2.Lineage || le.Have != st.Lineage {
		t.Fatalf("err = %v, want *LineageError", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, StateFile)); !bytes.Equal(after, copied) {
		t.Error("the refused save changed state.json")
	}
	_ = before
}

func TestWritesNeedLockLoadAndUnchangedDisk(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(st); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Save without lock: %v", err)
	}
	if err := s.Record(PutInstance(addr(1), testInstance(1))); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Record without lock: %v", err)
	}

	fresh := Open(dir)
	unlock, err := fresh.Lock(context.Background(), Holder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Save(New("x")); err == nil || !strings.Contains(err.Error(), "Load") {
		t.Errorf("Save before Load: %v", err)
	}
	if err := fresh.Record(PutInstance(addr(1), testInstance(1))); err == nil || !strings.Contains(err.Error(), "Load") {
		t.Errorf("Record before Load: %v", err)
	}
	if _, err := fresh.Load(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}

	// Someone else saves between our Load and our Save.
	a, stA := lockedStore(t, t.TempDir())
	if err := a.Save(stA); err != nil {
		t.Fatal(err)
	}
	b := Open(a.Dir())
	stB, err := b.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Save(stA); err != nil {
		t.Fatal(err)
	}
	b.held = &heldLock{} // pretend: the point here is the disk check
	if err := b.Save(stB); !errors.Is(err, ErrChanged) {
		t.Errorf("Save over a state saved since Load: %v", err)
	}
	if err := b.Record(PutInstance(addr(1), testInstance(1))); !errors.Is(err, ErrChanged) {
		t.Errorf("Record over a state saved since Load: %v", err)
	}
	b.held = nil

	// A stale state value.
	old := *stA
	old.Serial--
	if err := a.Save(&old); err == nil || !strings.Contains(err.Error(), "serial") {
		t.Errorf("Save of an older serial: %v", err)
	}
}

func TestSaveCleansLeftoverTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	left := filepath.Join(dir, StateFile+tmpInfix+"12345")
	writeFile(t, left, `{"half`)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover %s survived a save", left)
	}
}

// The hint about a damaged state's backup counts what the backup holds,
// and warns only when copying it back would forget hosts.
func TestBackupHintCountsWhatItHolds(t *testing.T) {
	dir := t.TempDir()
	backup := `{"version": 1, "serial": 4, "lineage": "L",
  "hosts": {"server[0]": {"name": "server[0]", "group": "server", "index": 0, "provider": "docker", "id": "c1"}},
  "instances": {}}`
	writeFile(t, filepath.Join(dir, StateFile), `{"version": 1, "serial": 5,`)
	writeFile(t, filepath.Join(dir, BackupFile), backup)
	_, err := Open(dir).Load()
	if err == nil {
		t.Fatal("a truncated state loaded")
	}
	mustContain(t, err.Error(), "(serial 4; hosts: 1, step instances: 0; what the last save recorded is not in it)")
	if strings.Contains(err.Error(), "it holds no hosts") {
		t.Errorf("warned about a backup that holds a host: %v", err)
	}
}
