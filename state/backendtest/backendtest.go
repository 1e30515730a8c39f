// Package backendtest is the contract every state backend keeps: the
// local directory (state.Store) and the S3 bucket (state/s3store) run the
// same Run. It is for tests only and imports state and testing.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/state"
)

// Backend is what a workspace needs of where its state lives.
type Backend interface {
	Lock(ctx context.Context, h state.Holder) (unlock func() error, err error)
	Load() (*state.State, error)
	Save(st *state.State) error
	Replace(st *state.State) error
	Record(rec state.Record) error
	Current() bool
	LockInfo() (*state.Holder, error)
	BreakLock() (*state.Holder, error)
	// Sealed says whether the state last loaded or saved is sealed.
	Sealed() bool
}

// ForceUnlocker is a backend whose lock outlives its holder and can be
// removed by lock id.
type ForceUnlocker interface {
	ForceUnlock(id string) (*state.Holder, error)
}

// Options open a backend.
type Options struct {
	LockWait time.Duration
	Key      *state.Key
}

// Target is one empty place to keep state, fresh for each subtest.
type Target struct {
	// Open returns a new backend on this place; each call is a separate
	// client, as a second process would be.
	Open func(o Options) Backend
	// Raw returns every stored byte, by file or object name.
	Raw func() map[string][]byte
	// Put stores data as the file or object name, as a hand edit or
	// another program would (nil: cases that need it are skipped).
	Put func(name string, data []byte)
}

// Run runs the contract on the targets newTarget makes.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	cases := []struct {
		name string
		fn   func(t *testing.T, tg Target)
	}{
		{"Empty", testEmpty},
		{"SaveAndLoad", testSaveAndLoad},
		{"WritesNeedLock", testWritesNeedLock},
		{"OtherLineageRefused", testOtherLineageRefused},
		{"StaleSerialRefused", testStaleSerialRefused},
		{"JournalDurableAndResumed", testJournal},
		{"ConcurrentRecords", testConcurrentRecords},
		{"LockContention", testLockContention},
		{"LockWaitGetsIt", testLockWaitGetsIt},
		{"LockCancelled", testLockCancelled},
		{"BreakLockSparesLiveHolder", testBreakLive},
		{"ForceUnlock", testForceUnlock},
		{"Encryption", testEncryption},
		{"ReplaceKeepsLineageAndSerial", testReplace},
		{"UnknownFieldsReadOnly", testUnknownFields},
		{"SerialAtTheTopNotSaved", testSerialAtTheTop},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newTarget(t)) })
	}
}

func lock(t *testing.T, b Backend, cmd string) func() error {
	t.Helper()
	unlock, err := b.Lock(context.Background(), state.CurrentHolder(cmd))
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { _ = unlock() })
	return unlock
}

func load(t *testing.T, b Backend) *state.State {
	t.Helper()
	st, err := b.Load()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return st
}

func host(name string) *state.Host {
	return &state.Host{Name: name, Group: "server", Provider: "static", ProviderID: name,
		PrivateIP: "10.0.0.1", Digest: "d-" + name, Launched: time.Unix(1700000000, 0).UTC()}
}

func instance(step, h string) *state.Instance {
	return &state.Instance{Step: step, Host: h, Kind: "run", Digest: "x", Status: state.StatusApplied,
		Outputs: map[string]string{"k": "v-" + h}, Started: time.Unix(1700000000, 0).UTC(), Finished: time.Unix(1700000001, 0).UTC()}
}

func testEmpty(t *testing.T, tg Target) {
	b := tg.Open(Options{})
	st := load(t, b)
	if st.Serial != 0 || st.Lineage == "" || len(st.Hosts)+len(st.Steps) != 0 {
		t.Fatalf("empty store loaded serial %d lineage %q, %d hosts", st.Serial, st.Lineage, len(st.Hosts))
	}
	if h, err := b.LockInfo(); err != nil || h != nil {
		t.Fatalf("LockInfo of an unlocked store = %v, %v", h, err)
	}
	if again := load(t, tg.Open(Options{})); again.Lineage == st.Lineage {
		t.Fatalf("two loads of nothing share lineage %s: a new state needs a fresh one", st.Lineage)
	}
}

