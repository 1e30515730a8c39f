package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
)

// VKind is the kind of an instance-graph vertex.
type VKind uint8

const (
	VLaunch    VKind = iota // launch one host
	VStep                   // one step instance on one host
	VJoin                   // every instance of a step is done
	VGroupJoin              // every host of a group is launched
	VGroupRun               // a group kind's step runs on all its hosts at once
)

// HostSlot is one desired host.
type HostSlot struct {
	Name  string
	Group string
	Index int
}

// Instances is the instance graph in compact arrays: vertex ids are int32,
// edges are stored in CSR form (outStart/out), prerequisite → dependent.
// A step's instances are contiguous: vertex stepBase[s]+i is step s on host
// StepHosts[s][i]. "Wait for all instances of x" goes through one join
// vertex per step, so it costs N+M edges, not N×M.
type Instances struct {
	Hosts      []HostSlot
	HostIdx    map[string]int32
	Groups     []string
	GroupHosts [][]int32 // per group index, host indexes in order
	Steps      []*lang.Step
	StepHosts  [][]int32 // per step, host indexes, ascending

	Kind []VKind
	Ref  []int32 // VLaunch, VStep: host index; VJoin: step index; VGroupJoin: group index
	Step []int32 // VStep: step index; otherwise -1

	outStart []int32
	out      []int32
	InDeg    []int32
	Order    []int32 // topological order (Kahn)

	LaunchV    []int32 // per host
	StepBase   []int32 // per step
	JoinV      []int32 // per step, -1 when unused; the VGroupRun vertex of group steps
	GroupRun   []bool  // per step: runs as one group (steps.GroupKind)
	GroupJoinV []int32 // per group, -1 when unused
}

// Out returns the dependents of v.
func (g *Instances) Out(v int32) []int32 { return g.out[g.outStart[v]:g.outStart[v+1]] }

// NumVertices is the number of vertices, joins included.
func (g *Instances) NumVertices() int { return len(g.Kind) }

// NumEdges is the number of edges.
func (g *Instances) NumEdges() int { return len(g.out) }

// StepVertex is the vertex of step s on its i-th host.
func (g *Instances) StepVertex(s, i int) int32 { return g.StepBase[s] + int32(i) }

// Addr is the address of a vertex as plan output and state name it.
func (g *Instances) Addr(v int32) string {
	switch g.Kind[v] {
	case VLaunch:
		return LaunchAddr(g.Hosts[g.Ref[v]].Name)
	case VStep:
		return InstanceAddr(g.Steps[g.Step[v]].Name, g.Hosts[g.Ref[v]].Name)
	case VJoin:
		return lang.StepAddr(g.Steps[g.Ref[v]].Name) + " (all)"
	case VGroupRun:
		return lang.StepAddr(g.Steps[g.Ref[v]].Name) + " (group run)"
	default:
		return "hosts." + g.Groups[g.Ref[v]] + " (all launched)"
	}
}

// InstanceAddr is `step.NAME["HOST"]`, or for a module's step
// `module.M.step.NAME["HOST"]` (step is then lang.Step.Name,
// "module.M.step.NAME").
func InstanceAddr(step, host string) string {
	return lang.StepAddr(step) + "[" + strconv.Quote(host) + "]"
}

// TargetsStep says whether target t names every instance of step (a
// lang.Step.Name): its address, or a module it is in (module.M, or
// module.M.module.N for a nested call). An address cut short after a
// module (module.M.step, its step's name missing) names no module and so
// no step: it would otherwise take every step of module.M.
func TargetsStep(t, step string) bool {
	a := lang.StepAddr(step)
	return t == a || isModulePath(t) && strings.HasPrefix(a, t+".")
}

// isModulePath reports whether t is module.NAME[.module.NAME…].
func isModulePath(t string) bool {
	for {
		rest, ok := strings.CutPrefix(t, "module.")
		if !ok {
			return false
		}
		name, more, nested := strings.Cut(rest, ".")
		if !isIdent(name) {
			return false
		}
		if !nested {
			return true
		}
		t = more
	}
}

