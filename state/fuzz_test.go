package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzLoad feeds the reader (state.json bytes, journal bytes, whether
// state.json exists) arbitrary input. It must never panic; what it accepts
// must be a usable state that survives a write and a read unchanged; what
// it refuses must be one of the documented error types.
//
//	go test ./state -run '^$' -fuzz FuzzLoad -fuzztime 60s
//
// The seed corpus is in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"version":1,"serial":2,"lineage":"L","hosts":{},"instances":{}}`),
		[]byte("{\"journal\":1,\"lineage\":\"L\",\"serial\":2}\n{\"kind\":\"instance\",\"key\":\"k\",\"delete\":true}\n"), true)
	f.Add([]byte(nil), []byte("{\"journal\":1,\"lineage\":\"L\",\"serial\":0}\n{\"kind\":\"host\",\"key\":\"h\",\"host\":{\"name\":\"h\"}}\n{\"kind\":"), false)
	f.Fuzz(func(t *testing.T, stateData, journalData []byte, present bool) {
		st, v, err := decode("state.json", stateData, present, "state.journal", journalData, func() string { return "fresh" }, nil)
		if err != nil {
			var ce *CorruptError
			var ve *VersionError
			var le *LineageError
			if !errors.As(err, &ce) && !errors.As(err, &ve) && !errors.As(err, &le) {
				t.Fatalf("undocumented error type %T: %v", err, err)
			}
			if st != nil {
				t.Fatal("a state returned with an error")
			}
			return
		}
		if st.Version < 1 || st.Version > SchemaVersion || st.Lineage == "" || st.Hosts == nil || st.Steps == nil || st.Outputs == nil {
			t.Fatalf("accepted an unusable state: %+v", st)
		}
		for k, h := range st.Hosts {
			if h == nil {
				t.Fatalf("host %q is nil", k)
			}
		}
		for k, in := range st.Steps {
			if in == nil {
				t.Fatalf("instance %q is nil", k)
			}
		}
		if v.good < 0 || v.good > int64(len(journalData)) || (v.good > 0 && journalData[v.good-1] != '\n') {
			t.Fatalf("journal good length %d of %d does not end a line", v.good, len(journalData))
		}
		// What is read is what gets written: encode, decode, encode.
		once, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
		again, err := decodeState("state.json", once)
		if err != nil {
			t.Fatalf("encoded state does not decode: %v\n%s", err, once)
		}
		twice, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("state changes on a round trip:\n%s\n%s", once, twice)
		}
	})
}
