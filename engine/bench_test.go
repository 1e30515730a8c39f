package engine_test

import (
	"context"
	"diffuser/facts"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/state"
	"diffuser/steps/builtin"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// bigRecipe is hosts × steps: ten steps per host, chained with after, the
// last one reading every host's address (a join), like real recipes.
func bigRecipe(hosts int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "recipe \"big\" {}\nhosts \"node\" { count = %d }\n", hosts)
	for i := 0; i < 9; i++ {
		fmt.Fprintf(&b, "step \"s%d\" {\n  on = hosts.node\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "  after = [step.s%d]\n", i-1)
		}
		fmt.Fprintf(&b, "  run = \"echo %d ${host.name} ${host.private_ip}\"\n}\n", i)
	}
	b.WriteString("step \"s9\" {\n  on = hosts.node\n  after = [step.s8]\n  package = [\"xfsprogs\"]\n}\n")
	return b.String()
}

// peakHeap samples the heap while f runs and returns its peak.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak {
				peak = ms.HeapAlloc
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > peak {
		peak = ms.HeapAlloc
	}
	return peak
}

// cpuTime is the process's user+system CPU time: on a loaded machine wall
// time says little, CPU time still does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts a new measure of peakRSS (Linux: the peak resident
// set size is reset by writing 5 to /proc/self/clear_refs).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set size since the last
// resetPeakRSS (VmHWM), 0 where /proc does not tell.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

func noSettings(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }

// fullState is the state an apply of the big recipe would leave.
func fullState(b *testing.B, l *engine.Loaded) *state.State {
	st := state.New("bench")
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	g := l.Graph
	// What a simulated host answers to the facts command, as apply records it.
	f, err := facts.Gather(context.Background(), sim.New().Runner("bench"))
	if err != nil {
		b.Fatal(err)
	}
	raw := f.Encode()
	for i, slot := range g.Hosts {
		ip := fmt.Sprintf("10.1.%d.%d", i/256, i%256)
		st.Hosts[slot.Name] = &state.Host{Name: slot.Name, Group: slot.Group, Index: slot.Index, Provider: "sim",
			ProviderID: "id-" + slot.Name, PrivateIP: ip, PublicIP: ip, Digest: p.ChangeFor(g.LaunchV[i]).Digest, Facts: raw}
	}
	// Digests come from a plan that knows the hosts.
	p, diags = l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	for _, c := range p.Changes {
		if c.Kind != "launch" {
			st.Steps[c.Addr] = &state.Instance{Step: c.Step, Host: c.Host, Kind: c.Kind, Digest: c.Digest, Status: state.StatusApplied}
		}
	}
	return st
}

// benchGCPercent is the GC target the diffuser binary runs with
// (cmd/diffuser/main.go, gcPercent) unless GOGC is set: the engine
// benchmarks measure what the binary does. GOGC=100 in the environment
// measures Go's default instead.
const benchGCPercent = 400

func benchGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(benchGCPercent)
	return func() { debug.SetGCPercent(old) }
}

func gcNote() string {
	if g := os.Getenv("GOGC"); g != "" {
		return "GOGC=" + g
	}
	return fmt.Sprintf("GOGC=%d as the binary", benchGCPercent)
}

