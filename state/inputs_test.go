package state

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestInputsRoundTrip: remembered inputs survive Save and Load, and a
// journal replayed over state.json keeps them (records never touch them).
func TestInputsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	s, st := lockedStore(t, dir)
	st.Inputs = &Inputs{Provider: "docker", Site: "lab.hcl", SiteAbs: "/srv/lab.hcl",
		Recorded: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Vars: map[string]Var{
			"servers":  {Type: json.RawMessage(`"number"`), Value: json.RawMessage(`6`)},
			"zones":    {Type: json.RawMessage(`["list","string"]`), Value: json.RawMessage(`["a","b"]`)},
			"password": {Type: json.RawMessage(`"string"`), Sensitive: true, Digest: "sha256:00ff", Salt: "0a0b"},
		}}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutHost(testHost(0))); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, dir)
	// Save indents the raw JSON; its meaning is what must survive.
	for name, v := range got.Inputs.Vars {
		v.Type, v.Value = compactJSON(t, v.Type), compactJSON(t, v.Value)
		got.Inputs.Vars[name] = v
	}
	if !reflect.DeepEqual(got.Inputs, st.Inputs) {
		t.Errorf("inputs after save and journal replay:\n got %+v\nwant %+v", got.Inputs, st.Inputs)
	}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(b), `"inputs": {`, `"provider": "docker"`, `"digest": "sha256:00ff"`)
}

// TestInputsAbsentInOldState: state written before inputs were remembered
// loads with none.
func TestInputsAbsentInOldState(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, StateFile), `{"version": 1, "serial": 3, "lineage": "l", "hosts": {}, "instances": {}}`)
	if st := mustLoad(t, dir); st.Inputs != nil {
		t.Errorf("inputs = %+v, want nil", st.Inputs)
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return b.Bytes()
}

// TestCurrent: a Store is current until another writer changes state.json
// or the journal.
func TestCurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	reader := Open(dir)
	if reader.Current() {
		t.Error("current before any Load")
	}
	if _, err := reader.Load(); err != nil {
		t.Fatal(err)
	}
	if !reader.Current() {
		t.Error("not current right after loading a missing state")
	}
	s, st := lockedStore(t, dir)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if reader.Current() {
		t.Error("current after another Store saved state.json")
	}
	if _, err := reader.Load(); err != nil {
		t.Fatal(err)
	}
	if !reader.Current() {
		t.Error("not current after loading again")
	}
	if err := s.Record(PutHost(testHost(1))); err != nil {
		t.Fatal(err)
	}
	if reader.Current() {
		t.Error("current after another Store appended to the journal")
	}
}
