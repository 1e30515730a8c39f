package engine

import (
	"fmt"
	"path"
	"slices"
	"sync"

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
	if len(hosts) == 0 {
		return
	}
	key, written, hidden, ok := ownedKey(stp.Kind, args)
	if !ok {
		return
	}
	hidden = hidden || sensitive
	if c.claims == nil {
		c.claims = map[string][]claim{}
	}
	for _, o := range c.claims[key] {
		if o.step == s {
			continue // its own hosts, evaluated one by one
		}
		if both := sharedHosts(o.hosts, hosts); len(both) > 0 {
			c.note(o.step, key, written, hidden || o.hidden, both)
		}
	}
	c.claims[key] = appendClaim(c.claims[key], claim{step: s, hosts: hosts, hidden: hidden})
}

// ownedKey is the kind and path (cleaned: "/srv/a/" and "/srv//a" are
// /srv/a) that arguments of kind own, the path as written, and whether it
// is sensitive; ok is false for a kind that owns no path, or a path not
// known yet.
func ownedKey(kind string, args cty.Value) (key, written string, hidden, ok bool) {
	owned, found := ownedPaths[kind]
	if !found {
		return "", "", false, false
	}
	args, top := args.Unmark()
	if !args.IsKnown() || args.IsNull() || !args.Type().IsObjectType() || !args.Type().HasAttribute(owned.arg) {
		return "", "", false, false
	}
	p, marks := args.GetAttr(owned.arg).UnmarkDeep()
	if !p.IsKnown() || p.IsNull() || p.Type() != cty.String {
		return "", "", false, false
	}
	_, hidden = marks[lang.Sensitive]
	_, hiddenAll := top[lang.Sensitive]
	return kind + "\x00" + path.Clean(p.AsString()), p.AsString(), hidden || hiddenAll, true
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
	var diags hcl.Diagnostics
	for _, f := range c.found {
		slices.Sort(f.hosts)
		names := make([]string, len(f.hosts))
		for i, h := range f.hosts {
			names[i] = c.g.Hosts[h].Name
		}
		diags = append(diags, claimConflict(c.g.Steps[f.other], stp, f.path, f.hidden, names))
	}
	c.found = c.found[:0]
	return diags
}

// claimConflict is the error for steps other and stp both owning written
// on hosts, placed at stp's argument (for a step of a built-in module, at
// what the user wrote that sets it: UserArgRange).
func claimConflict(other, stp *lang.Step, written string, hidden bool, hosts []string) *hcl.Diagnostic {
	owned := ownedPaths[stp.Kind]
	shown := fmt.Sprintf("%q", written)
	if hidden {
		shown = "(sensitive)"
	}
	rng := stp.UserArgRange(owned.arg)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Two steps %s %s", owned.verb, shown),
		Detail: fmt.Sprintf("%s (%s) and %s both %s %s on %s: each apply would undo the other's work, "+
			"and neither would ever be settled. Give each its own %s (a module's variable, when the same module is called twice), "+
			"or run them on hosts that do not overlap.",
			other.Addr(), declaredAt(other), stp.Addr(), owned.verb, shown, hostList(hosts), owned.arg),
		Subject: &rng,
	}
}

// planClaims finds two steps owning one path on a host among the planned
// instances: what validate could not see, because the path reads a host
// fact or validate checked only some hosts of a large group. A path only
// apply knows (made from a capture) is claimed there (liveClaims).
func (p *Plan) planClaims() hcl.Diagnostics {
	g := p.Loaded.Graph
	claims := pathClaims{g: g}
	var diags hcl.Diagnostics
	for s, stp := range g.Steps {
		if _, ok := ownedPaths[stp.Kind]; !ok || g.GroupRun[s] {
			continue
		}
		for i, h := range g.StepHosts[s] {
			if c := p.vchange[g.StepVertex(s, i)]; c != nil {
				claims.add(s, stp, c.Args, []int32{h}, false)
			}
		}
		diags = append(diags, lang.Annotate(claims.conflicts(stp), stp.Module)...)
	}
	return diags
}

// liveClaims holds, during an apply, which step owns which path on which
// host: every path the plan knew, and each path apply learns as an
// instance's arguments are evaluated. A second step claiming one fails
// before it touches the host.
type liveClaims struct {
	mu     sync.Mutex
	seeded bool
	owner  map[liveClaim]int // the step owning it
}

type liveClaim struct {
	host int32
	key  string
}

// take claims the path step s's arguments own on host h, or returns the
// error naming the step that owns it already.
func (c *liveClaims) take(p *Plan, s int, h int32, args cty.Value) error {
	g := p.Loaded.Graph
	stp := g.Steps[s]
	key, written, hidden, ok := ownedKey(stp.Kind, args)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.seeded {
		c.seed(p)
	}
	at := liveClaim{h, key}
	other, taken := c.owner[at]
	if !taken || other == s {
		c.owner[at] = s
		return nil
	}
	d := claimConflict(g.Steps[other], stp, written, hidden, []string{g.Hosts[h].Name})
	return fmt.Errorf("%s: %s", d.Summary, d.Detail)
}

// seed claims every path the plan knew, whether its instance runs in this
// apply or not.
func (c *liveClaims) seed(p *Plan) {
	c.seeded = true
	c.owner = map[liveClaim]int{}
	g := p.Loaded.Graph
	for s, stp := range g.Steps {
		if _, ok := ownedPaths[stp.Kind]; !ok || g.GroupRun[s] {
			continue
		}
		for i, h := range g.StepHosts[s] {
			if ch := p.vchange[g.StepVertex(s, i)]; ch != nil {
				if key, _, _, ok := ownedKey(stp.Kind, ch.Args); ok {
					c.owner[liveClaim{h, key}] = s
				}
			}
		}
	}
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
