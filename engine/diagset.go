package engine

import (
	"fmt"
	"strings"

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
		if host != "" {
			e.hosts = append(e.hosts, host)
		}
	}
}

// result returns each problem once, in the order first seen. instances is
// how many hosts the step has: a problem found on fewer says on which.
func (s *diagSet) result(instances int) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(s.order))
	for _, k := range s.order {
		e := s.seen[k]
		d := e.d
		if n := len(e.hosts); n > 0 && n < instances {
			cp := *d
			cp.Detail = strings.TrimSpace(fmt.Sprintf("%s (On %s of the step's %d hosts.)", d.Detail, hostList(e.hosts), instances))
			d = &cp
		}
		out = append(out, d)
	}
	return out
}

// hostList names up to four hosts and counts the rest.
func hostList(hosts []string) string {
	const show = 4
	if len(hosts) <= show {
		return strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(hosts[:show], ", "), len(hosts)-show)
}
