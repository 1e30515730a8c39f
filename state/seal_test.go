package state

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sealSecret = "SEAL-SECRET-9191"

func testKey(t *testing.T, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dirBytes is every file of dir, concatenated.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			out[e.Name()] = b
		}
	}
	return out
}

func secretInstance(i int) *Instance {
	in := testInstance(i)
	in.Outputs = map[string]string{"key": sealSecret}
	in.Destroy = "echo " + sealSecret
	return in
}

// With a key, state.json, its backup and every journal line are sealed
// (no secret on disk), and a Store with the same key reads back exactly
// what was written: saves and a journal replayed over them.
func TestEncryptedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t, 1)
	s, st, unlock := lockAndLoad(t, dir, WithKey(k))
	st.Steps[addr(0)] = secretInstance(0)
	for range 2 { // two saves: a backup exists
		if err := s.Save(st); err != nil {
			t.Fatal(err)
		}
	}
	want := st
	for i := 1; i <= 3; i++ {
		r := PutInstance(addr(i), secretInstance(i))
		if err := s.Record(r); err != nil {
			t.Fatal(err)
		}
		if err := want.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	files := dirBytes(t, dir)
	for _, f := range []string{StateFile, BackupFile, JournalFile} {
		b, ok := files[f]
		if !ok {
			t.Fatalf("no %s", f)
		}
		if bytes.Contains(b, []byte(sealSecret)) || bytes.Contains(b, []byte("glusterd")) {
			t.Errorf("%s holds plaintext:\n%s", f, b)
		}
		for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if !IsSealed(line) {
				t.Errorf("%s line %d is not sealed: %s", f, i+1, line)
			}
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	got, err := Open(dir, WithKey(testKey(t, 1))).Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.Steps[addr(3)].Outputs["key"] != sealSecret {
		t.Fatalf("read back differs:\n got %+v\nwant %+v", got, want)
	}

	// A torn last (sealed) line is dropped as a plaintext one is; the next
	// writer cuts it off and appends sealed lines after it.
	jp := filepath.Join(dir, JournalFile)
	complete, _ := os.ReadFile(jp)
	appendFile(t, jp, `{"diffuser_encrypted":1,"alg":"AES-256-GCM","key_id":"`+k.ID()+`","data":"AAAA`)
	w, got, _ := lockAndLoad(t, dir, WithKey(k))
	if !reflect.DeepEqual(got, want) {
		t.Fatal("a torn sealed line changed what Load returns")
	}
	if err := w.Record(PutInstance(addr(4), secretInstance(4))); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(jp)
	if !bytes.HasPrefix(now, complete) || bytes.Count(now, []byte("\n")) != bytes.Count(complete, []byte("\n"))+1 {
		t.Errorf("journal after appending past a torn sealed line:\n%s", now)
	}
}

// An encrypted state read without its key, or with another, is refused
// with a message saying which key is missing, never read as empty; the
// files stay as they were. A tampered envelope is damage, not a key problem.
func TestEncryptedRefusedWithoutKey(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t, 1)
	s, st, unlock := lockAndLoad(t, dir, WithKey(k))
	st.Steps[addr(0)] = secretInstance(0)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutInstance(addr(1), secretInstance(1))); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	before := dirBytes(t, dir)

	_, err := Open(dir).Load()
	var ke *KeyError
	if !errors.As(err, &ke) || !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "DIFFUSER_STATE_KEY") ||
		!strings.Contains(err.Error(), k.ID()) || !strings.Contains(err.Error(), "never reads an encrypted state as empty") {
		t.Errorf("without a key: %v", err)
	}
	// Also under the lock, as a writer would.
	w := Open(dir)
	if unlock, err := w.Lock(t.Context(), CurrentHolder("test")); err == nil {
		if _, err := w.Load(); !errors.Is(err, ErrNoKey) {
			t.Errorf("locked, without a key: %v", err)
		}
		_ = unlock()
	}
	other := testKey(t, 2)
	_, err = Open(dir, WithKey(other)).Load()
	if !errors.As(err, &ke) || ke.Have != other.ID() || ke.KeyID != k.ID() || !strings.Contains(err.Error(), "another key") {
		t.Errorf("with another key: %v", err)
	}
	// The journal alone sealed with another key (state.json in clear).
	jonly := t.TempDir()
	js, jst, junlock := lockAndLoad(t, jonly)
	if err := js.Save(jst); err != nil {
		t.Fatal(err)
	}
	_ = junlock()
	js2, _, junlock2 := lockAndLoad(t, jonly, WithKey(other))
	if err := js2.Record(PutInstance(addr(1), secretInstance(1))); err != nil {
		t.Fatal(err)
	}
	_ = junlock2()
	if _, err := Open(jonly).Load(); !errors.As(err, &ke) || ke.Line != 1 {
		t.Errorf("a sealed journal without a key: %v", err)
	}

	// Tampered: one byte of the ciphertext flipped (in the decoded bytes,
	// so that the envelope stays well-formed base64).
	sp := filepath.Join(dir, StateFile)
	var env envelope
	if err := json.Unmarshal(before[StateFile], &env); err != nil {
		t.Fatal(err)
	}
	ct, err := base64.StdEncoding.DecodeString(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	ct[20] ^= 1
	env.Data = base64.StdEncoding.EncodeToString(ct)
	b, _ := json.Marshal(env)
	if err := os.WriteFile(sp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := Open(dir, WithKey(k)).Load(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "altered or damaged") {
		t.Errorf("tampered: %v", err)
	}
	if err := os.WriteFile(sp, before[StateFile], 0o600); err != nil {
		t.Fatal(err)
	}
	if after := dirBytes(t, dir); !reflect.DeepEqual(after, before) {
		t.Error("a refused load changed the files")
	}
}

// A workspace in clear starts being encrypted when a key is set: it is
// read, and its next save is sealed.
func TestEncryptionOfPlainState(t *testing.T) {
	dir := t.TempDir()
	s, st, unlock := lockAndLoad(t, dir)
	st.Steps[addr(0)] = secretInstance(0)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(PutInstance(addr(1), secretInstance(1))); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	k := testKey(t, 7)
	s, st, _ = lockAndLoad(t, dir, WithKey(k))
	if st.Steps[addr(1)] == nil {
		t.Fatal("the plaintext journal was not replayed")
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, StateFile)); !IsSealed(b) {
		t.Errorf("the save after setting a key is not sealed:\n%s", b)
	}
}

func TestParseKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	k1, err := ParseKey(hexKey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKey("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=") // the same 32 bytes, base64
	if err != nil || k2.ID() != k1.ID() {
		t.Errorf("base64 of the same key: %v, id %s vs %s", err, k2.ID(), k1.ID())
	}
	p, err := ParseKey("correct horse battery staple")
	if err != nil || p.ID() == k1.ID() {
		t.Errorf("passphrase: %v", err)
	}
	if p2, _ := ParseKey("correct horse battery staple"); p2 == nil || p2.ID() != p.ID() {
		t.Error("a passphrase does not give the same key twice")
	}
	for _, bad := range []string{"", "short", strings.Repeat("x", 15)} {
		if _, err := ParseKey(bad); err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("ParseKey(%q): %v", bad, err)
		}
	}
}
