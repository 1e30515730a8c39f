package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"diffuser/facts"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// FactRefresher is a Refresher that can also ask a host for its facts
// (package facts). Plan refreshes facts only through one. Without
// devices it asks only for the others (facts.GatherStable: no lsblk on
// the host) and returns no devices.
type FactRefresher interface {
	Facts(ctx context.Context, h *state.Host, devices bool) (facts.Facts, error)
}

// Reasons of a launch planned only to record facts: the host stays as it
// is, apply asks it again and records what it says.
const (
	reasonFactsMissing = "host facts not recorded yet"
	reasonFactsChanged = "host facts changed: "
	// reasonCapsMissing: facts recorded before diffuser gathered
	// capabilities. Not drift: nothing changed on the host.
	reasonCapsMissing = "host facts not recorded yet: capabilities"
)

// factsCache maps the facts JSON state records to `host.facts`. The
// nil cache decodes every time.
type factsCache struct {
	mu sync.Mutex
	m  map[string]cty.Value
}

// val is `host.facts` for recorded facts raw: cty.NilVal (unknown) when
// there are none or they do not decode.
func (c *factsCache) val(raw []byte) cty.Value {
	if len(raw) == 0 {
		return cty.NilVal
	}
	if c != nil {
		c.mu.Lock()
		v, ok := c.m[string(raw)]
		c.mu.Unlock()
		if ok {
			return v
		}
	}
	v := cty.NilVal
	if f, ok := facts.Decode(raw); ok {
		v = lang.FactsVal(f)
	}
	if c != nil {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]cty.Value{}
		}
		c.m[string(raw)] = v
		c.mu.Unlock()
	}
	return v
}

// recordedFacts are a recorded host's facts; false when state holds none.
func recordedFacts(h *state.Host) (facts.Facts, bool) {
	if h == nil {
		return facts.Facts{}, false
	}
	return facts.Decode(h.Facts)
}

// refreshFacts asks every recorded host whose launch is a no-op, or only
// records how it is reached now (rerouted: asked that way), for its facts,
// concurrently. A host that does not answer keeps what state says.
// A host whose facts state records is not asked for its devices: a
// refresh that finds only the devices changed plans nothing (stable), so
// lsblk would be run on every host by every plan for nothing.
//
// A rerouted host that does not answer the way it is reached now is
// named in a warning: apply's launch will fail the same way.
func (p *Plan) refreshFacts(ctx context.Context, opt PlanOptions, st *state.State) (map[string]facts.Facts, hcl.Diagnostics) {
	out := map[string]facts.Facts{}
	fr, ok := opt.Refresh.(FactRefresher)
	if !ok {
		return out, nil
	}
	unreached := map[string]error{}
	g := p.Loaded.Graph
	var mu sync.Mutex
	eachHost(len(g.Hosts), func(h int) {
		slot := g.Hosts[h]
		sh := st.Hosts[slot.Name]
		if sh == nil || (p.Actions[g.LaunchV[h]] != NoOp && !p.rerouted[h]) {
			return
		}
		_, had := recordedFacts(sh)
		now := p.reachedNow(sh)
		f, err := fr.Facts(ctx, now, !had)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && p.rerouted[h]:
			unreached[slot.Name] = fmt.Errorf("%s: %w", describeReach(*now), err)
		case err == nil:
			out[slot.Name] = f
		}
	})
	p.unreached = map[string]bool{}
	for name := range unreached {
		p.unreached[name] = true
	}
	return out, unreachedWarnings(unreached)
}

// unreachedWarnings are one warning per rerouted host that did not
// answer the way it is reached now, in name order.
func unreachedWarnings(unreached map[string]error) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(unreached)) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
			Summary: fmt.Sprintf("%s does not answer the new way", name),
			Detail: fmt.Sprintf("Refresh found %s reached another way now (the site file or ssh config changed) and asked it that way: %v. "+
				"Apply records the new way only once the host answers it, and reaches it no other way: make the machine accept it, or put the site file (or ssh config) back.",
				name, unreached[name])})
	}
	return diags
}

