package engine

import (
	"fmt"
	"sort"
)

// Pin makes the plan do exactly the saved actions (address → Action.String()):
// anything the saved plan did not list becomes a no-op, and an address it
// listed that this plan does not produce — or produces with another action —
// makes the saved plan stale.
func (p *Plan) Pin(saved map[string]string) error {
	seen := map[string]bool{}
	var stale []string
	for v, c := range p.vchange {
		want, ok := saved[c.Addr]
		switch {
		case !ok:
			c.Action = NoOp
			p.Actions[v] = NoOp
		case c.Action.String() != want:
			stale = append(stale, fmt.Sprintf("%s: saved %s, now %s", c.Addr, want, c.Action))
		}
		seen[c.Addr] = true
	}
	kept := p.Destroys[:0]
	for _, c := range p.Destroys {
		if saved[c.Addr] == Destroy.String() {
			kept = append(kept, c)
		}
		seen[c.Addr] = true
	}
	p.Destroys = kept
	for addr := range saved {
		if !seen[addr] {
			stale = append(stale, addr+": no longer planned")
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		return fmt.Errorf("the saved plan no longer matches the recipe and state:\n  %s", joinLines(stale))
	}
	p.collect()
	return nil
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n  "
		}
		out += s
	}
	return out
}