func testSaveAndLoad(t *testing.T, tg Target) {
	b := tg.Open(Options{})
	unlock := lock(t, b, "diffuser apply one")
	st := load(t, b)
	st.Hosts["server[0]"] = host("server[0]")
	st.Outputs["mount"] = state.Output{Value: "10.0.0.1:/gv0"}
	if err := b.Save(st); err != nil {
		t.Fatal(err)
	}
	if st.Serial != 1 {
		t.Fatalf("serial after the first save = %d, want 1", st.Serial)
	}
	if !b.Current() {
		t.Fatal("Current is false right after this backend's own save")
	}
	st.Steps[`step.a["server[0]"]`] = instance("a", "server[0]")
	if err := b.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	got := load(t, tg.Open(Options{}))
	if got.Serial != 2 || got.Lineage != st.Lineage {
		t.Fatalf("reloaded serial %d lineage %s, want 2 and %s", got.Serial, got.Lineage, st.Lineage)
	}
	if got.Hosts["server[0]"] == nil || got.Hosts["server[0]"].PrivateIP != "10.0.0.1" ||
		got.Outputs["mount"].Value != "10.0.0.1:/gv0" || got.Steps[`step.a["server[0]"]`] == nil {
		t.Fatalf("reloaded state lost what was saved: %+v", got)
	}
}

func testWritesNeedLock(t *testing.T, tg Target) {
	b := tg.Open(Options{})
	st := load(t, b)
	if err := b.Save(st); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("save without the lock: %v, want ErrNotLocked", err)
	}
	if err := b.Record(state.PutHost(host("h"))); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("record without the lock: %v, want ErrNotLocked", err)
	}
	unlock := lock(t, b, "diffuser apply one")
	if err := b.Record(state.Record{Kind: "bogus", Key: "x"}); err == nil {
		t.Fatal("a malformed record was accepted")
	}
	_ = unlock()
	if err := b.Save(st); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("save after unlock: %v, want ErrNotLocked", err)
	}
}

// testOtherLineageRefused: a state of another lineage appeared where this
// backend loaded nothing; neither a save nor a record goes over it.
func testOtherLineageRefused(t *testing.T, tg Target) {
	a, b := tg.Open(Options{}), tg.Open(Options{})
	mine := load(t, a) // nothing there yet: a fresh lineage
	unlockB := lock(t, b, "diffuser apply other")
	theirs := load(t, b)
	theirs.Hosts["x"] = host("x")
	if err := b.Save(theirs); err != nil {
		t.Fatal(err)
	}
	_ = unlockB()
	lock(t, a, "diffuser apply mine")
	var le *state.LineageError
	if err := a.Save(mine); !errors.As(err, &le) {
		t.Fatalf("save over another lineage: %v, want *state.LineageError", err)
	}
	if le.Disk != theirs.Lineage || le.Have != mine.Lineage {
		t.Fatalf("LineageError names disk %s have %s, want %s and %s", le.Disk, le.Have, theirs.Lineage, mine.Lineage)
	}
	if err := a.Record(state.PutHost(host("y"))); !errors.As(err, &le) {
		t.Fatalf("record over another lineage: %v, want *state.LineageError", err)
	}
	// A state handed in with a lineage of its own is refused too.
	fresh := load(t, a)
	fresh.Lineage = "00000000-0000-4000-8000-000000000000"
	if err := a.Save(fresh); !errors.As(err, &le) {
		t.Fatalf("save of a state with another lineage: %v, want *state.LineageError", err)
	}
	got := load(t, tg.Open(Options{}))
	if got.Lineage != theirs.Lineage || got.Hosts["y"] != nil || got.Serial != 1 {
		t.Fatalf("the refused writes changed the stored state: lineage %s serial %d", got.Lineage, got.Serial)
	}
}

// testStaleSerialRefused: a backend that loaded serial 1 may not write
// after another one saved serial 2 (a stale saved plan relies on this).
func testStaleSerialRefused(t *testing.T, tg Target) {
	a, b := tg.Open(Options{}), tg.Open(Options{})
	unlockA := lock(t, a, "diffuser apply a")
	st := load(t, a)
	if err := a.Save(st); err != nil {
		t.Fatal(err)
	}
	_ = unlockA()
	old := load(t, a)
	unlockB := lock(t, b, "diffuser apply b")
	newer := load(t, b)
	newer.Hosts["b"] = host("b")
	if err := b.Save(newer); err != nil {
		t.Fatal(err)
	}
	_ = unlockB()
	if a.Current() {
		t.Fatal("Current is true though another backend saved since")
	}
	lock(t, a, "diffuser apply a")
	if err := a.Save(old); !errors.Is(err, state.ErrChanged) {
		t.Fatalf("save of serial %d over serial %d: %v, want ErrChanged", old.Serial, newer.Serial, err)
	}
	if err := a.Record(state.PutHost(host("stale"))); !errors.Is(err, state.ErrChanged) {
		t.Fatalf("record over a newer serial: %v, want ErrChanged", err)
	}
	got := load(t, tg.Open(Options{}))
	if got.Serial != 2 || got.Hosts["stale"] != nil || got.Hosts["b"] == nil {
		t.Fatalf("stored state after refused writes: serial %d hosts %v", got.Serial, len(got.Hosts))
	}
}

