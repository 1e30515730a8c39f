package engine

import (
	"sort"
	"time"
)

// CriticalPath returns the indexes into spans of the chain of dependent
// step instances that decided when the apply finished: it ends at the span
// that finished last and, walking back through the instance graph, always
// takes the prerequisite chain whose run times sum to the most. Vertices
// that did not run (no-ops, joins) pass the chain through at zero cost.
// The result is in execution order; it is empty when spans is.
//
// Spans without a vertex (destroys, V < 0) are not in the graph: for them
// the predecessor is the span on the same host that finished last before
// the span started, since a host's undos run one after another.
//
// It runs in O(V+E) over the graph plus O(S log S) over the spans, so it
// is cheap next to the apply that produced them even at 100,000 vertices.
func CriticalPath(g *Instances, spans []Span) []int {
	if len(spans) == 0 {
		return nil
	}
	last := 0
	for i, s := range spans {
		if s.End.After(spans[last].End) {
			last = i
		}
	}
	if spans[last].V < 0 || g == nil || int(spans[last].V) >= g.NumVertices() {
		return sameHostChain(spans, last)
	}

	n := g.NumVertices()
	spanOf := make([]int32, n) // vertex -> span index + 1 (0: did not run)
	for i, s := range spans {
		if s.V >= 0 && int(s.V) < n {
			spanOf[s.V] = int32(i) + 1
		}
	}
	weight := func(v int32) time.Duration {
		if i := spanOf[v]; i > 0 {
			return spans[i-1].End.Sub(spans[i-1].Start)
		}
		return 0
	}
	// best[v]: the longest sum of run times of a chain ending at v
	// (v included); pred[v]: the prerequisite that chain comes through.
	best := make([]time.Duration, n)
	pred := make([]int32, n)
	for i := range pred {
		pred[i] = -1
	}
	for _, v := range g.Order {
		best[v] += weight(v)
		for _, w := range g.Out(v) {
			if pred[w] < 0 || best[v] > best[w] {
				best[w] = best[v]
				pred[w] = v
			}
		}
	}
	var chain []int
	for v := spans[last].V; v >= 0; v = pred[v] {
		if i := spanOf[v]; i > 0 {
			chain = append(chain, int(i-1))
		}
	}
	reverse(chain)
	return chain
}

// sameHostChain walks back from spans[last] through the spans on the same
// host that finished before each one started.
func sameHostChain(spans []Span, last int) []int {
	host := spans[last].Host
	var mine []int
	for i, s := range spans {
		if s.Host == host {
			mine = append(mine, i)
		}
	}
	sort.Slice(mine, func(a, b int) bool { return spans[mine[a]].End.Before(spans[mine[b]].End) })
	chain := []int{last}
	cur := last
	for k := len(mine) - 1; k >= 0; k-- {
		i := mine[k]
		if i != cur && !spans[i].End.After(spans[cur].Start) {
			chain = append(chain, i)
			cur = i
		}
	}
	reverse(chain)
	return chain
}

func reverse(s []int) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
