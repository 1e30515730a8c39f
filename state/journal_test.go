package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestJournalReplay(t *testing.T) {
	dir := t.TempDir()
	s, st, unlock := lockAndLoad(t, dir)
	st.Steps[addr(0)] = testInstance(0)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	failed := testInstance(2)
	failed.Status, failed.Error = StatusFailed, "exit status 1"
	recs := []Record{
		PutHost(testHost(1)),
		PutInstance(addr(1), testInstance(1)),
		PutInstance(addr(2), testInstance(2)),
		PutInstance(addr(2), failed), // last put wins
		DeleteInstance(addr(0)),      // removes what state.json has
		PutInstance(addr(3), testInstance(3)),
		DeleteInstance(addr(3)),
		PutHost(testHost(4)),
		DeleteHost("server[4]"),
	}
	want := mustLoad(t, dir)
	for _, r := range recs {
		if err := s.Record(r); err != nil {
			t.Fatal(err)
		}
		if err := want.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	got := mustLoad(t, dir)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("replayed state differs:\n got %+v\nwant %+v", got, want)
	}
	if got.Serial != 1 || got.Steps[addr(2)].Status != StatusFailed || got.Steps[addr(0)] != nil || got.Hosts["server[1]"] == nil || got.Hosts["server[4]"] != nil {
		t.Fatalf("replayed state wrong: serial %d, steps %v, hosts %v", got.Serial, keys(got.Steps), keys(got.Hosts))
	}

	// A crash tore the last line: it is dropped, the rest is kept.
	jp := filepath.Join(dir, JournalFile)
	complete, _ := os.ReadFile(jp)
	torn := `{"kind":"instance","key":"step.glusterd[\"server[5]\"]","instance":{"step":"glus`
	appendFile(t, jp, torn)
	got = mustLoad(t, dir)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with a torn last line the state differs:\n got %+v\nwant %+v", got, want)
	}
	if now, _ := os.ReadFile(jp); !bytes.Equal(now, append(complete, torn...)) {
		t.Error("Load modified the journal")
	}

	// The next writer cuts the torn line off before appending.
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	w, _, _ := lockAndLoad(t, dir)
	if err := w.Record(PutInstance(addr(6), testInstance(6))); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(jp)
	if !bytes.HasPrefix(now, complete) || bytes.Contains(now, []byte(torn)) || bytes.Count(now, []byte{'\n'}) != bytes.Count(complete, []byte{'\n'})+1 {
		t.Errorf("journal after appending past a torn line:\n%s", now)
	}
	if got := mustLoad(t, dir); got.Steps[addr(6)] == nil {
		t.Error("record appended after the torn line is lost")
	}
}

func TestJournalCorruptLineIsAnErrorWithItsLine(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Record(PutInstance(addr(i), testInstance(i))); err != nil {
			t.Fatal(err)
		}
	}
	jp := filepath.Join(dir, JournalFile)
	data, _ := os.ReadFile(jp)
	lines := strings.SplitAfter(string(data), "\n")
	// lines: header, 3 records, "".
	cases := map[string]struct {
		line3     string
		line, col int
		msg       string
	}{
		"syntax":      {`{"kind":"instance",,}` + "\n", 3, 20, "invalid character ','"},
		"type":        {`{"kind":"instance","key":7}` + "\n", 3, 26, "key"},
		"bad record":  {`{"kind":"instance","key":"k"}` + "\n", 3, 0, "put needs an instance"},
		"unknown":     {`{"kind":"volume","key":"k","delete":true}` + "\n", 3, 0, "unknown kind"},
		"empty line":  {"\n", 3, 1, "unexpected end"},
		"nul garbage": {"\x00\x00\x00\n", 3, 1, "invalid character"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := lines[0] + lines[1] + c.line3 + lines[3]
			d := t.TempDir()
			copyInto(t, filepath.Join(dir, StateFile), filepath.Join(d, StateFile))
			writeFile(t, filepath.Join(d, JournalFile), bad)
			_, err := Open(d).Load()
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Line != c.line || ce.Column != c.col {
				t.Fatalf("err = %v, want *CorruptError at line %d col %d", err, c.line, c.col)
			}
			mustContain(t, err.Error(), c.msg, "move "+filepath.Join(d, JournalFile)+" aside")
		})
	}
}

