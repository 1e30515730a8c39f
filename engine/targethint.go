package engine

import (
	"fmt"
	"sort"
	"strings"

	"diffuser/lang"
)

// targetForms lists the addresses -target takes, for its errors.
const targetForms = `step.NAME, step.NAME["HOST"], module.NAME, module.NAME.step.NAME, hosts.GROUP or a host name such as server[0]`

// targetSuggestion is " Did you mean X?" for the address among known
// nearest to t (an instance key kept: a typo in step.NAME of
// step.NAME["HOST"] is suggested with its key), or "".
func targetSuggestion(t string, known map[string]bool) string {
	base, key := t, ""
	if i := strings.Index(t, "["); i > 0 && !strings.HasPrefix(t, "launch[") {
		base, key = t[:i], t[i:]
	}
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	if s := lang.Suggest(base, names); s != "" && s != base {
		return fmt.Sprintf(" Did you mean %s?", s+key)
	}
	if s := lang.Suggest(t, names); s != "" && s != t { // a host: sever[0]
		return fmt.Sprintf(" Did you mean %s?", s)
	}
	return ""
}

// addTargetNames adds what -target may name for a step (its address and
// every module around it) to known.
func addTargetNames(known map[string]bool, step string) {
	a := lang.StepAddr(step)
	known[a] = true
	i := strings.LastIndex(a, ".step.")
	if i < 0 {
		return
	}
	for mod := a[:i]; ; {
		known[mod] = true
		j := strings.LastIndex(mod, ".module.")
		if j < 0 {
			return
		}
		mod = mod[:j]
	}
}