// testJournal: records are durable when Record returns, with no save: a
// process that dies after them (here: it just stops) leaves them for the
// next one, which continues the same journal; a save folds them in.
func testJournal(t *testing.T, tg Target) {
	a := tg.Open(Options{})
	unlock := lock(t, a, "diffuser apply killed")
	st := load(t, a)
	if err := a.Save(st); err != nil { // serial 1, as apply saves before its walk
		t.Fatal(err)
	}
	for i := range 5 {
		addr := fmt.Sprintf(`step.a["h%d"]`, i)
		if err := a.Record(state.PutInstance(addr, instance("a", fmt.Sprintf("h%d", i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Record(state.PutHost(host("h0"))); err != nil {
		t.Fatal(err)
	}
	_ = unlock() // the apply ends here without saving

	b := tg.Open(Options{})
	lock(t, b, "diffuser apply resumed")
	got := load(t, b)
	if got.Serial != 1 || len(got.Steps) != 5 || got.Hosts["h0"] == nil {
		t.Fatalf("after an apply that did not save: serial %d, %d instances, hosts %v; want serial 1, 5 instances, h0",
			got.Serial, len(got.Steps), len(got.Hosts))
	}
	if err := b.Record(state.DeleteInstance(`step.a["h4"]`)); err != nil {
		t.Fatal(err)
	}
	got2 := load(t, tg.Open(Options{}))
	if len(got2.Steps) != 4 {
		t.Fatalf("a record continuing a resumed journal was lost: %d instances, want 4", len(got2.Steps))
	}
	_ = got.Apply(state.DeleteInstance(`step.a["h4"]`))
	if err := b.Save(got); err != nil {
		t.Fatal(err)
	}
	final := load(t, tg.Open(Options{}))
	if final.Serial != 2 || len(final.Steps) != 4 {
		t.Fatalf("after save: serial %d, %d instances; want 2 and 4", final.Serial, len(final.Steps))
	}
}

func testConcurrentRecords(t *testing.T, tg Target) {
	a := tg.Open(Options{})
	lock(t, a, "diffuser apply many")
	load(t, a)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := fmt.Sprintf("h%d", i)
			errs <- a.Record(state.PutInstance(fmt.Sprintf(`step.a["%s"]`, h), instance("a", h)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := load(t, tg.Open(Options{}))
	if len(got.Steps) != n {
		t.Fatalf("%d concurrent records, %d loaded", n, len(got.Steps))
	}
}

func testLockContention(t *testing.T, tg Target) {
	a, b := tg.Open(Options{}), tg.Open(Options{})
	unlock := lock(t, a, "diffuser apply first")
	_, err := b.Lock(context.Background(), state.CurrentHolder("diffuser apply second"))
	var le *state.LockedError
	if !errors.As(err, &le) || !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second lock: %v, want a *state.LockedError", err)
	}
	if le.Holder.Command != "diffuser apply first" || le.Holder.PID != os.Getpid() || le.Holder.User == "" || le.Holder.Hostname == "" {
		t.Fatalf("the locked error names %+v, not the first holder", le.Holder)
	}
	if h, err := b.LockInfo(); err != nil || h == nil || h.Command != "diffuser apply first" {
		t.Fatalf("LockInfo while held = %v, %v", h, err)
	}
	w := tg.Open(Options{LockWait: 300 * time.Millisecond})
	start := time.Now()
	_, err = w.Lock(context.Background(), state.CurrentHolder("diffuser apply waiter"))
	if !errors.As(err, &le) || le.Waited < 300*time.Millisecond || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("waiting lock: %v after %s, want a *LockedError after at least 300ms", err, time.Since(start))
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if h, err := b.LockInfo(); err != nil || h != nil {
		t.Fatalf("LockInfo after release = %v, %v", h, err)
	}
	lock(t, b, "diffuser apply second")
}

func testLockWaitGetsIt(t *testing.T, tg Target) {
	a := tg.Open(Options{})
	unlock := lock(t, a, "diffuser apply first")
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = unlock()
	}()
	w := tg.Open(Options{LockWait: 20 * time.Second})
	start := time.Now()
	u, err := w.Lock(context.Background(), state.CurrentHolder("diffuser apply waiter"))
	if err != nil {
		t.Fatalf("a waiter did not get the lock its holder released: %v", err)
	}
	defer u()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("the waiter got the lock after %s, while it was still held", d)
	}
}

func testLockCancelled(t *testing.T, tg Target) {
	a := tg.Open(Options{})
	lock(t, a, "diffuser apply first")
	w := tg.Open(Options{LockWait: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := w.Lock(ctx, state.CurrentHolder("diffuser apply waiter"))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, state.ErrLocked) {
		t.Fatalf("cancelled wait: %v, want the deadline and the holder", err)
	}
}

func testBreakLive(t *testing.T, tg Target) {
	a, b := tg.Open(Options{}), tg.Open(Options{})
	lock(t, a, "diffuser apply live")
	h, err := b.BreakLock()
	if !errors.Is(err, state.ErrLocked) || h != nil {
		t.Fatalf("BreakLock of a live holder: %v, %v; want it left alone", h, err)
	}
	if _, err := b.Lock(context.Background(), state.CurrentHolder("x")); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("the live lock was broken: %v", err)
	}
}

func testForceUnlock(t *testing.T, tg Target) {
	a, b := tg.Open(Options{}), tg.Open(Options{})
	fu, ok := b.(ForceUnlocker)
	if !ok {
		t.Skip("this backend's lock ends with its holder: nothing to force")
	}
	lock(t, a, "diffuser apply stuck")
	held, err := b.LockInfo()
	if err != nil || held == nil || held.ID == "" {
		t.Fatalf("LockInfo = %v, %v; want a holder with a lock id", held, err)
	}
	if _, err := fu.ForceUnlock("not-" + held.ID); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("force unlock with the wrong id: %v, want the lock left alone", err)
	}
	if h, _ := b.LockInfo(); h == nil || h.ID != held.ID {
		t.Fatalf("a wrong id removed the lock: %v", h)
	}
	got, err := fu.ForceUnlock(held.ID)
	if err != nil || got == nil || got.Command != "diffuser apply stuck" {
		t.Fatalf("force unlock = %v, %v", got, err)
	}
	lock(t, b, "diffuser apply next")
	if h, _ := b.LockInfo(); h == nil || h.Command != "diffuser apply next" {
		t.Fatalf("after force unlock and a new lock, LockInfo = %v", h)
	}
}

func testEncryption(t *testing.T, tg Target) {
	key, err := state.ParseKey("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	other, err := state.ParseKey("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-output-value"
	// A state in clear, loaded with a key, is not sealed until saved.
	plain := tg.Open(Options{})
	unlockPlain := lock(t, plain, "diffuser apply clear")
	if err := plain.Save(load(t, plain)); err != nil {
		t.Fatal(err)
	}
	_ = unlockPlain()
	if plain.Sealed() {
		t.Error("a state saved without a key says it is sealed")
	}
	a := tg.Open(Options{Key: key})
	unlock := lock(t, a, "diffuser apply sealed")
	st := load(t, a)
	if a.Sealed() {
		t.Error("a state in clear, loaded with a key, says it is sealed")
	}
	st.Outputs["password"] = state.Output{Value: secret, Sensitive: true}
	if err := a.Save(st); err != nil {
		t.Fatal(err)
	}
	if !a.Sealed() {
		t.Error("a state saved with a key says it is not sealed")
	}
	in := instance("a", "h0")
	in.Outputs["k"] = secret
	if err := a.Record(state.PutInstance(`step.a["h0"]`, in)); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	for name, data := range tg.Raw() {
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("step.a")) {
			t.Errorf("%s holds plaintext state", name)
		}
	}
	reader := tg.Open(Options{Key: key})
	got := load(t, reader)
	if got.Outputs["password"].Value != secret || got.Steps[`step.a["h0"]`] == nil {
		t.Fatalf("the sealed state did not load back: %+v", got)
	}
	if !reader.Sealed() {
		t.Error("a sealed state, loaded, says it is not sealed")
	}
	var ke *state.KeyError
	if _, err := tg.Open(Options{}).Load(); !errors.As(err, &ke) {
		t.Fatalf("load without the key: %v, want *state.KeyError", err)
	}
	if _, err := tg.Open(Options{Key: other}).Load(); !errors.As(err, &ke) {
		t.Fatalf("load with another key: %v, want *state.KeyError", err)
	}
	// Replace (state push, pull) seals as Save does, and says so.
	pushed := tg.Open(Options{Key: key})
	unlockPushed := lock(t, pushed, "diffuser state push")
	if err := pushed.Replace(load(t, pushed)); err != nil {
		t.Fatal(err)
	}
	_ = unlockPushed()
	if !pushed.Sealed() {
		t.Error("a state replaced with a key says it is not sealed")
	}
}

// testReplace: a state moved in from another backend keeps its lineage and
// serial, and writing continues from there.
func testReplace(t *testing.T, tg Target) {
	a := tg.Open(Options{})
	st := load(t, a)
	if err := a.Replace(st); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("replace without the lock: %v, want ErrNotLocked", err)
	}
	lock(t, a, "diffuser state push")
	moved := state.New("11111111-2222-4333-8444-555555555555")
	moved.Serial = 7
	moved.Hosts["h"] = host("h")
	if err := a.Replace(moved); err != nil {
		t.Fatal(err)
	}
	got := load(t, tg.Open(Options{}))
	if got.Lineage != moved.Lineage || got.Serial != 7 || got.Hosts["h"] == nil {
		t.Fatalf("after replace: lineage %s serial %d; want %s and 7", got.Lineage, got.Serial, moved.Lineage)
	}
	if err := a.Record(state.PutHost(host("h2"))); err != nil {
		t.Fatal(err)
	}
	got = load(t, a)
	if err := a.Save(got); err != nil || got.Serial != 8 || got.Hosts["h2"] == nil {
		t.Fatalf("save after replace: %v, serial %d", err, got.Serial)
	}
}

// testUnknownFields: a state.json with a field this build does not know
// loads for reading, but a Load under the lock and a Save are
// *state.UnknownFieldsError naming it, and the stored bytes stay as they
// were (a save would have dropped the field).
func testUnknownFields(t *testing.T, tg Target) {
	if tg.Put == nil {
		t.Skip("the target cannot store raw bytes")
	}
	a := tg.Open(Options{})
	unlock := lock(t, a, "diffuser apply")
	st := load(t, a)
	st.Hosts["x"] = host("x")
	if err := a.Save(st); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	raw := rawState(tg)
	edited := bytes.Replace(raw, []byte(`"serial":`), []byte(`"colour": "blue", "serial":`), 1)
	if bytes.Equal(raw, edited) {
		t.Fatalf("no serial in %s", raw)
	}
	tg.Put(state.StateFile, edited)

	b := tg.Open(Options{})
	read := load(t, b) // plan, show, state list
	var ue *state.UnknownFieldsError
	if err := read.Writable(); !errors.As(err, &ue) || fmt.Sprint(ue.Fields) != "[colour]" {
		t.Fatalf("Writable: %v, want the field colour", err)
	}
	lock(t, b, "diffuser apply")
	if err := b.Save(read); !errors.As(err, &ue) {
		t.Errorf("Save: %v, want *state.UnknownFieldsError", err)
	}
	if _, err := b.Load(); !errors.As(err, &ue) {
		t.Errorf("Load under the lock: %v, want *state.UnknownFieldsError", err)
	}
	if got := rawState(tg); !bytes.Equal(got, edited) {
		t.Errorf("the stored state changed:\n%s", got)
	}
}

// testSerialAtTheTop: a state at state.MaxSerial (only an edit gets
// there) loads, but a save, which adds one, is refused naming the serial
// and nothing is written: it used to write a serial that the next read
// refused as past the bound.
func testSerialAtTheTop(t *testing.T, tg Target) {
	if tg.Put == nil {
		t.Skip("the target cannot store raw bytes")
	}
	a := tg.Open(Options{})
	unlock := lock(t, a, "diffuser apply")
	if err := a.Save(load(t, a)); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	raw := rawState(tg)
	edited := regexp.MustCompile(`"serial": *[0-9]+`).ReplaceAll(raw, []byte(fmt.Sprintf(`"serial": %d`, uint64(state.MaxSerial))))
	if bytes.Equal(raw, edited) {
		t.Fatalf("no serial in %s", raw)
	}
	tg.Put(state.StateFile, edited)
	b := tg.Open(Options{})
	lock(t, b, "diffuser apply")
	st := load(t, b)
	st.Hosts["x"] = host("x")
	var fe *state.FieldError
	if err := b.Save(st); !errors.As(err, &fe) || fe.Path != "serial" || !strings.Contains(err.Error(), "no room for another save") {
		t.Errorf("Save at serial %d: %v, want a refusal naming the serial", uint64(state.MaxSerial), err)
	}
	if got := rawState(tg); !bytes.Equal(got, edited) {
		t.Errorf("the stored state changed:\n%s", got)
	}
}

// rawState is the stored state.json's bytes (an object's name ends with it).
func rawState(tg Target) []byte {
	for name, data := range tg.Raw() {
		if path.Base(name) == state.StateFile {
			return data
		}
	}
	return nil
}
