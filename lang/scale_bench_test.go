package lang_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The cost of loading a recipe must grow with the recipe, not with its
// square. Two cases that were quadratic (each local evaluated in a context
// built from every local: 20,000 took 43 s; each moved block checked
// against every step and module: 20,000 took 18 s) are measured here, in
// `make bench`, not in a timed test that a loaded machine would fail: the
// work is map lookups, which allocate nothing, so only time shows it. Each
// reports the ratio of the fastest of three loads at two sizes: linear is
// the size ratio (4 and 8), quadratic its square.

func bestLoad(b *testing.B, src string, eval bool) time.Duration {
	best := time.Duration(1 << 62)
	for range 3 {
		start := time.Now()
		r, diags := loadString(b, src)
		if diags.HasErrors() {
			b.Fatal(diagString(diags))
		}
		if eval {
			if _, _, d := r.Counts(nil); d.HasErrors() {
				b.Fatal(diagString(d))
			}
		}
		best = min(best, time.Since(start))
	}
	return best
}

// BenchmarkManyLocals: 2,000 and 8,000 locals, each reading another.
func BenchmarkManyLocals(b *testing.B) {
	src := func(n int) string {
		var s strings.Builder
		s.WriteString("recipe \"t\" {}\nhosts \"server\" {}\nlocals {\n  l0 = 1\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&s, "  l%d = local.l%d + 1\n", i, i/2)
		}
		s.WriteString("}\n")
		return s.String()
	}
	for range b.N {
		small, large := bestLoad(b, src(2000), true), bestLoad(b, src(8000), true)
		b.ReportMetric(small.Seconds(), "s/2k-locals")
		b.ReportMetric(large.Seconds(), "s/8k-locals")
		b.ReportMetric(float64(large)/float64(small), "ratio-4x-size")
	}
}

// BenchmarkManyMoved: 1,000 and 8,000 steps, each with a moved block.
func BenchmarkManyMoved(b *testing.B) {
	src := func(n int) string {
		var s strings.Builder
		s.WriteString("recipe \"t\" {}\nhosts \"server\" {}\n")
		for i := range n {
			fmt.Fprintf(&s, "step \"s%d\" {\n  on  = hosts.server\n  run = \"true\"\n}\nmoved {\n  from = step.o%d\n  to   = step.s%d\n}\n", i, i, i)
		}
		return s.String()
	}
	for range b.N {
		small, large := bestLoad(b, src(1000), false), bestLoad(b, src(8000), false)
		b.ReportMetric(small.Seconds(), "s/1k-moved")
		b.ReportMetric(large.Seconds(), "s/8k-moved")
		b.ReportMetric(float64(large)/float64(small), "ratio-8x-size")
	}
}
