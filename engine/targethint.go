package engine

import (
	"fmt"
	"sort"
	"strconv"
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
	if q, ok := quoteInstanceKey(key); ok && (strings.HasPrefix(base, "step.") || strings.Contains(base, ".step.")) {
		// step.x[server[0]] or step.x['server[0]']: the shell took the
		// double quotes, or they were never there.
		for _, b := range []string{base, lang.Suggest(base, names)} {
			if b != "" && (known[b] || known[b+q]) {
				return fmt.Sprintf(" Did you mean %s? The host of a step instance is in double quotes; mind the shell: put the whole address in single quotes ('%s').", b+q, b+q)
			}
		}
	}
	if key != "" && known["hosts."+base] { // server[7]: an index past the group
		var hosts []string
		for _, n := range names {
			if strings.HasPrefix(n, base+"[") {
				hosts = append(hosts, n)
			}
		}
		if len(hosts) > 8 {
			hosts = append(hosts[:8], fmt.Sprintf("… (%d in all)", len(hosts)))
		}
		return fmt.Sprintf(" State holds these hosts of group %s: %s.", base, strings.Join(hosts, ", "))
	}
	if known["hosts."+t] { // a group's name alone
		return fmt.Sprintf(" Did you mean hosts.%s (all its hosts)?", t)
	}
	if mod, ok := strings.CutSuffix(t, ".step"); ok && known[mod] { // module.M.step, the step's name missing
		var steps []string
		for _, n := range names {
			if strings.HasPrefix(n, mod+".step.") {
				steps = append(steps, n)
			}
		}
		return fmt.Sprintf(" The step's name is missing: %s.step.NAME names one step of the module (%s), %s every step under it.", mod, listSome(steps, 3), mod)
	}
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

// quoteInstanceKey turns the key of a step instance written without double
// quotes ([server[0]] or ['server[0]']) into the quoted one, ["server[0]"];
// ok is false for a key that is quoted already or is no host.
func quoteInstanceKey(key string) (string, bool) {
	if len(key) < 3 || key[0] != '[' || key[len(key)-1] != ']' || key[1] == '"' {
		return "", false
	}
	in := key[1 : len(key)-1]
	if len(in) >= 2 && in[0] == '\'' && in[len(in)-1] == '\'' {
		in = in[1 : len(in)-1]
	}
	if in == "" || strings.ContainsAny(in, "\"' \t\n") {
		return "", false
	}
	return `["` + in + `"]`, true
}

// stepHostsHint completes the error for a step instance address
// (step.NAME["HOST"]) whose step is there but has no instance on HOST: the
// hosts it runs on. "" for any other address.
func stepHostsHint(g *Instances, t string) string {
	i := strings.Index(t, "[")
	if i <= 0 || !strings.HasSuffix(t, "]") {
		return ""
	}
	base := t[:i]
	host, err := strconv.Unquote(t[i+1 : len(t)-1])
	if err != nil || host == "" {
		return ""
	}
	for s, stp := range g.Steps {
		if lang.StepAddr(stp.Name) != base {
			continue
		}
		hosts := make([]string, 0, len(g.StepHosts[s]))
		for _, h := range g.StepHosts[s] {
			hosts = append(hosts, g.Hosts[h].Name)
		}
		if len(hosts) == 0 {
			return fmt.Sprintf(" %s has no instances: its on names no hosts now.", base)
		}
		return fmt.Sprintf(" %s has no instance on %s: it runs on %s.", base, host, listSome(hosts, 8))
	}
	return ""
}
