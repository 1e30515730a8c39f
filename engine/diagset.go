package engine

import (
	"fmt"
	"slices"
	"strings"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
)

// diagSet gathers the diagnostics of one step's instances and reports each
// problem once: diagnostics with the same severity, summary and subject
// are one mistake in the recipe, whichever hosts it showed on (their
// details may differ by a host's name or index). When a problem shows on
// some of a step's hosts only, its detail names them.
type diagSet struct {
	order []diagKey
	seen  map[diagKey]*diagSeen
}

type diagKey struct {
	sev     hcl.DiagnosticSeverity
	summary string
	file    string
	start   int
	end     int
	detail  string // only for diagnostics without a subject
}

type diagSeen struct {
	d     *hcl.Diagnostic
	hosts []string
	// onHost holds hosts once they are more than a few: a call's input
	// error comes from every step of the call, each naming the host.
	onHost map[string]bool
	// hostless: it was found once without a host (not every host was
	// evaluated): hosts may not be all it shows on.
	hostless bool
}

// add records host's diagnostics ("" when there is no host).
func (s *diagSet) add(host string, diags hcl.Diagnostics) {
	for _, d := range diags {
		k := diagKey{sev: d.Severity, summary: d.Summary}
		if d.Subject != nil {
			k.file, k.start, k.end = d.Subject.Filename, d.Subject.Start.Byte, d.Subject.End.Byte
		} else {
			k.detail = d.Detail
		}
		if s.seen == nil {
			s.seen = map[diagKey]*diagSeen{}
		}
		e := s.seen[k]
		if e == nil {
			e = &diagSeen{d: d}
			s.seen[k] = e
			s.order = append(s.order, k)
		}
		switch {
		case host == "":
			e.hostless = true
		case e.has(host):
		default:
			e.hosts = append(e.hosts, host)
			if e.onHost != nil || len(e.hosts) > 8 {
				if e.onHost == nil {
					e.onHost = make(map[string]bool, len(e.hosts))
					for _, h := range e.hosts {
						e.onHost[h] = true
					}
				}
				e.onHost[host] = true
			}
		}
	}
}

// has says whether host is among e's hosts already.
func (e *diagSeen) has(host string) bool {
	if e.onHost != nil {
		return e.onHost[host]
	}
	return slices.Contains(e.hosts, host)
}

// result returns each problem once, in the order first seen. instances is
// how many hosts the step has: a problem found on fewer says on which.
func (s *diagSet) result(instances int) hcl.Diagnostics {
	return s.resultOf("step", func(*hcl.Diagnostic) int { return instances })
}

// resultOf is result for problems of something other than a step (what),
// instances telling, per problem, how many hosts that has.
func (s *diagSet) resultOf(what string, instances func(*hcl.Diagnostic) int) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(s.order))
	for _, k := range s.order {
		e := s.seen[k]
		d := e.d
		if n := len(e.hosts); n > 0 && !e.hostless {
			if all := instances(d); n < all {
				cp := *d
				cp.Detail = strings.TrimSpace(fmt.Sprintf("%s (On %s of the %s's %d hosts.)", d.Detail, hostList(e.hosts), what, all))
				d = &cp
			}
		}
		out = append(out, d)
	}
	return out
}

// callDiags gathers the errors of module call inputs that the steps of
// the calls meet (lang.CallInput) while their instances are evaluated:
// each is reported once, as the call's, whichever of its steps and hosts
// met it (two steps of a call reading an input that a validation refuses
// on one host used to report it twice).
type callDiags struct {
	set diagSet
}

// split adds to c the call input errors of diags found on host ("" when
// not for one host), and returns the others: the step's own, and the
// errors the evaluator reported already for inputs not read from host
// (evaluated, the same diagnostics returned again to refuse the step).
func (c *callDiags) split(host string, diags hcl.Diagnostics) (own, evaluated hcl.Diagnostics) {
	for _, d := range diags {
		switch ci := lang.CallInputOf(d); {
		case ci == nil:
			own = append(own, d)
		case ci.PerHost:
			c.set.add(host, hcl.Diagnostics{d})
		default:
			evaluated = append(evaluated, d)
		}
	}
	return own, evaluated
}

// result returns each call input error once; one found on some of the
// call's hosts only says on which.
func (c *callDiags) result(g *Instances) hcl.Diagnostics {
	count := map[*lang.Module]int{}
	return c.set.resultOf("call", func(d *hcl.Diagnostic) int {
		m := lang.CallInputOf(d).Call
		if n, ok := count[m]; ok {
			return n
		}
		hosts := map[int32]bool{}
		for s, stp := range g.Steps {
			for in := stp.Module; in != nil; in = in.Parent {
				if in == m {
					for _, h := range g.StepHosts[s] {
						hosts[h] = true
					}
					break
				}
			}
		}
		count[m] = len(hosts)
		return len(hosts)
	})
}

// hostList names up to four hosts and counts the rest.
func hostList(hosts []string) string {
	const show = 4
	if len(hosts) <= show {
		return strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(hosts[:show], ", "), len(hosts)-show)
}