// LaunchAddr is `launch["HOST"]`.
func LaunchAddr(host string) string { return "launch[" + strconv.Quote(host) + "]" }

// MaxStepInstances bounds the step instances of a plan (each step once per
// host it runs on). A plan holds about 2 KB per instance (docs/scale.md:
// 1.1 million instances are about 2 GB), and vertex ids are int32: 20,000
// steps on 100,000 hosts would be 2 billion, past both. The bound is 20
// steps on each of lang.MaxHosts hosts, 200 times the 10,000 instances of
// a 1,000-server GlusterFS deploy.
const MaxStepInstances = 2_000_000

// Expand builds the instance graph. counts gives each group's size; onHosts
// resolves a step's `on` to host names; isGroup says which steps run as one
// group (steps.GroupKind): their instances only collect prerequisites, a
// VGroupRun vertex after all of them does the work, and everything that
// waits for any of their instances waits for that vertex.
func Expand(r *lang.Recipe, counts map[string]int, onHosts func(*lang.Step) ([]string, hcl.Diagnostics), isGroup func(*lang.Step) bool) (*Instances, hcl.Diagnostics) {
	g := &Instances{HostIdx: map[string]int32{}}
	var diags hcl.Diagnostics
	groupIdx := map[string]int{}
	for gi, grp := range r.Groups {
		groupIdx[grp.Name] = gi
		g.Groups = append(g.Groups, grp.Name)
		hosts := make([]int32, counts[grp.Name])
		for i := range hosts {
			id := int32(len(g.Hosts))
			name := lang.HostName(grp.Name, i)
			g.Hosts = append(g.Hosts, HostSlot{Name: name, Group: grp.Name, Index: i})
			g.HostIdx[name] = id
			hosts[i] = id
		}
		g.GroupHosts = append(g.GroupHosts, hosts)
	}
	stepIdx := map[string]int{}
	total := 0
	for si, s := range r.Steps {
		stepIdx[s.Name] = si
		g.Steps = append(g.Steps, s)
		names, d := onHosts(s)
		diags = append(diags, d...)
		if total += len(names); total > MaxStepInstances {
			subject := s.DeclRange
			if s.On != nil {
				subject = s.On.Range()
			}
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too many step instances",
				Detail: fmt.Sprintf("With %s on %d hosts the recipe has %d step instances (each step once per host it runs on); a plan may have at most %d. "+
					"Run fewer steps on every host, or deploy fewer hosts per recipe.", s.Addr(), len(names), total, MaxStepInstances),
				Subject: &subject})
		}
		ids := make([]int32, 0, len(names))
		for _, n := range names {
			id, ok := g.HostIdx[n]
			if !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown host in on",
					Detail: fmt.Sprintf("Step %q runs on %q, which is not a declared host.", s.Name, n), Subject: s.On.Range().Ptr()})
				continue
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		g.StepHosts = append(g.StepHosts, ids)
	}
	if diags.HasErrors() {
		return nil, diags
	}

	// Vertices: launches, then each step's instances, then joins on demand.
	add := func(k VKind, ref, step int32) int32 {
		g.Kind = append(g.Kind, k)
		g.Ref = append(g.Ref, ref)
		g.Step = append(g.Step, step)
		return int32(len(g.Kind) - 1)
	}
	g.LaunchV = make([]int32, len(g.Hosts))
	for h := range g.Hosts {
		g.LaunchV[h] = add(VLaunch, int32(h), -1)
	}
	g.StepBase = make([]int32, len(g.Steps))
	for s, hosts := range g.StepHosts {
		g.StepBase[s] = int32(len(g.Kind))
		for _, h := range hosts {
			add(VStep, h, int32(s))
		}
	}
	var from, to []int32
	edge := func(a, b int32) { from, to = append(from, a), append(to, b) }
	g.JoinV = slices.Repeat([]int32{-1}, len(g.Steps))
	g.GroupRun = make([]bool, len(g.Steps))
	for s, st := range g.Steps {
		if isGroup != nil && isGroup(st) {
			g.GroupRun[s] = true
			g.JoinV[s] = add(VGroupRun, int32(s), -1)
			for i := range g.StepHosts[s] {
				edge(g.StepVertex(s, i), g.JoinV[s])
			}
		}
	}
	join := func(s int) int32 {
		if g.JoinV[s] < 0 {
			g.JoinV[s] = add(VJoin, int32(s), -1)
			for i := range g.StepHosts[s] {
				edge(g.StepVertex(s, i), g.JoinV[s])
			}
		}
		return g.JoinV[s]
	}
	g.GroupJoinV = slices.Repeat([]int32{-1}, len(g.Groups))
	groupJoin := func(gi int) int32 {
		if g.GroupJoinV[gi] < 0 {
			g.GroupJoinV[gi] = add(VGroupJoin, int32(gi), -1)
			for _, h := range g.GroupHosts[gi] {
				edge(g.LaunchV[h], g.GroupJoinV[gi])
			}
		}
		return g.GroupJoinV[gi]
	}
	for s, st := range g.Steps {
		var waitAll []int32
		var paired []int
		for _, ref := range st.After {
			x := stepIdx[ref.Name]
			if slices.Equal(g.StepHosts[x], g.StepHosts[s]) {
				paired = append(paired, x)
			} else {
				waitAll = append(waitAll, join(x))
			}
		}
		for _, ref := range st.AfterAll {
			waitAll = append(waitAll, join(stepIdx[ref.Name]))
		}
		for _, ref := range st.RefSteps {
			waitAll = append(waitAll, join(stepIdx[ref.Name]))
		}
		for _, ref := range st.RefGroups {
			waitAll = append(waitAll, groupJoin(groupIdx[ref.Name]))
		}
		slices.Sort(waitAll)
		waitAll = slices.Compact(waitAll)
		for i, h := range g.StepHosts[s] {
			v := g.StepVertex(s, i)
			edge(g.LaunchV[h], v)
			for _, x := range paired {
				if g.GroupRun[x] {
					edge(g.JoinV[x], v) // one instance of a group step is the whole group
				} else {
					edge(g.StepVertex(x, i), v)
				}
			}
			for _, j := range waitAll {
				edge(j, v)
			}
		}
	}
	g.buildCSR(from, to)
	if err := g.sort(); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between step instances", Detail: err.Error()})
	}
	return g, diags
}

