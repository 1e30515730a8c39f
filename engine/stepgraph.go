package engine

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"diffuser/lang"

	"github.com/dominikbraun/graph"
	"github.com/hashicorp/hcl/v2"
)

// StepGraph is the step-level graph: one vertex per step and per host group
// ("hosts.server", "step.brick"). It is small (tens to hundreds of
// vertices), so dominikbraun/graph holds it.
type StepGraph struct {
	g graph.Graph[string, string]
	// off says, for a module call turned off (by address), why: DOT
	// draws its cluster dashed with that in its label.
	off map[string]string
}

// MarkOff records that module call addr is turned off, and why.
func (sg *StepGraph) MarkOff(addr, why string) {
	if sg.off == nil {
		sg.off = map[string]string{}
	}
	sg.off[addr] = why
}

func stepVertex(name string) string  { return lang.StepAddr(name) }
func groupVertex(name string) string { return "hosts." + name }

// BuildStepGraph adds every edge, then looks for cycles once (strongly
// connected components), reporting each cycle with the file:line of every
// step in it.
func BuildStepGraph(r *lang.Recipe) (*StepGraph, hcl.Diagnostics) {
	g := graph.New(graph.StringHash, graph.Directed())
	for _, grp := range r.Groups {
		_ = g.AddVertex(groupVertex(grp.Name), graph.VertexAttribute("shape", "box"))
	}
	for _, s := range r.Steps {
		_ = g.AddVertex(stepVertex(s.Name), graph.VertexAttribute("label", s.BaseName+" ("+s.Kind+")"))
	}
	why := map[[2]string]edgeWhy{}
	edge := func(from, to, label string, at ...hcl.Range) {
		if err := g.AddEdge(from, to, graph.EdgeAttribute("label", label)); err != nil {
			// A second reason for the same edge keeps the first label.
			return
		}
		if len(at) > 0 {
			why[[2]string{from, to}] = edgeWhy{label, at[0]}
		}
	}
	for _, s := range r.Steps {
		for _, grp := range onGroups(s) {
			edge(groupVertex(grp), stepVertex(s.Name), "on")
		}
		for _, ref := range s.RefGroups {
			edge(groupVertex(ref.Name), stepVertex(s.Name), "reads")
		}
		for _, ref := range s.After {
			label := "after"
			if ref.Attr == "restart_on" || ref.Attr == "reload_on" {
				label = ref.Attr // implies after: say which
			}
			edge(stepVertex(ref.Name), stepVertex(s.Name), label, ref.Range)
		}
		for _, ref := range s.AfterAll {
			edge(stepVertex(ref.Name), stepVertex(s.Name), "after_all", ref.Range)
		}
		for _, ref := range s.RefSteps {
			edge(stepVertex(ref.Name), stepVertex(s.Name), "reads", ref.Range)
		}
	}
	sg := &StepGraph{g: g}
	return sg, sg.cycles(r, why)
}

// edgeWhy is the entry that made an edge of the step graph: its attribute
// (after, restart_on, reads...) and where it is written.
type edgeWhy struct {
	label string
	at    hcl.Range
}

