package engine

import "time"

// LongestPath is the critical path of the instance graph with the given
// vertex weights: the smallest possible makespan with unlimited
// parallelism. It returns the length and the path's vertices in order.
// O(V+E) over the topological order.
func (g *Instances) LongestPath(weight func(v int32) time.Duration) (time.Duration, []int32) {
	n := g.NumVertices()
	finish := make([]time.Duration, n) // earliest finish of v
	prev := make([]int32, n)
	for i := range prev {
		prev[i] = -1
	}
	start := make([]time.Duration, n)
	for _, v := range g.Order {
		finish[v] = start[v] + weight(v)
		for _, w := range g.Out(v) {
			if prev[w] < 0 || finish[v] > start[w] {
				start[w], prev[w] = finish[v], v
			}
		}
	}
	var best time.Duration
	end := int32(-1)
	for v := int32(0); v < int32(n); v++ {
		if end < 0 || finish[v] > best {
			best, end = finish[v], v
		}
	}
	var path []int32
	for v := end; v >= 0; v = prev[v] {
		path = append(path, v)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return best, path
}

// BarrierMakespan is the makespan of a per-step barrier schedule on the
// same weights (every host waits for the slowest one before the next step,
// as Ansible's linear strategy does): all launches, then each step in
// dependency order, each phase as long as its slowest instance.
func (g *Instances) BarrierMakespan(weight func(v int32) time.Duration) time.Duration {
	var total, phase time.Duration
	for _, v := range g.LaunchV {
		phase = max(phase, weight(v))
	}
	total += phase
	seen := make([]bool, len(g.Steps))
	var order []int
	for _, v := range g.Order {
		if g.Kind[v] == VStep && !seen[g.Step[v]] {
			seen[g.Step[v]] = true
			order = append(order, int(g.Step[v]))
		}
	}
	for _, s := range order {
		phase = 0
		for i := range g.StepHosts[s] {
			phase = max(phase, weight(g.StepVertex(s, i)))
		}
		total += phase
	}
	return total
}
