package engine

import (
	"fmt"
	"sort"
	"strings"

	"diffuser/lang"
	"diffuser/state"
)

// targetHint is " Did you mean "X"?" when the address t, its instance key
// aside, is a typo away from a step, module or host group of r; else "".
func targetHint(t string, r *lang.Recipe) string {
	var known []string
	for _, s := range r.Steps {
		known = append(known, lang.StepAddr(s.Name))
	}
	for _, m := range r.Modules {
		known = append(known, m.Addr)
	}
	for _, g := range r.Groups {
		known = append(known, "hosts."+g.Name, g.Name)
	}
	return nearTarget(t, known)
}

// stateTargetHint is targetHint for a destroy, against what state holds.
func stateTargetHint(t string, st *state.State) string {
	var known []string
	for name, h := range st.Hosts {
		known = append(known, "hosts."+h.Group, groupName(name))
	}
	for _, inst := range st.Steps {
		known = append(known, lang.StepAddr(inst.Step))
	}
	sort.Strings(known) // one answer where two are as near
	return nearTarget(t, known)
}

// groupName is "server" of the host name "server[3]".
func groupName(host string) string {
	if i := strings.Index(host, "["); i > 0 {
		return host[:i]
	}
	return host
}

func nearTarget(t string, known []string) string {
	base, key := t, ""
	if i := strings.Index(t, "["); i > 0 {
		base, key = t[:i], t[i:]
	}
	if s := lang.Suggest(base, known); s != "" && s != base {
		return fmt.Sprintf(" Did you mean %q?", s+key)
	}
	return ""
}

// replaceHint is targetHint for -replace, which takes hosts and step
// instances of the plan's graph.
func replaceHint(g *Instances, r string) string {
	seen := map[string]bool{}
	var known []string
	add := func(addr string) {
		base, _, _ := strings.Cut(addr, "[")
		if !seen[base] {
			seen[base] = true
			known = append(known, base)
		}
	}
	for _, slot := range g.Hosts {
		add(slot.Name)
	}
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		add(g.Addr(v))
	}
	return nearTarget(r, known)
}