func TestJournalHeaderRules(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	st.Steps[addr(1)] = testInstance(1)
	if err := s.Save(st); err != nil { // serial 1
		t.Fatal(err)
	}
	if err := s.Record(PutInstance(addr(2), testInstance(2))); err != nil {
		t.Fatal(err)
	}
	journal, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	saved1, _ := os.ReadFile(filepath.Join(dir, StateFile))
	if err := s.Save(st); err != nil { // serial 2, without addr(2): Save writes what it is given
		t.Fatal(err)
	}
	saved2, _ := os.ReadFile(filepath.Join(dir, StateFile))
	if _, err := os.Stat(filepath.Join(dir, JournalFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal survived a save (err %v)", err)
	}

	t.Run("crash between save and journal removal", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, StateFile), string(saved2))
		writeFile(t, filepath.Join(d, JournalFile), string(journal))
		got := mustLoad(t, d)
		if got.Serial != 2 || got.Steps[addr(2)] != nil {
			t.Errorf("journal of serial 1 replayed over serial 2: %v", keys(got.Steps))
		}
	})
	t.Run("journal continues the state", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, StateFile), string(saved1))
		writeFile(t, filepath.Join(d, JournalFile), string(journal))
		if got := mustLoad(t, d); got.Serial != 1 || got.Steps[addr(2)] == nil {
			t.Errorf("journal not replayed: serial %d, %v", got.Serial, keys(got.Steps))
		}
	})
	t.Run("state older than journal", func(t *testing.T) {
		d := t.TempDir()
		older := strings.Replace(string(saved1), `"serial": 1`, `"serial": 0`, 1)
		writeFile(t, filepath.Join(d, StateFile), older)
		writeFile(t, filepath.Join(d, JournalFile), string(journal))
		_, err := Open(d).Load()
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Line != 1 {
			t.Fatalf("err = %v, want *CorruptError at line 1", err)
		}
		mustContain(t, err.Error(), "serial 1", "serial 0", "restored from a backup")
	})
	t.Run("state missing, journal past serial 0", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, JournalFile), string(journal))
		_, err := Open(d).Load()
		mustContain(t, fmt.Sprint(err), "state.json is missing")
	})
	t.Run("journal of another lineage", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, StateFile), string(saved1))
		other := strings.Replace(string(journal), st.Lineage, "other-lineage", 1)
		writeFile(t, filepath.Join(d, JournalFile), other)
		_, err := Open(d).Load()
		var le *LineageError
		if !errors.As(err, &le) || le.Disk != "other-lineage" || le.Have != st.Lineage {
			t.Fatalf("err = %v, want *LineageError", err)
		}
	})
	t.Run("newer journal format", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, StateFile), string(saved1))
		writeFile(t, filepath.Join(d, JournalFile), strings.Replace(string(journal), fmt.Sprintf(`"journal":%d`, journalVersion), `"journal":9`, 1))
		_, err := Open(d).Load()
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Found != 9 {
			t.Fatalf("err = %v, want *VersionError", err)
		}
	})
	t.Run("torn header", func(t *testing.T) {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, StateFile), string(saved1))
		writeFile(t, filepath.Join(d, JournalFile), `{"journal":1,"lin`)
		if got := mustLoad(t, d); got.Serial != 1 || len(got.Steps) != 1 {
			t.Errorf("state with a torn journal header: serial %d, %v", got.Serial, keys(got.Steps))
		}
	})
}

// Before the first Save there is no state.json: the journal alone holds
// the state, and a crash must not lose it.
func TestJournalWithoutStateFile(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir)
	if err := s.Record(PutHost(testHost(0))); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, dir)
	if got.Lineage != st.Lineage || got.Serial != 0 || got.Hosts["server[0]"] == nil {
		t.Fatalf("got lineage %s serial %d hosts %v; want lineage %s", got.Lineage, got.Serial, keys(got.Hosts), st.Lineage)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("Record created state.json")
	}
}