// loop finds one cycle through the first vertex of the strongly
// connected component comp (sorted), as the vertices in waiting order:
// each waits for the one before it, the first for the last.
func (sg *StepGraph) loop(comp []string) []string {
	adj, err := sg.g.AdjacencyMap()
	if err != nil || len(comp) == 0 {
		return nil
	}
	in := map[string]bool{}
	for _, v := range comp {
		in[v] = true
	}
	start := comp[0]
	prev := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		next := make([]string, 0, len(adj[v]))
		for w := range adj[v] {
			next = append(next, w)
		}
		sort.Strings(next)
		for _, w := range next {
			if w == start {
				var path []string
				for u := v; u != ""; u = prev[u] {
					path = append([]string{u}, path...)
				}
				return path
			}
			if _, seen := prev[w]; !seen && in[w] {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// onGroups lists the host groups a step's `on` names, statically.
func onGroups(s *lang.Step) []string {
	if s.On == nil {
		return nil
	}
	if s.Module != nil { // on = var.x: the groups its input names
		return s.OnGroups
	}
	seen := map[string]bool{}
	var out []string
	for _, tr := range s.On.Variables() {
		if tr.RootName() == "hosts" && len(tr) >= 2 {
			if a, ok := tr[1].(hcl.TraverseAttr); ok && !seen[a.Name] {
				seen[a.Name] = true
				out = append(out, a.Name)
			}
		}
	}
	return out
}

func (sg *StepGraph) cycles(r *lang.Recipe, why map[[2]string]edgeWhy) hcl.Diagnostics {
	comps, err := graph.StronglyConnectedComponents(sg.g)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot analyse the step graph", Detail: err.Error()}}
	}
	var diags hcl.Diagnostics
	for _, c := range comps {
		if len(c) < 2 {
			continue
		}
		sort.Strings(c)
		var lines []string
		var first *lang.Step
		for _, v := range c {
			name := strings.TrimPrefix(v, "step.")
			if s := r.Step(name); s != nil {
				if first == nil {
					first = s
				}
				line := fmt.Sprintf("  step %q at %s", name, s.DeclRange)
				if s.Module != nil {
					line = fmt.Sprintf("  %s at %s (module called at %s:%d)", s.Addr(), s.DeclRange, s.Module.CallRange.Filename, s.Module.CallRange.Start.Line)
				}
				lines = append(lines, line)
			}
		}
		var waits []string
		var subject *hcl.Range
		if first != nil {
			subject = first.DeclRange.Ptr()
		}
		path := sg.loop(c)
		for i, v := range path {
			from := path[(i+len(path)-1)%len(path)]
			line := fmt.Sprintf("  %s waits for %s", v, from)
			if w, ok := why[[2]string{from, v}]; ok {
				line += fmt.Sprintf(" (%s at %s)", w.label, rangeAt(w.at))
				// A step in a built-in module is not the user's to edit:
				// point at an entry of the loop they wrote instead.
				if subject != nil && lang.BuiltinFile(subject.Filename) && !lang.BuiltinFile(w.at.Filename) {
					subject = w.at.Ptr()
				}
			}
			waits = append(waits, line)
		}
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between steps",
			Detail: fmt.Sprintf("These steps wait for each other, so none could ever start:\n%s\nThe loop, with the entry that makes each wait:\n%s\n"+
				"Remove one of the after, after_all, restart_on or reload_on entries or references that close the loop.",
				strings.Join(lines, "\n"), strings.Join(waits, "\n"))}
		d.Subject = subject
		diags = append(diags, d)
	}
	return diags
}

// DOT writes the step graph in Graphviz DOT, byte for byte the same for
// the same recipe: vertices sorted by name, then edges sorted by source and
// target, each with its attributes sorted by key. (dominikbraun/graph's own
// draw.DOT ranges over maps, so its output changes from run to run.)
func (sg *StepGraph) DOT(w io.Writer) error {
	adj, err := sg.g.AdjacencyMap()
	if err != nil {
		return err
	}
	vertices := make([]string, 0, len(adj))
	for v := range adj {
		vertices = append(vertices, v)
	}
	sort.Strings(vertices)
	var b strings.Builder
	b.WriteString("strict digraph steps {\n\trankdir=\"LR\";\n\n")
	// A module's steps are one cluster each, labelled with the module's
	// address (nested modules are clusters of their own, flat).
	clusters := map[string][]string{}
	var modules []string
	for _, v := range vertices {
		_, props, err := sg.g.VertexWithProperties(v)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s%s;\n", dotQuote(v), dotAttrs(props.Attributes))
		if mod, _, ok := strings.Cut(v, ".step."); ok && strings.HasPrefix(v, "module.") {
			if clusters[mod] == nil {
				modules = append(modules, mod)
			}
			clusters[mod] = append(clusters[mod], line)
			continue
		}
		b.WriteString("\t" + line)
	}
	for _, mod := range modules {
		if why, off := sg.off[mod]; off {
			fmt.Fprintf(&b, "\n\tsubgraph %s {\n\t\tlabel=%s;\n\t\tstyle=\"dashed\";\n", dotQuote("cluster_"+mod), dotQuote(mod+" (off: "+why+")"))
		} else {
			fmt.Fprintf(&b, "\n\tsubgraph %s {\n\t\tlabel=%s;\n", dotQuote("cluster_"+mod), dotQuote(mod))
		}
		for _, line := range clusters[mod] {
			b.WriteString("\t\t" + line)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("\n")
	for _, v := range vertices {
		targets := make([]string, 0, len(adj[v]))
		for t := range adj[v] {
			targets = append(targets, t)
		}
		sort.Strings(targets)
		for _, t := range targets {
			fmt.Fprintf(&b, "\t%s -> %s%s;\n", dotQuote(v), dotQuote(t), dotAttrs(adj[v][t].Properties.Attributes))
		}
	}
	b.WriteString("}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// dotAttrs renders attributes as ` [k1="v1", k2="v2"]`, keys sorted, or
// nothing when there are none.
func dotAttrs(attrs map[string]string) string {
	if len(attrs) == 0 {
		return ""
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + dotQuote(attrs[k])
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

// dotQuote makes s a DOT double-quoted string. Inside one only \" is an
// escape; a backslash is doubled so that it stays a backslash, and a newline
// becomes the \n line break.
func dotQuote(s string) string { return `"` + dotQuoter.Replace(s) + `"` }

var dotQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// String lists edges deterministically, one per line: "from -> to (label)".
func (sg *StepGraph) String() string {
	edges, _ := sg.g.Edges()
	lines := make([]string, 0, len(edges))
	for _, e := range edges {
		lines = append(lines, fmt.Sprintf("%s -> %s (%s)", e.Source, e.Target, e.Properties.Attributes["label"]))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func rangeAt(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }
