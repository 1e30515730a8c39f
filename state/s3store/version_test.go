package s3store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"diffuser/state"
)

// TestOlderJournalContinuedAsThisVersion is state's test of the same name
// against a bucket: an older diffuser's apply that stopped before its
// save leaves journal objects that start with a version-1 header beside a
// version-1 state.json. This build replays them and continues the
// journal, but first gives its first object this version's header, so
// that the diffusers reading version 1 refuse the records it adds (whose
// module instances and fields they misread) instead of replaying them.
// The older records stay.
func TestOlderJournalContinuedAsThisVersion(t *testing.T) {
	var key *state.Key
	f := newFakeS3(t, bucket)
	o := Options{Key: key}
	s := New(f.client, bucket, "ws", o)
	unlock := lockT(t, s, "diffuser apply")
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(state.PutHost(&state.Host{Name: "a", ProviderID: "a"})); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// Make state.json and the journal an older diffuser's: version 1.
	first := journalKey(st.Serial, 0)
	old := *st
	old.Version = 1
	data, err := state.EncodeState(&old, key)
	if err != nil {
		t.Fatal(err)
	}
	putObject(t, f.client, bucket, s.key(StateObject), data)
	objs := objects(t, f.client, bucket, "")
	obj := objs[s.key(first)]
	nl := bytes.IndexByte(obj, '\n')
	h := []byte(fmt.Sprintf(`{"journal":1,"lineage":%q,"serial":%d}`, st.Lineage, st.Serial))
	putObject(t, f.client, bucket, s.key(first), append(append(h, '\n'), obj[nl+1:]...))

	s = New(f.client, bucket, "ws", o)
	lockT(t, s, "diffuser apply")
	st, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if st.Hosts["a"] == nil {
		t.Fatal("the version-1 journal's record is not replayed")
	}
	if err := s.Record(state.PutHost(&state.Host{Name: "b", ProviderID: "b"})); err != nil {
		t.Fatal(err)
	}
	obj = objects(t, f.client, bucket, "")[s.key(first)]
	if want := fmt.Sprintf(`{"journal":%d,`, state.SchemaVersion); !strings.HasPrefix(string(obj), want) {
		t.Errorf("the journal continued by this build starts %q; want %s: a diffuser reading version 1 replays the records this build added", obj, want)
	}
	again, err := New(f.client, bucket, "ws", o).Load()
	if err != nil {
		t.Fatal(err)
	}
	if again.Hosts["a"] == nil || again.Hosts["b"] == nil {
		t.Errorf("reloaded: hosts %v, want a and b", keys(again.Hosts))
	}
}
