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
