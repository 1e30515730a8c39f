package engine

import (
	"fmt"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ownedPaths names, per kind, the argument holding a path on the host that
// only one step may own: two file steps writing one file would each undo
// the other's content at every apply (and restart what names them), two
// mount steps at one target would fight over it (a mount is never
// stacked). Neither Terraform nor Ansible notices this; validate does.
var ownedPaths = map[string]struct{ arg, verb string }{
	"file":  {"path", "write the file"},
	"mount": {"target", "mount at"},
}

// claim is one step's evaluation of an owned path on some of its hosts.
type claim struct {
	step   int
	hosts  []int32
	hidden bool // the path is sensitive in this step
}

// pathClaims gathers, while validate evaluates the steps, which steps own
// which known paths on which hosts, and reports two steps owning one path
// on a host they share, at the second step's argument.
type pathClaims struct {
	g      *Instances
	claims map[string][]claim // by kind and path
}

// add records that step s (stp) evaluated args on hosts, and returns the
// conflicts with steps recorded before it. The path of a sensitive step
// (or one made from a sensitive value) is compared, never shown.
func (c *pathClaims) add(s int, stp *lang.Step, args cty.Value, hosts []int32, sensitive bool) hcl.Diagnostics {
	owned, ok := ownedPaths[stp.Kind]
	if !ok || len(hosts) == 0 {
		return nil
	}
	args, top := args.Unmark()
	if !args.IsKnown() || args.IsNull() || !args.Type().IsObjectType() || !args.Type().HasAttribute(owned.arg) {
		return nil
	}
	p, marks := args.GetAttr(owned.arg).UnmarkDeep()
	if !p.IsKnown() || p.IsNull() || p.Type() != cty.String {
		return nil
	}
	key := stp.Kind + "\x00" + p.AsString()
	_, hidden := marks[lang.Sensitive]
	_, hiddenAll := top[lang.Sensitive]
	hidden = hidden || hiddenAll || sensitive
	if c.claims == nil {
		c.claims = map[string][]claim{}
	}
	// The hosts each earlier step shares with this one: a step evaluated
	// host by host has a claim per host.
	var others []int
	shared := map[int][]int32{}
	show := !hidden
	for _, o := range c.claims[key] {
		if o.step == s {
			continue // its own hosts, evaluated one by one
		}
		if both := sharedHosts(o.hosts, hosts); len(both) > 0 {
			if shared[o.step] == nil {
				others = append(others, o.step)
			}
			shared[o.step] = append(shared[o.step], both...)
			show = show && !o.hidden
		}
	}
	path := fmt.Sprintf("%q", p.AsString())
	if !show {
		path = "(sensitive)"
	}
	var diags hcl.Diagnostics
	for _, o := range others {
		// A step evaluated host by host reports on its host; the
		// diagnostics' merge names the hosts (diagSet).
		on := ""
		if !stp.UsesHost {
			names := make([]string, len(shared[o]))
			for i, h := range shared[o] {
				names[i] = c.g.Hosts[h].Name
			}
			on = " on " + hostList(names)
		}
		other := c.g.Steps[o]
		rng := stp.ArgRange(owned.arg)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Two steps %s %s", owned.verb, path),
			Detail: fmt.Sprintf("%s (%s) and %s both %s %s%s: each apply would undo the other's work, "+
				"and neither would ever be settled. Give each its own %s (a module's variable, when the same module is called twice), "+
				"or run them on hosts that do not overlap.",
				other.Addr(), declaredAt(other), stp.Addr(), owned.verb, path, on, owned.arg),
			Subject: &rng,
		})
	}
	c.claims[key] = appendClaim(c.claims[key], claim{step: s, hosts: hosts, hidden: hidden})
	return diags
}

// appendClaim adds cl to claims, into the last claim when that is the same
// step's: a step evaluated host by host (up to maxHostChecks hosts) then
// holds one claim with all its hosts, and a later step compares with it
// once, not once per host.
func appendClaim(claims []claim, cl claim) []claim {
	if n := len(claims); n > 0 && claims[n-1].step == cl.step && claims[n-1].hidden == cl.hidden {
		last := &claims[n-1]
		last.hosts = append(last.hosts[:len(last.hosts):len(last.hosts)], cl.hosts...)
		return claims
	}
	return append(claims, cl)
}

// declaredAt says where a step is written, and where its module is
// called: "main.hcl:12", or "modules/x/main.hcl:4, called at main.hcl:20".
func declaredAt(stp *lang.Step) string {
	at := fmt.Sprintf("%s:%d", stp.DeclRange.Filename, stp.DeclRange.Start.Line)
	if m := stp.Module; m != nil {
		at += fmt.Sprintf(", called at %s:%d", m.CallRange.Filename, m.CallRange.Start.Line)
	}
	return at
}

// sharedHosts is the hosts in both a and b, in a's order.
func sharedHosts(a, b []int32) []int32 {
	in := make(map[int32]bool, len(b))
	for _, h := range b {
		in[h] = true
	}
	var out []int32
	for _, h := range a {
		if in[h] {
			out = append(out, h)
		}
	}
	return out
}
