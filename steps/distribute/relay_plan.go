package distribute

import (
	"fmt"
	"sort"
	"strings"
)

// relayNode is one host that still needs the file, as planning sees it.
type relayNode struct {
	host int   // index into the transfer's hosts
	have int64 // bytes its part file already holds
}

// roundPlan is one relay round: who feeds whom, from which byte.
type roundPlan struct {
	// root is the host the round's stream enters at: the source (a host
	// holding the whole file, role send) when source >= 0, else a
	// receiver the operator streams to, from start[root].
	root       int
	fromSource bool
	// order lists the participants in tree order (root first).
	order    []int
	start    map[int]int64 // byte at which each participant's stream begins
	children map[int][]int // by host, in order
	parent   map[int]int   // by host; the root has none
}

// planRound lays the hosts that need the file out as a tree with fanout
// children per node (1: a chain), rooted at source when source >= 0.
// Hosts are placed by how much they have, fewest bytes first, so that every
// node's descendants have at least as much as it has: its stream begins at
// exactly what it has, and it passes on to each child only what that child
// lacks. (In general a node's stream begins at the least any host in its
// subtree has, and a node holding more than that keeps only that much.)
// Only the root's stream crosses the operator's link, from the fewest bytes
// any host has; with a source, nothing does.
func planRound(need []relayNode, source, fanout int) roundPlan {
	nodes := append([]relayNode(nil), need...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].have < nodes[j].have })
	p := roundPlan{start: map[int]int64{}, children: map[int][]int{}, parent: map[int]int{}}
	var have []int64
	if source >= 0 {
		p.fromSource = true
		p.order = append(p.order, source)
		have = append(have, -1) // the source holds everything; its start is its subtree's
	}
	for _, n := range nodes {
		p.order = append(p.order, n.host)
		have = append(have, n.have)
	}
	if len(p.order) == 0 {
		return p
	}
	p.root = p.order[0]
	// Heap layout: the node at position i feeds positions i*fanout+1 ... i*fanout+fanout.
	for i := range p.order {
		for c := i*fanout + 1; c <= i*fanout+fanout && c < len(p.order); c++ {
			p.children[p.order[i]] = append(p.children[p.order[i]], p.order[c])
			p.parent[p.order[c]] = p.order[i]
		}
	}
	for i := len(p.order) - 1; i >= 0; i-- {
		h := p.order[i]
		s := have[i]
		for _, c := range p.children[h] {
			if s < 0 || p.start[c] < s {
				s = p.start[c]
			}
		}
		p.start[h] = s
	}
	return p
}

// planFile is what a participant's $D/plan.ROUND says (see relay/hop.sh):
// its role and stream start, then one "ADDR PORT SKIP" line per child.
func (p roundPlan) planFile(h int, addr func(int) string, port func(int) int) []string {
	role := "recv"
	if p.fromSource && h == p.root {
		role = "send"
	}
	lines := []string{fmt.Sprintf("%s %d", role, p.start[h])}
	for _, c := range p.children[h] {
		lines = append(lines, fmt.Sprintf("%s %d %d", addr(c), port(c), p.start[c]-p.start[h]))
	}
	return lines
}

// String draws the plan for logs and tests: "h0(0) -> h1(0) -> h2(4096)".
func (p roundPlan) String() string {
	if len(p.order) == 0 {
		return "(nobody)"
	}
	var b strings.Builder
	var walk func(h int)
	walk = func(h int) {
		fmt.Fprintf(&b, "%d@%d", h, p.start[h])
		switch cs := p.children[h]; len(cs) {
		case 0:
		case 1:
			b.WriteString(" -> ")
			walk(cs[0])
		default:
			b.WriteString(" -> [")
			for i, c := range cs {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(c)
			}
			b.WriteString("]")
		}
	}
	if p.fromSource {
		b.WriteString("src ")
	} else {
		b.WriteString("operator -> ")
	}
	walk(p.root)
	return b.String()
}
