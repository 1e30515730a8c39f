package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// unknownState is a valid state.json with fields this build does not
// know at every level, a case variant of a known one (which decoding
// takes, and a save rewrites: nothing lost), and unknown keys inside the
// raw JSON of args and facts (opaque: not refused).
const unknownState = `{
  "version": 1, "serial": 3, "lineage": "l-1", "Recipe": "r", "colour": "blue",
  "hosts": {"h[0]": {"name": "h[0]", "group": "h", "index": 0, "provider": "sim", "provider_id": "p0",
    "ssh": {"address": "10.0.0.1", "port": 22, "user": "root", "proxy_jump": "bastion"},
    "digest": "d", "launched": "2026-01-01T00:00:00Z", "facts": {"anything": 1}}},
  "instances": {"step.a[\"h[0]\"]": {"step": "a", "host": "h[0]", "kind": "run", "digest": "d",
    "args": {"command": "true", "new_arg": 1}, "status": "applied", "retries_left": 2,
    "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:00:01Z"}},
  "outputs": {"o": {"value": "v", "masked": true}}
}
`

var unknownPaths = []string{
	"colour",
	`hosts["h[0]"].ssh.proxy_jump`,
	`instances["step.a[\"h[0]\"]"].retries_left`,
	`outputs["o"].masked`,
}

// TestUnknownFieldsReadButNeverWritten: a state.json with fields this
// build does not know (a newer diffuser's, or a typo) used to lose them on
// the next save without a word. It still loads for reading; loading it
// under the lock (to write) is an *UnknownFieldsError naming the file and
// every field, and so is saving a state read without the lock; the file
// is left as it was.
func TestUnknownFieldsReadButNeverWritten(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, StateFile)
	writeFile(t, sp, unknownState)

	s := Open(dir)
	st, err := s.Load() // without the lock: plan, show, state list
	if err != nil {
		t.Fatal(err)
	}
	if st.Recipe != "r" || st.Hosts["h[0]"].SSH.User != "root" {
		t.Fatalf("the known fields were not read: %+v", st)
	}
	var ue *UnknownFieldsError
	if err := st.Writable(); !errors.As(err, &ue) || ue.File != sp || !reflect.DeepEqual(ue.Fields, unknownPaths) {
		t.Fatalf("Writable = %v, want the fields %q of %s", err, unknownPaths, sp)
	}
	mustContain(t, st.Writable().Error(), sp+" has fields this diffuser does not know: colour, hosts", "upgrade", "remove or correct them")

	unlock, err := s.Lock(context.Background(), CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unlock() }()
	// The state read before the lock was taken (as commands do) is
	// refused by Save, and a Load under the lock refuses it at once.
	if err := s.Save(st); !errors.As(err, &ue) {
		t.Errorf("Save: %v, want an *UnknownFieldsError", err)
	}
	if _, err := s.Load(); !errors.As(err, &ue) {
		t.Errorf("Load under the lock: %v, want an *UnknownFieldsError", err)
	}
	if _, err := EncodeState(st, nil); !errors.As(err, &ue) {
		t.Errorf("EncodeState: %v, want an *UnknownFieldsError", err)
	}
	if b, _ := os.ReadFile(sp); string(b) != unknownState {
		t.Errorf("state.json changed:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, BackupFile)); err == nil {
		t.Error("a backup was written")
	}
}

// TestUnknownFieldsInJournal: a journal record's unknown fields are named
// with the record's line; without them the state saves as before.
func TestUnknownFieldsInJournal(t *testing.T) {
	dir := t.TempDir()
	s, _ := lockedStore(t, dir)
	if err := s.Record(PutInstance(addr(0), testInstance(0))); err != nil {
		t.Fatal(err)
	}
	jp := filepath.Join(dir, JournalFile)
	b, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	extra := strings.Replace(string(b), `"kind":"instance"`, `"kind":"instance","why":"x"`, 1)
	extra = strings.Replace(extra, `"status":`, `"colour":"red","status":`, 1)
	if extra == string(b) {
		t.Fatalf("the record is not as expected: %s", b)
	}
	writeFile(t, jp, extra)
	got := mustLoad(t, dir)
	want := []string{"line 2: instance.colour", "line 2: why"}
	var ue *UnknownFieldsError
	if err := got.Writable(); !errors.As(err, &ue) || ue.File != jp || !reflect.DeepEqual(ue.Fields, want) {
		t.Errorf("Writable = %v, want %q of %s", err, want, jp)
	}
}

// TestKnownFieldsWritable: every field this build writes is known (a
// state with all of them set round-trips writable), and so is everything
// in the oldest full state fixture, written by an earlier diffuser: no
// state file diffuser ever wrote is refused (git log -p state/ shows no
// field ever removed or renamed).
func TestKnownFieldsWritable(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	h := testHost(0)
	h.SSH.Jump = &SSH{Address: "b", Port: 22, User: "u", IdentityFiles: []string{"k"}, HostKey: "ssh-ed25519 AAAA"}
	h.Volumes = map[string]Volume{"v": {Device: "/dev/xvdf", ProviderID: "vol-1", SizeGB: 1}}
	h.Attrs = map[string]string{"a": "b"}
	h.Facts = []byte(`{"os":"debian"}`)
	st.Hosts[h.Name] = h
	in := testInstance(0)
	in.Args, in.Outputs, in.Sensitive, in.Destroy, in.SucceededOn, in.Error, in.Pending = []byte(`{"x":1}`), map[string]string{"k": "v"}, true, "d", "p", "e", "restart: x"
	st.Steps[addr(0)] = in
	st.Outputs["o"] = Output{Value: "v", Sensitive: true}
	st.Recipe, st.Cluster, st.Provider = "r", "", "sim"
	st.Inputs = &Inputs{}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutHost(h)); err != nil {
		t.Fatal(err)
	}
	if err := mustLoad(t, dir).Writable(); err != nil {
		t.Errorf("a state this build wrote: %v", err)
	}
	fixture := filepath.Join("..", "cmd", "diffuser", "testdata", "reliability", "state_full.json")
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	old, err := decodeState(fixture, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Writable(); err != nil {
		t.Errorf("the fixture: %v", err)
	}
}
