package engine

import (
	"fmt"
	"path"
	"slices"

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

// claim is one step's evaluation of an owned path on some of its hosts
// (ascending).
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
	found  []conflict         // the step being evaluated's, until conflicts
}

// conflict is the hosts on which the step being evaluated owns a path an
// earlier step (other) owns too.
type conflict struct {
	other  int
	key    string // kind and path
	path   string // as the step being evaluated writes it
	hidden bool
	hosts  []int32
}

// add records that step s (stp) evaluated args on hosts (ascending), and
// notes where an earlier step owns the same path on one of them; conflicts
// reports those once the step's evaluations are done. The path of a
// sensitive step (or one made from a sensitive value) is compared, never
// shown.
func (c *pathClaims) add(s int, stp *lang.Step, args cty.Value, hosts []int32, sensitive bool) {
	owned, ok := ownedPaths[stp.Kind]
	if !ok || len(hosts) == 0 {
		return
	}
	args, top := args.Unmark()
	if !args.IsKnown() || args.IsNull() || !args.Type().IsObjectType() || !args.Type().HasAttribute(owned.arg) {
		return
	}
	p, marks := args.GetAttr(owned.arg).UnmarkDeep()
	if !p.IsKnown() || p.IsNull() || p.Type() != cty.String {
		return
	}
	// One path however it is written: "/srv/a/" and "/srv//a" are /srv/a.
	key := stp.Kind + "\x00" + path.Clean(p.AsString())
	_, hidden := marks[lang.Sensitive]
	_, hiddenAll := top[lang.Sensitive]
	hidden = hidden || hiddenAll || sensitive
	if c.claims == nil {
		c.claims = map[string][]claim{}
	}
	for _, o := range c.claims[key] {
		if o.step == s {
			continue // its own hosts, evaluated one by one
		}
		if both := sharedHosts(o.hosts, hosts); len(both) > 0 {
			c.note(o.step, key, p.AsString(), hidden || o.hidden, both)
		}
	}
	c.claims[key] = appendClaim(c.claims[key], claim{step: s, hosts: hosts, hidden: hidden})
}

// note adds hosts to the conflict of the step being evaluated with step
// other over key: a step evaluated host by host meets one other step on
// several of its hosts, and several other steps on different ones.
func (c *pathClaims) note(other int, key, written string, hidden bool, hosts []int32) {
	for i := range c.found {
		if f := &c.found[i]; f.other == other && f.key == key {
			f.hosts = append(f.hosts, hosts...)
			f.hidden = f.hidden || hidden
			return
		}
	}
	c.found = append(c.found, conflict{other: other, key: key, path: written, hidden: hidden, hosts: slices.Clone(hosts)})
}

// conflicts returns an error per earlier step that owns a path stp owns on
// a host both run on, naming the hosts, and forgets them.
func (c *pathClaims) conflicts(stp *lang.Step) hcl.Diagnostics {
	owned := ownedPaths[stp.Kind]
	var diags hcl.Diagnostics
	for _, f := range c.found {
		shown := fmt.Sprintf("%q", f.path)
		if f.hidden {
			shown = "(sensitive)"
		}
		slices.Sort(f.hosts)
		names := make([]string, len(f.hosts))
		for i, h := range f.hosts {
			names[i] = c.g.Hosts[h].Name
		}
		other := c.g.Steps[f.other]
		rng := stp.ArgRange(owned.arg)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Two steps %s %s", owned.verb, shown),
			Detail: fmt.Sprintf("%s (%s) and %s both %s %s on %s: each apply would undo the other's work, "+
				"and neither would ever be settled. Give each its own %s (a module's variable, when the same module is called twice), "+
				"or run them on hosts that do not overlap.",
				other.Addr(), declaredAt(other), stp.Addr(), owned.verb, shown, hostList(names), owned.arg),
			Subject: &rng,
		})
	}
	c.found = c.found[:0]
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

// sharedHosts is the hosts in both a and b (each ascending), ascending:
// each host of the shorter is looked up in the longer, so that a step
// evaluated host by host compares each of its hosts with a step on
// 100,000 in a few steps, not 100,000.
func sharedHosts(a, b []int32) []int32 {
	if len(a) > len(b) {
		a, b = b, a
	}
	var out []int32
	for _, h := range a {
		if _, ok := slices.BinarySearch(b, h); ok {
			out = append(out, h)
		}
	}
	return out
}
