package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile encrypted files: each is refused by Load with the file (and
// journal line) named and the kind of problem, never read as empty state,
// and Load changes nothing on disk.
func TestEncryptedHostileFiles(t *testing.T) {
	k := testKey(t, 1)
	// A real sealed state and journal line to take apart.
	src := t.TempDir()
	s, st, unlock := lockAndLoad(t, src, WithKey(k))
	st.Steps[addr(0)] = secretInstance(0)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutInstance(addr(1), secretInstance(1))); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	state, _ := os.ReadFile(filepath.Join(src, StateFile))
	journal, _ := os.ReadFile(filepath.Join(src, JournalFile))
	jlines := bytes.SplitAfter(journal, []byte("\n"))
	env := `{"diffuser_encrypted":1,"alg":"AES-256-GCM","key_id":"` + k.ID() + `","data":`

	for _, c := range []struct {
		name           string
		state, journal string
		want           string
	}{
		{"envelope cut short", string(state[:len(state)/2]), "", "damaged encryption envelope"},
		{"envelope of a future version", strings.Replace(string(state), `"diffuser_encrypted":1`, `"diffuser_encrypted":9`, 1), "", "version 9"},
		{"another algorithm", strings.Replace(string(state), "AES-256-GCM", "ROT13", 1), "", "unknown encryption algorithm \"ROT13\""},
		{"data not base64", env + `"!!!not base64!!!"}` + "\n", "", "damaged encrypted data"},
		{"data shorter than a nonce", env + `"AAAA"}` + "\n", "", "damaged encrypted data"},
		{"a journal line passed off as the state", string(jlines[1]), "", "altered or damaged"},
		{"the state passed off as a journal line", string(state), string(jlines[0]) + string(bytes.TrimSpace(state)) + "\n", "altered or damaged"},
		{"a journal header of another key", string(state), strings.Replace(string(jlines[0]), k.ID(), "0123456789ab", 1), "another key"},
		{"empty key id", strings.Replace(string(state), k.ID(), "", 1), "", "another key"},
		{"data null", env + `null}` + "\n", "", "damaged encryption envelope: data: null where a string belongs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, StateFile), c.state)
			if c.journal != "" {
				writeFile(t, filepath.Join(dir, JournalFile), c.journal)
			}
			before := dirBytes(t, dir)
			got, err := Open(dir, WithKey(k)).Load()
			if err == nil {
				t.Fatalf("accepted: %d steps", len(got.Steps))
			}
			var ce *CorruptError
			var ve *VersionError
			var ke *KeyError
			if !errors.As(err, &ce) && !errors.As(err, &ve) && !errors.As(err, &ke) {
				t.Errorf("not a located error: %T %v", err, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q lacks %q or the file", err, c.want)
			}
			if after := dirBytes(t, dir); !bytes.Equal(after[StateFile], before[StateFile]) || !bytes.Equal(after[JournalFile], before[JournalFile]) {
				t.Error("Load changed the files")
			}
		})
	}
}