// benchRuns is how many times each big benchmark repeats inside one
// iteration: this machine's timings vary by tens of percent from run to
// run, so the median is reported beside every run.
func benchRuns() int {
	if n, err := strconv.Atoi(os.Getenv("DIFFUSER_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkPlan10kHosts: load + graph + plan of 10,000 hosts × 10 steps
// (100,000 step instances), from an empty and from a full state.
func BenchmarkPlan10kHosts(b *testing.B) {
	defer benchGC()()
	src := bigRecipe(10000)
	for _, full := range []bool{false, true} {
		name := "empty-state"
		if full {
			name = "full-state"
		}
		b.Run(name, func(b *testing.B) {
			var st *state.State
			if full {
				st = fullState(b, mustLoadB(b, src))
			} else {
				st = state.New("bench")
			}
			for i := 0; i < b.N; i++ {
				var walls []time.Duration
				var maxPeak uint64
				for r := 0; r < benchRuns(); r++ {
					var p *engine.Plan
					var loadT, planT time.Duration
					cpu0 := cpuTime()
					peak := peakHeap(func() {
						t0 := time.Now()
						l := loadToPlan(b, src)
						loadT = time.Since(t0)
						t1 := time.Now()
						var diags hcl.Diagnostics
						p, diags = l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
						if diags.HasErrors() {
							b.Fatal(diags)
						}
						planT = time.Since(t1)
					})
					cpu := cpuTime() - cpu0
					add, change, destroy := p.Counts()
					total := loadT + planT
					walls = append(walls, total)
					maxPeak = max(maxPeak, peak)
					fmt.Printf("plan 10,000 hosts x 10 steps (%s, run %d, %s): load+graph %v, plan %v, wall %v, process CPU %v, peak heap %.0f MiB, plan %d/%d/%d\n",
						name, r+1, gcNote(), loadT.Round(time.Millisecond), planT.Round(time.Millisecond), total.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(peak)/(1<<20), add, change, destroy)
				}
				m := median(walls)
				fmt.Printf("plan 10,000 hosts x 10 steps (%s): median wall %v of %d runs (target < 1s: %.2fx of budget), peak heap %.0f MiB (target < 1024 MiB)\n",
					name, m.Round(time.Millisecond), len(walls), m.Seconds(), float64(maxPeak)/(1<<20))
				b.ReportMetric(m.Seconds(), "s/plan")
				b.ReportMetric(float64(maxPeak)/(1<<20), "MiB-peak")
			}
		})
	}
}

func mustLoadB(b *testing.B, src string) *engine.Loaded {
	l, diags := load(b, src)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return l
}

// loadToPlan loads src as plan, apply and destroy do
// (engine.LoadRecipeToPlan: Plan checks every instance, Load need not).
func loadToPlan(b *testing.B, src string) *engine.Loaded {
	kinds := builtin.Kinds()
	r, diags := lang.Load(lang.Source{FS: fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}, Dir: "r", Display: "r"}, engine.KindSpecs(kinds))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	l, diags := engine.LoadRecipeToPlan(r, lang.Inputs{}, kinds)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return l
}

// BenchmarkWalk100kNoop walks 100,000 no-op step instances (and 10,000
// launches) with a no-op transport: simulated hosts, step kinds that take
// no time. What remains is the engine's own overhead: scheduling,
// evaluation, digests and the state journal (fsync'd, group-committed).
// It runs at the CLI's defaults (unlimited -parallelism, the default
// connect, upload and session limits) unless DIFFUSER_BENCH_PARALLELISM
// sets a cap.
func BenchmarkWalk100kNoop(b *testing.B) {
	defer benchGC()()
	src := bigRecipe(10000)
	kinds := sim.Kinds(builtin.Kinds(), sim.Profile{})
	par := benchParallelism()
	for i := 0; i < b.N; i++ {
		var walls []time.Duration
		for r := 0; r < benchRuns(); r++ {
			store := state.Open(b.TempDir())
			unlock, err := store.Lock(context.Background(), state.CurrentHolder("bench"))
			if err != nil {
				b.Fatal(err)
			}
			st, _ := store.Load()
			l, diags := engine.Load(lang.Source{FS: fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}, Dir: "r"}, lang.Inputs{}, kinds)
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			p, diags := l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			c := sim.New()
			prov, _ := c.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
			runtime.GC()
			resetPeakRSS()
			cpu0 := cpuTime()
			start := time.Now()
			res := p.Apply(context.Background(), st, engine.ApplyOptions{Provider: prov, Cluster: "bench", Connector: c.Connector(),
				Recorder: benchRecorder(store), Parallelism: par, Limits: engine.DefaultLimits(), LogDir: b.TempDir()})
			wall := time.Since(start)
			cpu := cpuTime() - cpu0
			_ = unlock()
			if len(res.Failures) > 0 {
				b.Fatalf("failures: %v", res.Failures[0])
			}
			if res.Ran != 110000 {
				b.Fatalf("%d of 110,000 vertices ran", res.Ran)
			}
			walls = append(walls, wall)
			fmt.Printf("walk 110,000 vertices (run %d, parallelism %s, %s): wall %v, %.1f µs per vertex, process CPU %v, peak RSS %s\n",
				r+1, parName(par), gcNote(), wall.Round(time.Millisecond), float64(wall.Microseconds())/110000, cpu.Round(time.Millisecond), mib(peakRSS()))
		}
		m := median(walls)
		fmt.Printf("walk 110,000 vertices (10,000 launches + 100,000 no-op step instances, no-op transport, state journaled): median wall %v of %d runs (target < 2s), %.1f µs per vertex\n",
			m.Round(time.Millisecond), len(walls), float64(m.Microseconds())/110000)
		b.ReportMetric(m.Seconds(), "s/walk")
	}
}

func benchParallelism() int {
	if n, err := strconv.Atoi(os.Getenv("DIFFUSER_BENCH_PARALLELISM")); err == nil && n >= 0 {
		return n
	}
	return 0 // the CLI's default: unlimited
}

func parName(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

// openTofuPlan5k is OpenTofu 1.12's plan of 5,000 terraform_data
// resources with nothing to change, measured on this project's 2-core
// machine (issue 20): the figure BenchmarkPlan5kNoop compares with.
const openTofuPlan5k = 4840 * time.Millisecond

// BenchmarkPlan5kNoop: reading the state from disk, then load + graph +
// plan of 500 hosts × 10 steps (5,000 step instances and 500 launches)
// from that state, where every one is applied, so the plan is all no-ops:
// what OpenTofu's plan of 5,000 unchanged resources does (it reads its
// state file too). It prints the median of several runs (at least 5;
// DIFFUSER_BENCH_RUNS for more) and its ratio to OpenTofu's 4.84 s
// (target: 50× faster, 0.097 s).
func BenchmarkPlan5kNoop(b *testing.B) {
	defer benchGC()()
	src := bigRecipe(500)
	dir := b.TempDir()
	saveState(b, dir, fullState(b, mustLoadB(b, src)))
	runs := max(benchRuns(), 5)
	for i := 0; i < b.N; i++ {
		var walls, cpus, reads []time.Duration
		for r := 0; r < runs; r++ {
			runtime.GC()
			cpu0 := cpuTime()
			t0 := time.Now()
			st, err := state.Open(dir).Load()
			if err != nil {
				b.Fatal(err)
			}
			reads = append(reads, time.Since(t0))
			l := loadToPlan(b, src)
			p, diags := l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			walls = append(walls, time.Since(t0))
			cpus = append(cpus, cpuTime()-cpu0)
			if add, change, destroy := p.Counts(); add+change+destroy != 0 {
				for _, c := range p.Changes {
					if c.Action != engine.NoOp {
						b.Logf("%s: %s %+v", c.Addr, c.Action, c)
						break
					}
				}
				b.Fatalf("plan of a full state: %d to add, %d to change, %d to destroy", add, change, destroy)
			}
		}
		m := median(walls)
		slices.Sort(walls)
		fmt.Printf("plan 5,000 no-op step instances + 500 hosts, state read from disk (%s): median wall %v of %d runs (%v..%v; of it reading state %v), median process CPU %v\n",
			gcNote(), m.Round(100*time.Microsecond), runs, walls[0].Round(100*time.Microsecond), walls[len(walls)-1].Round(100*time.Microsecond),
			median(reads).Round(100*time.Microsecond), median(cpus).Round(100*time.Microsecond))
		fmt.Printf("  against OpenTofu's 4.84 s: median %.0fx faster, fastest run %.0fx (target 50x: %v or less)\n",
			float64(openTofuPlan5k)/float64(m), float64(openTofuPlan5k)/float64(walls[0]), openTofuPlan5k/50)
		b.ReportMetric(m.Seconds(), "s/plan")
	}
}

// saveState writes st as the state of the workspace directory dir.
func saveState(b *testing.B, dir string, st *state.State) {
	b.Helper()
	store := state.Open(dir)
	unlock, err := store.Lock(context.Background(), state.CurrentHolder("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = unlock() }()
	cur, err := store.Load()
	if err != nil {
		b.Fatal(err)
	}
	st.Lineage = cur.Lineage // a new workspace's
	if err := store.Save(st); err != nil {
		b.Fatal(err)
	}
}