func TestGroupCommit1000ConcurrentRecords(t *testing.T) {
	dir := t.TempDir()
	s, _ := lockedStore(t, dir)
	const n = 1000
	errs := make(chan error, n)
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs <- s.Record(PutInstance(addr(i), testInstance(i)))
		}()
	}
	start.Done()
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	flushes := s.flushes
	s.mu.Unlock()
	t.Logf("%d records in %d journal writes", n, flushes)
	if flushes >= n {
		t.Errorf("%d records took %d journal writes: nothing was batched", n, flushes)
	}
	got := mustLoad(t, dir)
	if len(got.Steps) != n {
		t.Fatalf("%d of %d records on disk", len(got.Steps), n)
	}
	for i := range n {
		if in := got.Steps[addr(i)]; in == nil || in.Digest != testInstance(i).Digest {
			t.Fatalf("record %d missing or wrong: %+v", i, in)
		}
	}
}

func TestRecorderConcurrentWithCompaction(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir, WithCompactMin(16<<10))
	r := NewRecorder(s, st)
	const writers, each = 32, 60
	var wg sync.WaitGroup
	errs := make(chan error, 3*writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				i := w*each + j
				errs <- r.Record(PutInstance(addr(i), testInstance(i)))
				if j%10 == 0 {
					errs <- r.Record(PutHost(testHost(i)))
					r.View(func(st *State) {
						if st.Steps[addr(i)] == nil {
							errs <- fmt.Errorf("record %d not visible to View", i)
						}
					})
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mid := mustLoad(t, dir)
	if len(mid.Steps) != writers*each {
		t.Fatalf("before the final compaction %d of %d instances on disk", len(mid.Steps), writers*each)
	}
	if mid.Serial < 2 {
		t.Errorf("serial %d: the journal was never compacted on the way", mid.Serial)
	}
	r.Update(func(st *State) { st.Outputs["mount"] = Output{Value: "x:/gv0"} })
	if err := r.Compact(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, JournalFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("journal left after the final compaction")
	}
	final := mustLoad(t, dir)
	var want *State
	r.View(func(st *State) { want = st })
	if !reflect.DeepEqual(final, want) {
		t.Error("state on disk differs from the Recorder's")
	}
	if final.Outputs["mount"].Value != "x:/gv0" {
		t.Error("Update lost")
	}
	t.Logf("%d records, %d journal writes, final serial %d", writers*each+writers*each/10, s.flushes, final.Serial)
}

func TestNeedsCompact(t *testing.T) {
	dir := t.TempDir()
	s, st := lockedStore(t, dir, WithCompactMin(2000))
	for i := range 4 {
		st.Steps[addr(i)] = testInstance(i)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	size := s.sizes.state // about 1.5 KB: the minimum decides
	if size >= 2000 {
		t.Fatalf("test needs a state smaller than the minimum, have %d", size)
	}
	n := 0
	for !s.NeedsCompact() {
		if err := s.Record(PutInstance(addr(n), testInstance(n))); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if j := s.sizes.journal; j < 2000 {
		t.Errorf("NeedsCompact with a %d-byte journal, minimum 2000", j)
	}
	other := Open(dir, WithCompactMin(2000))
	if _, err := other.Load(); err != nil {
		t.Fatal(err)
	}
	if !other.NeedsCompact() {
		t.Error("a Store that loaded the same big journal does not need compacting")
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if s.NeedsCompact() {
		t.Error("NeedsCompact right after Save")
	}
}

func TestRecordRejectsMalformedRecords(t *testing.T) {
	s, st := lockedStore(t, t.TempDir())
	for _, r := range []Record{
		{Kind: KindInstance, Key: "k"},
		{Kind: KindInstance, Instance: testInstance(1)},
		{Kind: KindHost, Key: "other", Host: testHost(1)},
		{Kind: "volume", Key: "k", Delete: true},
		{Kind: KindInstance, Key: "k", Delete: true, Instance: testInstance(1)},
		PutHost(nil),
	} {
		if err := s.Record(r); err == nil {
			t.Errorf("Record(%+v) accepted", r)
		}
		if err := st.Apply(r); err == nil {
			t.Errorf("Apply(%+v) accepted", r)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(data))
}
