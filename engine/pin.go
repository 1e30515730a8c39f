package engine

import (
	"fmt"
	"slices"
	"sort"

	"github.com/zclconf/go-cty/cty"
)

// Pinned is what a saved plan keeps of p for Pin: the action of every
// address it changes or destroys (Action.String()), and the digest of
// every change whose arguments are known now and hold no sensitive value
// (Change.Digest: a plan file is made to be copied and read, and an
// unsalted digest of arguments that hold a short secret would let it be
// guessed offline).
func (p *Plan) Pinned() (actions, digests map[string]string) {
	actions, digests = map[string]string{}, map[string]string{}
	for _, c := range p.Changes {
		actions[c.Addr] = c.Action.String()
		if c.Digest != "" && (c.Args == cty.NilVal || !c.Args.IsMarked() && !c.Args.ContainsMarked()) {
			digests[c.Addr] = c.Digest
		}
	}
	for _, c := range p.Destroys {
		actions[c.Addr] = c.Action.String()
	}
	return actions, digests
}

// Pin checks that p, planned again from a saved plan's inputs, is the
// saved plan (actions and digests as Pinned gave them; digests is nil for
// a plan file that kept none). It returns one line per difference,
// sorted, and none when the plans agree: an address changed or destroyed
// now that the saved plan leaves alone, one the saved plan changes that is
// not planned now, another action, other arguments.
//
// One difference is tolerated, since the plan that is pinned knows less
// than the one saved: the saved plan asked the hosts (refresh), apply
// plans again without asking. A change planned now only because its
// inputs are unknown now (Deferred: host facts or capabilities state does
// not record yet), which the saved plan, knowing them, left alone, is
// made the no-op the saved plan found, with a restart that it alone
// would cause; one the saved plan does list is compared by its action
// only (its digest is "" now). Anything else that differs means what the
// plan was made from changed.
func (p *Plan) Pin(actions, digests map[string]string) []string {
	var diff []string
	quiet := p.quiet(actions)
	planned := map[string]bool{}
	for v, c := range p.vchange {
		planned[c.Addr] = true
		want, saved := actions[c.Addr]
		switch {
		case !saved && c.Action == NoOp, quiet[v]:
		case !saved:
			diff = append(diff, fmt.Sprintf("%s: not in the saved plan, now %s", c.Addr, c.Action))
		case c.Action.String() != want:
			diff = append(diff, fmt.Sprintf("%s: saved %s, now %s", c.Addr, want, c.Action))
		case digests[c.Addr] != "" && c.Digest != "" && digests[c.Addr] != c.Digest:
			diff = append(diff, fmt.Sprintf("%s: %s with other arguments than the saved plan's", c.Addr, c.Action))
		}
	}
	for _, c := range p.Destroys {
		planned[c.Addr] = true
		if want := actions[c.Addr]; want == "" {
			diff = append(diff, fmt.Sprintf("%s: not in the saved plan, now %s", c.Addr, c.Action))
		} else if want != c.Action.String() {
			diff = append(diff, fmt.Sprintf("%s: saved %s, now %s", c.Addr, want, c.Action))
		}
	}
	for addr, want := range actions {
		if !planned[addr] {
			diff = append(diff, fmt.Sprintf("%s: saved %s, no longer planned", addr, want))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return diff
	}
	for v := range quiet {
		c := p.vchange[v]
		c.Action, c.Reason, c.Restart, c.Deferred, c.Prev = NoOp, "", "", false, cty.NilVal
		p.Actions[v] = NoOp
		delete(p.restarts, v)
	}
	p.collect()
	return nil
}

// quiet are the changes Pin makes no-ops: those planned only because
// their inputs are unknown now that the saved plan (actions) leaves
// alone, and the services that change only to restart for them.
func (p *Plan) quiet(actions map[string]string) map[int32]bool {
	quiet := map[int32]bool{}
	for v, c := range p.vchange {
		if _, saved := actions[c.Addr]; !saved && c.Action == Update && c.Deferred {
			quiet[v] = true
		}
	}
	// A service restarted only by another such service: until no more.
	for more := true; more; {
		more = false
		for v, rp := range p.restarts {
			if quiet[v] || !rp.only || rp.pending != "" || len(rp.triggers) == 0 ||
				slices.ContainsFunc(rp.triggers, func(t int32) bool { return !quiet[t] }) {
				continue
			}
			if _, saved := actions[p.vchange[v].Addr]; !saved {
				quiet[v], more = true, true
			}
		}
	}
	return quiet
}