// planFacts turns no-op launches of hosts whose facts are missing from
// state, or changed (found by refresh), into launches that only gather
// and record facts (Change.GatherFacts). It returns what recipes see as
// each host's facts in this plan: what refresh found, else what state
// recorded, else unknown.
func (p *Plan) planFacts(ctx context.Context, opt PlanOptions, st *state.State) ([]factsView, hcl.Diagnostics) {
	g := p.Loaded.Graph
	fresh := map[string]facts.Facts{}
	var diags hcl.Diagnostics
	if opt.Refresh != nil {
		fresh, diags = p.refreshFacts(ctx, opt, st)
	}
	views := make([]factsView, len(g.Hosts))
	type decoded struct {
		f  facts.Facts
		ok bool
	}
	seen := map[string]decoded{} // hosts of one image record the same facts
	for h, slot := range g.Hosts {
		v := g.LaunchV[h]
		c := p.vchange[v]
		sh := st.Hosts[slot.Name]
		if c == nil || sh == nil || (c.Action != NoOp && !p.rerouted[h]) {
			continue
		}
		d, ok := seen[string(sh.Facts)]
		if !ok {
			d.f, d.ok = recordedFacts(sh)
			seen[string(sh.Facts)] = d
		}
		old, had := d.f, d.ok
		now, asked := fresh[slot.Name]
		// A rerouted host is launched again, which gathers its facts anew:
		// its view is worked out as any host's, but its launch stays what
		// it is (an update recording how it is reached).
		gather := func(reason string) {
			if !p.rerouted[h] {
				c.Action, c.Reason, c.GatherFacts = Update, reason, true
			}
		}
		switch {
		case asked && !had:
			gather(reasonFactsMissing)
			views[h] = factsView{f: now, known: true}
		case asked && !old.CapabilitiesRecorded() && stable(now).Equal(stable(withCaps(old, now))):
			// Recorded before capabilities were a fact, and nothing else
			// changed: recorded now; steps that do not read them keep
			// their digests.
			now.Devices = old.Devices
			gather(reasonCapsMissing)
			views[h] = factsView{f: now, known: true}
		case asked && !stable(now).Equal(stable(old)):
			// The refresh did not ask for the devices: what state has
			// until the facts-only launch records them anew.
			now.Devices = old.Devices
			if !p.rerouted[h] { // a rerouted launch is counted already
				p.Drift++
			}
			gather(reasonFactsChanged + factsDiff(old, now) + " (found by refresh)")
			views[h] = factsView{f: now, known: true, changed: factsDiff(old, now)}
		case had && !old.CapabilitiesRecorded():
			// Not asked: the capabilities are known after apply, which
			// records them; the other facts are what state says.
			gather(reasonCapsMissing)
			views[h] = factsView{f: old, known: true, raw: sh.Facts}
		case had:
			views[h] = factsView{f: old, known: true, raw: sh.Facts}
		default: // not asked, none recorded: apply gathers them
			gather(reasonFactsMissing)
		}
		p.Actions[v] = c.Action
	}
	return views, diags
}

// stable is f without its devices. Devices change as recipes format and
// mount them (and a container sees its machine's loop devices come and
// go), so a refresh that finds only the devices changed plans nothing:
// they are what the host had when its facts were last recorded (at launch,
// or by a facts-only launch planned for another reason).
func stable(f facts.Facts) facts.Facts {
	f.Devices = nil
	return f
}

// withCaps is f with the capabilities of o.
func withCaps(f, o facts.Facts) facts.Facts {
	f.Capabilities = o.Capabilities
	return f
}

// factsView is what a plan knows of one host's facts.
type factsView struct {
	f       facts.Facts
	known   bool
	changed string // what refresh found different from state; "" when nothing
	// raw is the JSON state recorded when f is what it says: hosts of one
	// image record the same, decoded once (factsCache).
	raw []byte
}

// factsDiff names the facts that differ: "os.version_id 12 → 13, cores 2 → 4".
func factsDiff(a, b facts.Facts) string {
	var out []string
	add := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %s → %s", name, orNone(x), orNone(y)))
		}
	}
	add("os.id", a.OS.ID, b.OS.ID)
	add("os.version_id", a.OS.VersionID, b.OS.VersionID)
	add("os.family", a.OS.Family, b.OS.Family)
	add("os.name", a.OS.Name, b.OS.Name)
	add("os.id_like", strings.Join(a.OS.IDLike, " "), strings.Join(b.OS.IDLike, " "))
	add("arch", a.Arch, b.Arch)
	add("package_arch", a.PackageArch, b.PackageArch)
	add("cores", fmt.Sprint(a.Cores), fmt.Sprint(b.Cores))
	add("memory_mb", fmt.Sprint(a.MemoryMB), fmt.Sprint(b.MemoryMB))
	if a.CapabilitiesRecorded() {
		add("capabilities", strings.Join(a.Capabilities, " "), strings.Join(b.Capabilities, " "))
	}
	if len(out) == 0 {
		out = append(out, "devices")
	}
	return strings.Join(out, ", ")
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// gatherFacts asks a launched host for its facts and records them.
func (a *applier) gatherFacts(ctx context.Context, h *state.Host, r runner.Runner) error {
	if err := askFacts(ctx, h, r); err != nil {
		return err
	}
	return a.putHost(*h)
}

// askFacts asks a launched host for its facts and puts them in *h,
// recording nothing.
func askFacts(ctx context.Context, h *state.Host, r runner.Runner) error {
	f, err := facts.Gather(ctx, r)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	h.Facts = f.Encode()
	return nil
}
