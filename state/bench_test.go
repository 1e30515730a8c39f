package state

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"diffuser/internal/strictjson"
)

// BenchmarkRecord100k records 100,000 step instances two ways and prints
// the wall time of each and their ratio:
//
//	(a) rewrite: Save (whole state.json, atomically) after every record;
//	(b) journal: Recorder.Record from 64 goroutines (group commit, with
//	    the automatic compactions), then a final Compact.
//
// (a) is quadratic, too slow to run in full: it is run for real for the
// first 2,000 records, and its full cost is extrapolated by timing single
// saves at evenly spaced state sizes up to 100,000 instances (the sum of
// the save times over all sizes, estimated as a Riemann sum). One
// iteration is one full comparison:
//
//	go test ./state -run '^$' -bench Record100k -benchtime 1x -v
//
// DIFFUSER_BENCH_SAMPLES sets the number of sampled sizes (default 100).
func BenchmarkRecord100k(b *testing.B) {
	const n, writers = 100_000, 64
	samples := 100
	if v, err := strconv.Atoi(os.Getenv("DIFFUSER_BENCH_SAMPLES")); err == nil && v > 0 {
		samples = v
	}
	for b.Loop() {
		journal, flushes, serial := benchJournal(b, n, writers)
		first2k, estimate := benchRewrite(b, n, samples)
		b.Logf("(b) journal, %d writers: %d records in %v (%d fsynced writes, %d saves incl. compactions): %.1f µs/record",
			writers, n, journal.Round(time.Millisecond), flushes, serial, float64(journal.Microseconds())/n)
		b.Logf("(a) rewrite per record: first 2,000 records measured in %v; all %d extrapolated from %d sampled saves: %v",
			first2k.Round(time.Millisecond), n, samples, estimate.Round(time.Second))
		b.Logf("ratio (a)/(b) = %.0fx", float64(estimate)/float64(journal))
		b.ReportMetric(journal.Seconds(), "journal-s")
		b.ReportMetric(estimate.Seconds(), "rewrite-est-s")
		b.ReportMetric(float64(estimate)/float64(journal), "ratio")
	}
}

func benchJournal(b *testing.B, n, writers int) (time.Duration, int, uint64) {
	s := Open(b.TempDir())
	unlock, err := s.Lock(context.Background(), Holder{})
	if err != nil {
		b.Fatal(err)
	}
	defer unlock()
	st, err := s.Load()
	if err != nil {
		b.Fatal(err)
	}
	insts := make([]*Instance, n)
	for i := range insts {
		insts[i] = testInstance(i)
	}
	r := NewRecorder(s, st)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := r.Record(PutInstance(addr(i), insts[i])); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if err := r.Compact(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	s.mu.Lock()
	flushes := s.flushes
	s.mu.Unlock()
	if got := mustLoadB(b, s.Dir()); len(got.Steps) != n {
		b.Fatalf("%d of %d instances on disk", len(got.Steps), n)
	}
	return elapsed, flushes, st.Serial
}

// benchRewrite measures the first 2,000 saves for real and estimates the
// sum of n saves from samples saves at evenly spaced sizes.
func benchRewrite(b *testing.B, n, samples int) (first2k, estimate time.Duration) {
	s := Open(b.TempDir())
	unlock, err := s.Lock(context.Background(), Holder{})
	if err != nil {
		b.Fatal(err)
	}
	defer unlock()
	st, err := s.Load()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	i := 0
	for ; i < 2000; i++ {
		st.Steps[addr(i)] = testInstance(i)
		if err := s.Save(st); err != nil {
			b.Fatal(err)
		}
	}
	first2k = time.Since(start)

	step := n / samples
	var sum time.Duration
	for k := 1; k <= samples; k++ {
		for ; i < k*step; i++ {
			st.Steps[addr(i)] = testInstance(i)
		}
		t0 := time.Now()
		if err := s.Save(st); err != nil {
			b.Fatal(err)
		}
		sum += time.Since(t0)
	}
	return first2k, sum * time.Duration(step)
}

func mustLoadB(b *testing.B, dir string) *State {
	b.Helper()
	st, err := Open(dir).Load()
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkDecodeState measures reading state.json (decodeState: parse,
// duplicate-key check, Check) for a 100-host state and a state of 100
// hosts with 100 step instances each (10,000 instances, with arguments),
// and the strictjson pass alone:
//
//	go test ./state -run '^$' -bench DecodeState -benchmem
func BenchmarkDecodeState(b *testing.B) {
	for _, c := range []struct {
		name         string
		hosts, steps int
	}{{"100hosts", 100, 0}, {"10kinstances", 100, 100}} {
		data := benchStateJSON(b, c.hosts, c.steps)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := decodeState("state.json", data); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The duplicate-key and UTF-8 pass alone (its share of the above).
		b.Run(c.name+"/strictjson", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := strictjson.Check(data, reflect.TypeOf(&State{})); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStateJSON is the state.json of hosts hosts with steps instances
// each, as Save writes it.
func benchStateJSON(b *testing.B, hosts, steps int) []byte {
	st := New("bench-lineage")
	st.Serial = 7
	for h := range hosts {
		host := testHost(h)
		st.Hosts[host.Name] = host
		for s := range steps {
			in := testInstance(h)
			in.Step = "step" + strconv.Itoa(s)
			in.Args = json.RawMessage(`{"path":"/etc/x/` + strconv.Itoa(s) + `","mode":"0644","content":"line one\nline two\n"}`)
			st.Steps[`step.`+in.Step+`["`+host.Name+`"]`] = in
		}
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	return data
}
