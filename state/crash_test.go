package state

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKilledWriterLeavesReadableState SIGKILLs, 20 times at random moments,
// a process that records and saves in a loop, and checks after each kill
// that the state loads, its serial never goes back, and everything the
// writer had been told was durable is there.
func TestKilledWriterLeavesReadableState(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 20 processes")
	}
	dir := t.TempDir()
	s, st, unlock := lockAndLoad(t, dir)
	const seed = 3000 // instances: a save is ~1 MB, slow enough to be hit
	for i := range seed {
		st.Steps[addr(i)] = testInstance(i)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}

	rngSeed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", rngSeed)
	rng := rand.New(rand.NewPCG(rngSeed, 0))
	var (
		lastSerial  = st.Serial
		ackedSerial = st.Serial
		ackedRecord = seed - 1
		duringSave  int
	)
	ack := func(l string) (saved bool) {
		kind, n, _ := strings.Cut(l, " ")
		v, err := strconv.Atoi(n)
		switch {
		case err != nil:
		case kind == "r":
			ackedRecord = max(ackedRecord, v)
		case kind == "s":
			ackedSerial = max(ackedSerial, uint64(v))
			return true
		}
		return false
	}
	for kill := range 20 {
		h := startHelper(t, "writer", dir)
		h.expect(t, "ready")
		if kill == 19 && ackedSerial == st.Serial {
			// Make sure at least one save completes.
			for l := range h.lines {
				if ack(l) {
					break
				}
			}
		}
		time.Sleep(time.Duration(5+rng.IntN(150)) * time.Millisecond)
		if err := h.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for l := range h.lines { // until the pipe closes: the process is gone
			ack(l)
		}
		_ = h.cmd.Wait()
		if tmps, _ := filepath.Glob(filepath.Join(dir, "*"+tmpInfix+"*")); len(tmps) > 0 {
			duringSave++
		}

		got, err := Open(dir).Load()
		if err != nil {
			t.Fatalf("kill %d: state does not load: %v", kill, err)
		}
		if got.Serial < lastSerial || got.Serial < ackedSerial {
			t.Fatalf("kill %d: serial %d, was %d, acknowledged %d", kill, got.Serial, lastSerial, ackedSerial)
		}
		lastSerial = got.Serial
		for i := 0; i <= ackedRecord; i++ {
			if got.Steps[addr(i)] == nil {
				t.Fatalf("kill %d: acknowledged record %d (of %d) lost", kill, i, ackedRecord)
			}
		}
		if len(got.Steps) > ackedRecord+2 {
			t.Fatalf("kill %d: %d instances, but only %d acknowledged and one in flight", kill, len(got.Steps), ackedRecord+1)
		}
		if data, err := os.ReadFile(filepath.Join(dir, BackupFile)); err == nil {
			b, err := decodeState(BackupFile, data)
			if err != nil {
				t.Fatalf("kill %d: backup does not load: %v", kill, err)
			}
			if b.Serial > got.Serial {
				t.Fatalf("kill %d: backup serial %d ahead of state serial %d", kill, b.Serial, got.Serial)
			}
		}
	}
	t.Logf("20 kills: final serial %d, %d records acknowledged, %d kills left a save's temporary file behind",
		lastSerial, ackedRecord+1-seed, duringSave)
	if lastSerial == st.Serial {
		t.Error("the writer never saved: the test proved nothing about saves")
	}
}