func (g *Instances) buildCSR(from, to []int32) {
	n := len(g.Kind)
	g.outStart = make([]int32, n+1)
	g.InDeg = make([]int32, n)
	for i, a := range from {
		g.outStart[a+1]++
		g.InDeg[to[i]]++
	}
	for i := 0; i < n; i++ {
		g.outStart[i+1] += g.outStart[i]
	}
	g.out = make([]int32, len(from))
	fill := make([]int32, n)
	copy(fill, g.outStart[:n])
	for i, a := range from {
		g.out[fill[a]] = to[i]
		fill[a]++
	}
}

// sort orders vertices with Kahn's algorithm, O(V+E).
func (g *Instances) sort() error {
	n := len(g.Kind)
	deg := slices.Clone(g.InDeg)
	order := make([]int32, 0, n)
	for v := int32(0); v < int32(n); v++ {
		if deg[v] == 0 {
			order = append(order, v)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, w := range g.Out(order[i]) {
			if deg[w]--; deg[w] == 0 {
				order = append(order, w)
			}
		}
	}
	g.Order = order
	if len(order) != n {
		for v := int32(0); v < int32(n); v++ {
			if deg[v] > 0 {
				return fmt.Errorf("%s and %d other vertices are on a cycle", g.Addr(v), n-len(order)-1)
			}
		}
	}
	return nil
}

// String lists every edge deterministically, "from -> to" per line, for tests.
func (g *Instances) String() string {
	var b []byte
	for v := int32(0); v < int32(len(g.Kind)); v++ {
		outs := slices.Clone(g.Out(v))
		slices.Sort(outs)
		for _, w := range outs {
			b = append(b, g.Addr(v)...)
			b = append(b, " -> "...)
			b = append(b, g.Addr(w)...)
			b = append(b, '\n')
		}
	}
	return string(b)
}
