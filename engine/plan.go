package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/remote"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Action is what a plan does to one vertex.
type Action uint8

const (
	NoOp Action = iota
	Create
	Update
	Replace
	Destroy
	Start // a stopped host is started again
)

// Symbol is the plan's one-character mark, as in Terraform.
func (a Action) Symbol() string {
	return [...]string{" ", "+", "~", "-/+", "-", "~"}[a]
}

func (a Action) String() string {
	return [...]string{"no-op", "create", "update", "replace", "destroy", "start"}[a]
}

// Change is one planned action on a launch or a step instance (or, for
// destroys, on something only state knows).
type Change struct {
	V        int32 // vertex; -1 for destroys
	Addr     string
	Kind     string // step kind, or "launch"
	Step     string
	Host     string
	Group    string
	Action   Action
	Reason   string
	Args     cty.Value // evaluated arguments; may hold unknown and sensitive values
	Digest   string    // "" while inputs are unknown
	Deferred bool      // inputs known only at apply: apply re-checks and may find nothing to do
	Data     []string  // volumes whose data a replace destroys
	// GatherFacts marks a launch planned only to ask the host for its facts
	// and record them (none recorded, or refresh found them changed): the
	// provider is not called and the host stays as it is.
	GatherFacts bool
	// Restart is "restart" or "reload" when a service instance restarts
	// (reloads) because a step in its restart_on (reload_on) changes, or
	// an earlier apply left the restart pending; "" otherwise.
	Restart string
	// Prev is what an updated instance (or one replaced without changing
	// its kind) was last applied with, decoded from state; cty.NilVal for
	// other actions and when state has none (a sensitive step's arguments
	// are never recorded).
	Prev cty.Value
	// Note is, on a launch that replaces a recorded machine, its group's
	// replace_note: what happens to the data (lang/replace.go).
	Note string
	// NewDestroy is set (DestroyChanged) on a no-op instance whose destroy
	// command, known at plan, is not the one state records: nothing runs,
	// but an apply that renames the instance for a moved block records
	// it, since the step it moved to is another step.
	NewDestroy     string
	DestroyChanged bool
	// HandedTo is, on the destroy of a step instance whose host stays, the
	// instance of the recipe that owns on that host the file, mount target
	// or service this one owned (a call or step renamed without a moved
	// block): its undo is not run, since the destroy phase comes after the
	// changes and would undo the new instance's work. HandedOver says so.
	HandedTo, HandedOver string
	// HostGone is set on the destroy of a step instance whose host refresh
	// found gone (findGone): apply forgets it without connecting, so its
	// undo does not run. GoneNote says so.
	HostGone bool
}

// GoneNote is what plan shows of a destroy whose host is gone.
func (c *Change) GoneNote() string {
	if !c.HostGone {
		return ""
	}
	return fmt.Sprintf("its host %s is gone (found by refresh): forgotten without undoing it", c.Host)
}

// Plan is the diff of a loaded recipe against state.
type Plan struct {
	Loaded   *Loaded
	Provider string
	Lineage  string
	Serial   uint64
	Actions  []Action  // per vertex
	Changes  []*Change // every vertex that is not a no-op, in topological order
	Destroys []*Change // in state, not in the recipe (or everything, for destroy)
	Drift    int       // changes found by refresh
	// DestroyAll is set for `diffuser destroy`: everything in state goes.
	DestroyAll bool
	// Workspace names the workspace in the commands the plan suggests
	// (PlanOptions.Workspace); "" for WORKSPACE.
	Workspace string
	// Cleanup is set for `diffuser destroy` of a workspace that was ever
	// applied: once no host is left, the provider is asked to remove
	// whatever it tagged with the cluster (leftover instances, volumes,
	// security group, key pair, network), even when state holds no host
	// (a first launch that failed or was killed before it was recorded).
	Cleanup bool
	// Targets are the -target addresses of a targeted destroy; each
	// destroy's Reason says whether it was targeted (ReasonTargeted) or
	// goes because it depends on, or runs on, something targeted.
	Targets []string
	// LeftOut are the changes (and removals) a plan with -target leaves
	// out: the recipe needs them, the targets do not. The cluster matches
	// the recipe only once an apply without -target has made them.
	LeftOut []string
	// leftRestart: of LeftOut, the services whose restart (or reload)
	// -target left out, by address: "restart" or "reload".
	leftRestart map[string]string
	// leftOwed: of leftRestart, how each is owed (LeftOutOwed).
	leftOwed map[string]string
	// Moves are the recorded instances the recipe's moved blocks rename;
	// the plan was made as if they were renamed already.
	Moves      []Move
	vchange    map[int32]*Change
	digests    []string // per vertex, known launch/step digests
	launchDg   []string // per host: desired launch digest
	settings   []cty.Value
	settingsFn func(group string) (cty.Value, hcl.Diagnostics)
	// restartLinks: per step instance, the services its change restarts;
	// restarts: the planned restart of each service instance.
	restartLinks map[int32][]restartLink
	restarts     map[int32]*restartPlan
	// keptOld: step replacements made updates because another instance
	// has what the old one made (planKeptOld): that instance's address.
	keptOld map[int32]string
	// groupProvider is PlanOptions.GroupProvider (nil: one provider).
	groupProvider func(group string) string
	// owed: per replaced host, the replacement step instances it makes
	// run (recorded as owed before the old machine is destroyed).
	owed map[int32][]int32
	// drains: per replaced host whose old machine may still be there, the
	// replacement steps whose drain runs on it before it is destroyed.
	drains map[int32][]int32
	// gone: per host, refresh found its machine gone (nothing to drain).
	gone []bool
	// rerouted: per host, launched again only to record how it is reached
	// (cloud.Rerouted): what steps read of it is known at plan.
	rerouted []bool
	// reach: by name, how the hosts refresh found rerouted are reached
	// now (ReachRefresher): refresh asks them that way, and apply's
	// destroys reach them that way until their launch records it.
	reach map[string]*state.Host
	// unreached: the rerouted hosts that did not answer the new way when
	// refresh asked for their facts (warned about): their steps are not
	// asked too, each to fail the same way.
	unreached map[string]bool
	// goneRec: by name, the records of the hosts whose machine refresh
	// found gone (cloud.Missing): apply forgets their step instances
	// without connecting to undo them (foundGone).
	goneRec map[string]*state.Host
}

// reasonGone is the reason of a launch whose machine refresh found gone.
const reasonGone = "host is gone (found by refresh)"

// Counts returns add, change and destroy counts (replace counts as add and destroy).
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update, Start:
			change++
		case Replace:
			add++
			destroy++
		}
	}
	return add, change, destroy + len(p.Destroys)
}

// HasChanges says whether applying would do anything.
func (p *Plan) HasChanges() bool {
	return len(p.Changes) > 0 || len(p.Destroys) > 0 || p.Cleanup || len(p.Moves) > 0
}

// Refresher asks the world whether what state records still holds.
type Refresher interface {
	HostStatus(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Status, error)
	Check(ctx context.Context, h *state.Host, kind steps.Kind, args cty.Value) (steps.Check, error)
}

// PlanOptions steer Plan.
type PlanOptions struct {
	State    *state.State
	Provider string
	// Settings returns a host group's provider settings (site file merged).
	Settings func(group string) (cty.Value, hcl.Diagnostics)
	Replace  []string // host names ("server[1]") or instance addresses to recreate
	// Targets limit the plan to these addresses and what they need; with
	// Destroy, to these addresses and what depends on them.
	Targets []string
	Destroy bool // plan to destroy everything in state (or what Targets name)
	Refresh Refresher
	// NoRefresh, with Destroy (-refresh=false): Refresh is asked only how
	// rerouted hosts are reached now (ReachNow), not which hosts are
	// gone (findGone).
	NoRefresh bool
	// Cluster is the provider-visible cluster name (for specs handed to Refresh).
	Cluster string
	// Workspace names the workspace in the commands errors suggest
	// (diffuser state list NAME); "" writes WORKSPACE.
	Workspace string
	// ReachSettings name the settings that say only how hosts are reached
	// (cloud.ReachSettings): they stay out of the launch digest.
	ReachSettings []string
	// FormerReachSettings are those of ReachSettings that launch digests
	// once held (cloud.FormerReachSettings): a host recorded with a digest
	// holding them at their present values plans as its own, not replaced.
	FormerReachSettings []string
	// RecordedReach says what the recorded hosts of a group (by index)
	// say the FormerReachSettings of the one at index may have been at
	// launch, the group's settings being present now
	// (cloud.FormerReachSettings).
	RecordedReach func(group []cloud.Host, index int, present cty.Value) map[string][]cty.Value
	// GroupProvider, when set, names the provider key each host group runs
	// on (a cluster over several providers; providers.go); nil means every
	// group runs on Provider.
	GroupProvider func(group string) string
}

func launchDigest(provider string, settings cty.Value, reach []string, sizes map[string]int, types map[string]string) string {
	h := sha256.New()
	h.Write([]byte(provider))
	settings = withoutAttrs(settings, reach)
	if settings != cty.NilVal && settings.IsWhollyKnown() {
		b, _ := ctyjson.Marshal(settings, settings.Type())
		h.Write(b)
	}
	names := make([]string, 0, len(sizes))
	for n := range sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "\x00%s=%d", n, sizes[n])
		if t := types[n]; t != "" { // only when set: digests of untyped volumes stay as they were
			fmt.Fprintf(h, ":%s", t)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// formerDigest says whether sh's digest is a launch digest it got while
// some of opt's FormerReachSettings were still digested, each at its
// present value or at one its record gives (opt.RecordedReach): recorded
// before they became reach settings, the host is the same, and a change
// of one of them since is found by refresh, as for any reach setting.
// They left the digest in their order, so a digest holds a suffix of
// them: each is tried.
func formerDigest(st *state.State, sh *state.Host, provider string, settings cty.Value, opt PlanOptions, sizes map[string]int, types map[string]string) bool {
	if len(opt.FormerReachSettings) == 0 || settings == cty.NilVal || settings.IsNull() || !settings.IsKnown() || !settings.Type().IsObjectType() {
		return false
	}
	var reach, former []string
	for _, r := range opt.FormerReachSettings {
		if slices.Contains(opt.ReachSettings, r) && settings.Type().HasAttribute(r) {
			former = append(former, r)
		}
	}
	for _, r := range opt.ReachSettings {
		if !slices.Contains(opt.FormerReachSettings, r) {
			reach = append(reach, r)
		}
	}
	var recorded map[string][]cty.Value
	if opt.RecordedReach != nil {
		recorded = opt.RecordedReach(recordedGroup(st, sh.Group), sh.Index, settings)
	}
	present := settings.AsValueMap()
	choices := make([][]cty.Value, len(former))
	for i, name := range former {
		choices[i] = []cty.Value{present[name]}
		for _, rv := range recorded[name] {
			if cv, err := convert.Convert(rv, present[name].Type()); err == nil && !cv.RawEquals(present[name]) {
				choices[i] = append(choices[i], cv)
			}
		}
	}
	for start := range former {
		out := append(slices.Clone(reach), former[:start]...)
		if anyChoice(former[start:], choices[start:], present, func(m map[string]cty.Value) bool {
			return sh.Digest == launchDigest(provider, cty.ObjectVal(m), out, sizes, types)
		}) {
			return true
		}
	}
	return false
}

// recordedGroup is every host st records in group, by index (a zero Host
// where it records none).
func recordedGroup(st *state.State, group string) []cloud.Host {
	var out []cloud.Host
	for _, h := range st.Hosts {
		if h.Group != group || h.Index < 0 {
			continue
		}
		for len(out) <= h.Index {
			out = append(out, cloud.Host{})
		}
		out[h.Index] = CloudHost(h)
	}
	return out
}

// anyChoice says whether match holds for present with the named settings
// at some combination of their choices (an odometer over choices).
func anyChoice(names []string, choices [][]cty.Value, present map[string]cty.Value, match func(map[string]cty.Value) bool) bool {
	pick := make([]int, len(names))
	for {
		m := maps.Clone(present)
		for i, name := range names {
			m[name] = choices[i][pick[i]]
		}
		if match(m) {
			return true
		}
		i := 0
		for ; i < len(pick); i++ {
			if pick[i]++; pick[i] < len(choices[i]) {
				break
			}
			pick[i] = 0
		}
		if i == len(pick) {
			return false
		}
	}
}

// withoutAttrs is the object v without the named attributes.
func withoutAttrs(v cty.Value, names []string) cty.Value {
	if len(names) == 0 || v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return v
	}
	m := v.AsValueMap()
	for _, n := range names {
		delete(m, n)
	}
	return cty.ObjectVal(m)
}

// HostInfoFromState turns a recorded host into what recipes see.
func HostInfoFromState(slot HostSlot, h *state.Host) lang.HostInfo {
	return hostInfo(slot, h, nil)
}

// hostInfo is HostInfoFromState with decoded facts shared through cache
// (nil: none): hosts of one image tell the same facts, and apply rebuilds
// every host value once per generation.
func hostInfo(slot HostSlot, h *state.Host, cache *factsCache) lang.HostInfo {
	info := lang.HostInfo{Name: slot.Name, Group: slot.Group, Index: slot.Index, Hostname: lang.Hostname(slot.Group, slot.Index),
		Volumes: map[string]lang.VolumeInfo{}}
	if h == nil {
		return info
	}
	info.PrivateIP, info.PublicIP = cty.StringVal(h.PrivateIP), cty.StringVal(h.PublicIP)
	info.Facts = cache.val(h.Facts)
	info.Provider = cty.StringVal(h.Provider)
	for n, v := range h.Volumes {
		info.Volumes[n] = lang.VolumeInfo{Device: cty.StringVal(v.Device), SizeGB: v.SizeGB}
	}
	return info
}

// Plan diffs the recipe against state.
func (l *Loaded) Plan(ctx context.Context, opt PlanOptions) (*Plan, hcl.Diagnostics) {
	st := opt.State
	if st == nil {
		st = state.New("")
	}
	g := l.Graph
	p := &Plan{Loaded: l, Provider: opt.Provider, Workspace: opt.Workspace, Lineage: st.Lineage, Serial: st.Serial,
		Actions: make([]Action, g.NumVertices()), vchange: map[int32]*Change{},
		digests: make([]string, g.NumVertices()), launchDg: make([]string, len(g.Hosts)),
		settings: make([]cty.Value, len(g.Groups)), settingsFn: opt.Settings, groupProvider: opt.GroupProvider}
	var diags hcl.Diagnostics
	st, p.Moves, diags = movedState(st, l.Recipe.Moved)
	if diags.HasErrors() {
		return p, diags
	}
	if opt.Destroy {
		// Destroy commands reach a rerouted host the way it is reached now.
		p.reach = l.ReachNow(ctx, opt, st)
	}
	if opt.Destroy && len(opt.Targets) > 0 {
		diags := p.planDestroyTargets(st, opt.Targets, opt.Workspace)
		if !diags.HasErrors() {
			p.findGone(ctx, opt, st)
		}
		return p, diags
	}
	if opt.Destroy {
		p.planDestroyAll(st)
		p.findGone(ctx, opt, st)
		return p, nil
	}
	replace := map[string]bool{}
	for _, r := range opt.Replace {
		replace[r] = true
	}
	if d := checkReplace(g, opt.Replace); d.HasErrors() {
		return p, d
	}
	for gi, grp := range g.Groups {
		p.settings[gi] = cty.EmptyObjectVal
		if opt.Settings != nil {
			v, d := opt.Settings(grp)
			diags = append(diags, d...)
			p.settings[gi] = v
		}
	}
	if diags.HasErrors() {
		return p, diags
	}
	groupIndex := map[string]int{}
	for gi, grp := range g.Groups {
		groupIndex[grp] = gi
	}

	// Launches first: their actions decide which host facts are known.
	known := make([]bool, len(g.Hosts))
	names := make([]string, len(g.Hosts))
	for h, slot := range g.Hosts {
		names[h] = slot.Name
	}
	found := refreshHosts(ctx, opt.Refresh, st, names, func(sh *state.Host) (cloud.HostSpec, bool) {
		slot := g.Hosts[g.HostIdx[sh.Name]]
		return l.refreshSpec(opt.Cluster, slot, sh.Provider, p.settings[groupIndex[slot.Group]]), true
	})
	hostStatus := found.status
	p.reach = found.now
	for name, s := range hostStatus {
		if sh := st.Hosts[name]; sh != nil && s == cloud.Missing {
			p.setGone(sh)
		}
	}
	p.gone = make([]bool, len(g.Hosts))
	p.rerouted = make([]bool, len(g.Hosts))
	for h, slot := range g.Hosts {
		v := g.LaunchV[h]
		prov := opt.providerOf(slot.Group)
		dg := launchDigest(prov, p.settings[groupIndex[slot.Group]], opt.ReachSettings, l.Sizes[slot.Group], l.VolTypes[slot.Group])
		p.launchDg[h] = dg
		sh := st.Hosts[slot.Name]
		c := &Change{V: v, Addr: g.Addr(v), Kind: "launch", Host: slot.Name, Group: slot.Group, Digest: dg}
		p.gone[h] = sh != nil && hostStatus[slot.Name] == cloud.Missing
		switch {
		case sh == nil:
			c.Action, c.Reason = Create, ""
		case sh.Provider != prov:
			c.Action, c.Reason = Replace, fmt.Sprintf("provider changes from %s to %s", sh.Provider, prov)
		case sh.Digest != dg && !formerDigest(st, sh, prov, p.settings[groupIndex[slot.Group]], opt, l.Sizes[slot.Group], l.VolTypes[slot.Group]):
			c.Action, c.Reason = Replace, "host settings or volume sizes changed"
		case replace[slot.Name]:
			c.Action, c.Reason = Replace, "replacement requested with -replace"
		case hostStatus[slot.Name] == cloud.Missing:
			c.Action, c.Reason = Replace, reasonGone
			p.Drift++
		case hostStatus[slot.Name] == cloud.Stopped:
			c.Action, c.Reason = Start, "host is stopped (found by refresh)"
			p.Drift++
		case hostStatus[slot.Name] == otherMachine:
			// Not gone: the recorded machine may still answer the
			// recorded way, and a replacement step's drain runs there.
			c.Action, c.Reason = Replace, found.why[slot.Name]+" (found by refresh)"
			p.Drift++
		case hostStatus[slot.Name] == cloud.Moved:
			// Launch again records the new way; its addresses may change,
			// so what reads them is known after apply.
			c.Action, c.Reason = Update, "reached another way now: ssh settings changed (found by refresh)"
			if why := found.why[slot.Name]; why != "" {
				c.Reason = "moved: " + why + " (found by refresh)"
			}
			p.Drift++
		case hostStatus[slot.Name] == cloud.Rerouted:
			// Launch again records it; its addresses stay, so what reads
			// them is known now.
			c.Action, c.Reason = Update, "reached or set up another way now, at the same addresses (found by refresh)"
			if why := found.why[slot.Name]; why != "" {
				c.Reason = "reached another way now, at the same addresses: " + why + " (found by refresh)"
			}
			p.Drift++
		default:
			c.Action = NoOp
		}
		if c.Action == Replace && sh != nil {
			c.Data = lostVolumes(sh)
		}
		p.rerouted[h] = c.Action == Update && hostStatus[slot.Name] == cloud.Rerouted
		known[h] = c.Action == NoOp || c.Action == Start || p.rerouted[h]
		p.set(v, c)
	}

	hostFacts, factDiags := p.planFacts(ctx, opt, st)
	diags = append(diags, factDiags...)
	factsChanged := make([]string, len(g.Hosts))

	// Scope with every fact state can vouch for.
	var cache factsCache
	hostVals := make([]cty.Value, len(g.Hosts))
	scope := &lang.Scope{Recipe: l.Recipe, Vars: l.Vars, VarSources: l.VarSources, Hosts: map[string]cty.Value{}, Steps: map[string]cty.Value{}}
	for gi, grp := range l.Recipe.Groups {
		vols := grp.VolumeNames()
		vals := make([]cty.Value, len(g.GroupHosts[gi]))
		for i, h := range g.GroupHosts[gi] {
			var sh *state.Host
			if rec := st.Hosts[g.Hosts[h].Name]; known[h] && rec != nil {
				cp := *rec
				cp.Facts = nil // from hostFacts below, decoded once
				sh = &cp
			}
			info := HostInfoFromState(g.Hosts[h], sh)
			if known[h] {
				info.Facts = cty.NilVal
				switch hf := hostFacts[h]; {
				case hf.known && hf.raw != nil:
					info.Facts = cache.val(hf.raw)
				case hf.known:
					info.Facts = lang.FactsVal(hf.f)
				}
				factsChanged[h] = hostFacts[h].changed
			}
			hostVals[h] = info.Val(vols)
			vals[i] = hostVals[h]
		}
		scope.Hosts[grp.Name] = grp.ListVal(vals)
	}
	read := readSteps(l.Recipe, g.Steps)
	for s, stp := range g.Steps {
		if read[s] {
			scope.Steps[stp.Name] = stp.StepVal(p.stepHostNames(s), nil, false)
		}
	}
	// Locals are evaluated again as steps settle: each problem once.
	var localDiags diagSet
	localDiags.add("", lang.Explain(scope.EvalLocals()))

	settled := make([]bool, len(g.Steps)) // every instance is a no-op: outputs known
	replaced := p.replacedHosts(st)
	replacing := p.replaceInfos(replaced)
	sp := &stepPlanner{p: p, st: st, scope: scope, known: known, factsChanged: factsChanged, replace: replace, hostVals: hostVals,
		perStep: make([]*stepEval, len(g.Steps)), replacing: replacing, locals: &localDiags}
	for _, v := range g.Order {
		switch g.Kind[v] {
		case VJoin, VGroupRun:
			// A join reads its instances' actions and may change the
			// scope: everything queued before it is planned first.
			sp.flush()
			s := int(g.Ref[v])
			settled[s] = true
			for i := range g.StepHosts[s] {
				if p.Actions[g.StepVertex(s, i)] != NoOp {
					settled[s] = false
				}
			}
			if settled[s] && read[s] {
				scope.Steps[g.Steps[s].Name] = p.stepValFromState(st, s)
				scope.Changed()
				if len(l.Recipe.Locals) > 0 || len(l.Recipe.Modules) > 0 {
					localDiags.add("", lang.Explain(scope.EvalLocals()))
				}
			}
		case VStep:
			sp.queue(v)
		}
	}
	sp.flush()
	diags = append(diags, localDiags.result(0)...)
	diags = append(diags, sp.diagnostics()...)
	if !diags.HasErrors() {
		diags = append(diags, p.planClaims()...)
	}
	if diags.HasErrors() {
		return p, diags
	}
	if opt.Refresh != nil {
		if d := p.refreshInstances(ctx, opt, st); d.HasErrors() {
			return p, append(diags, d...)
		}
	}
	if d := p.planReplaceNotes(scope, replaced, replacing); d.HasErrors() {
		return p, append(diags, d...)
	}
	p.planKeptOld(st)
	p.planRestarts(st)
	p.planRequestedRestarts(replace)
	p.planRemovals(st)
	if len(opt.Targets) > 0 {
		diags = append(diags, p.restrict(opt.Targets)...)
	}
	p.collect()
	return p, diags
}

// prevArgs decodes the arguments state recorded for an instance with its
// kind's implied type, or returns cty.NilVal when there are none (sensitive
// steps, older state) or they no longer fit the kind.
func (l *Loaded) prevArgs(old *state.Instance) cty.Value {
	if old == nil || len(old.Args) == 0 {
		return cty.NilVal
	}
	kind := l.Kinds[old.Kind]
	if kind == nil {
		return cty.NilVal
	}
	v, err := ctyjson.Unmarshal(old.Args, hcldec.ImpliedType(kind.Schema().Spec()))
	if err != nil {
		return cty.NilVal
	}
	return v
}

func (p *Plan) set(v int32, c *Change) {
	p.Actions[v] = c.Action
	p.vchange[v] = c
}

func (p *Plan) stepHostNames(s int) []string {
	g := p.Loaded.Graph
	names := make([]string, len(g.StepHosts[s]))
	for i, h := range g.StepHosts[s] {
		names[i] = g.Hosts[h].Name
	}
	return names
}

func (p *Plan) stepValFromState(st *state.State, s int) cty.Value {
	g := p.Loaded.Graph
	names := p.stepHostNames(s)
	outs := map[string]map[string]string{}
	sensitive := false
	for _, n := range names {
		if inst := st.Steps[InstanceAddr(g.Steps[s].Name, n)]; inst != nil {
			outs[n] = inst.Outputs
			sensitive = sensitive || inst.Sensitive
		}
	}
	return g.Steps[s].StepVal(names, outs, sensitive)
}

// refreshInstances asks hosts whether declarative no-op instances still hold.
//
// A host that offers another SSH host key than the one pinned in state is
// not drift: the plan fails with one diagnostic per such host, since
// nothing it would say about that host can be trusted.
func (p *Plan) refreshInstances(ctx context.Context, opt PlanOptions, st *state.State) hcl.Diagnostics {
	g := p.Loaded.Graph
	keyChanged := map[string]*remote.HostKeyChangedError{}
	type ask struct {
		v    int32
		c    *Change
		kind steps.Kind
		sh   *state.Host
	}
	var asks []ask
	for v, c := range p.vchange {
		if c.Action != NoOp || g.Kind[v] != VStep || c.Kind == "run" {
			continue
		}
		kind := p.Loaded.Kinds[c.Kind]
		sh := st.Hosts[c.Host]
		if kind == nil || sh == nil || p.unreached[c.Host] {
			continue
		}
		launch := p.Actions[g.LaunchV[g.Ref[v]]]
		if lc := p.vchange[g.LaunchV[g.Ref[v]]]; lc != nil && lc.GatherFacts || p.rerouted[g.Ref[v]] {
			// The host stays as it is (a rerouted one is asked the way it
			// is reached now): ask it.
			launch = NoOp
		}
		switch launch {
		case NoOp:
		case Start:
			// Stopped now, so nothing can be asked before apply starts it, and
			// what held before the stop (a mount, a running daemon) may not
			// hold after it: apply checks again once the host is up and
			// repairs what does not hold (a declarative kind's Apply does only
			// what its check finds missing).
			c.Action, c.Reason = Update, "its host is started again: checked once it is up"
			p.Actions[v] = Update
			c.Prev = p.Loaded.prevArgs(st.Steps[c.Addr])
			continue
		default:
			continue // the host is gone or replaced (refresh said so): nothing to ask it
		}
		asks = append(asks, ask{v, c, kind, sh})
	}
	var mu sync.Mutex
	eachHost(len(asks), func(i int) {
		a := asks[i]
		args, marks := a.c.Args.UnmarkDeep()
		// A sensitive step's arguments, or ones holding a sensitive value,
		// are marked: what its check found (or failed on) may quote them
		// (a path made from a secret), so neither is told.
		hidden := len(marks) > 0
		chk, err := opt.Refresh.Check(ctx, p.reachedNow(a.sh), a.kind, args)
		mu.Lock()
		defer mu.Unlock()
		c := a.c
		var hk *remote.HostKeyChangedError
		switch {
		case errors.As(err, &hk):
			keyChanged[c.Host] = hk
			return
		case err != nil && hidden:
			c.Action, c.Reason = Update, reasonCannotCheckHidden
		case err != nil:
			c.Action, c.Reason = Update, "cannot check: "+firstLine(err.Error())
		case !chk.OK && hidden:
			c.Action, c.Reason = Update, reasonDriftHidden
		case !chk.OK:
			c.Action, c.Reason = Update, "drift: "+chk.Reason
		default:
			return
		}
		p.Actions[a.v] = c.Action
		c.Prev = p.Loaded.prevArgs(st.Steps[c.Addr])
		p.Drift++
	})
	hosts := make([]string, 0, len(keyChanged))
	for h := range keyChanged {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	var diags hcl.Diagnostics
	for _, h := range hosts {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Host key changed",
			Detail: keyChanged[h].Error()})
	}
	return diags
}

// The reasons of a refreshed instance whose arguments are sensitive: the
// host's answer is not quoted.
const (
	reasonDriftHidden       = "drift: the host no longer matches (details hidden: sensitive step)"
	reasonCannotCheckHidden = "cannot check: the check failed (details hidden: sensitive step)"
)

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	head, more := runner.Clip(s, maxLine)
	return head + more
}

// maxLine bounds firstLine: a failed instance's error is kept in state and
// shown by every plan, so one line of a host's answer megabytes long must
// not become that large a state.
const maxLine = 2048

// planRemovals plans destroys for what state has and the recipe no longer does.
func (p *Plan) planRemovals(st *state.State) {
	g := p.Loaded.Graph
	var steps map[string]bool // the recipe's steps, made when first asked
	hasStep := func(name string) bool {
		if steps == nil {
			steps = map[string]bool{}
			for _, stp := range g.Steps {
				steps[stp.Name] = true
			}
		}
		return steps[name]
	}
	for addr, inst := range st.Steps {
		if _, ok := p.lookupInstance(addr); ok {
			continue
		}
		reason := ReasonGone
		if m := p.Loaded.offModuleOf(inst.Step); m != nil {
			reason = m.Addr + " is turned off: " + m.OffWhere()
		} else if _, kept := g.HostIdx[inst.Host]; !kept && st.Hosts[inst.Host] != nil && hasStep(inst.Step) {
			// The step stays; its host goes (a lower count, a group
			// removed): saying the step left the recipe would mislead.
			reason = "its host " + inst.Host + " goes (host count decreased or group removed)"
		}
		p.Destroys = append(p.Destroys, &Change{V: -1, Addr: addr, Kind: inst.Kind, Step: inst.Step, Host: inst.Host,
			Group: groupOf(st, inst.Host), Action: Destroy, Reason: withoutHost(st, inst.Host, reason)})
	}
	for name, h := range st.Hosts {
		if _, ok := g.HostIdx[name]; ok {
			continue
		}
		c := &Change{V: -1, Addr: LaunchAddr(name), Kind: "launch", Host: name, Group: h.Group, Action: Destroy,
			Reason: "host count decreased or group removed"}
		c.Data = lostVolumes(h)
		p.Destroys = append(p.Destroys, c)
	}
	p.sortDestroys(p.Destroys, st)
	p.planHandOvers(st)
}

// withoutHost is the reason of the destroy of an instance on host: reason,
// or, when state records no such host, that the instance is forgotten
// without its undo (apply has no machine to run it on). diffuser leaves
// such instances when a replace destroyed the old machine and the new
// launch did not finish; a hand-edited state may hold them too.
func withoutHost(st *state.State, host, reason string) string {
	if host == "" || st.Hosts[host] != nil {
		return reason
	}
	why := fmt.Sprintf("its host %s is not in state: forgotten, its destroy command (if any) is not run", host)
	if reason == "" {
		return why
	}
	return reason + "; " + why
}

func groupOf(st *state.State, host string) string {
	if h := st.Hosts[host]; h != nil {
		return h.Group
	}
	return ""
}

// sortDestroys orders destroys: step instances before hosts; among
// instances, steps that come later in the recipe's dependency order first
// (steps no longer in the recipe before all others), then the latest
// finished first, then by address, so the order is deterministic.
func (p *Plan) sortDestroys(ds []*Change, st *state.State) {
	rank := map[string]int{}
	if g := p.Loaded.Graph; g != nil {
		for i, v := range g.Order {
			if g.Kind[v] == VStep {
				name := g.Steps[g.Step[v]].Name
				if _, ok := rank[name]; !ok {
					rank[name] = i
				}
			}
		}
	}
	rankOf := func(c *Change) int {
		if r, ok := rank[c.Step]; ok {
			return r
		}
		return math.MaxInt
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if (a.Kind == "launch") != (b.Kind == "launch") {
			return b.Kind == "launch"
		}
		if a.Kind == "launch" {
			return a.Addr < b.Addr
		}
		if ra, rb := rankOf(a), rankOf(b); ra != rb {
			return ra > rb
		}
		ta, tb := st.Steps[a.Addr].Finished, st.Steps[b.Addr].Finished
		if !ta.Equal(tb) {
			return ta.After(tb)
		}
		return a.Addr < b.Addr
	})
}

func (p *Plan) lookupInstance(addr string) (int32, bool) {
	g := p.Loaded.Graph
	step, host, ok := ParseInstanceAddr(addr)
	if !ok {
		return -1, false
	}
	h, ok := g.HostIdx[host]
	if !ok {
		return -1, false
	}
	for s, stp := range g.Steps {
		if stp.Name != step {
			continue
		}
		if i, found := slices.BinarySearch(g.StepHosts[s], h); found { // ascending
			return g.StepVertex(s, i), true
		}
	}
	return -1, false
}

// ParseInstanceAddr splits `step.NAME["HOST"]`, and
// `module.M.step.NAME["HOST"]` into the step's lang.Step.Name
// ("module.M.step.NAME") and the host.
func ParseInstanceAddr(addr string) (step, host string, ok bool) {
	rest, ok := strings.CutPrefix(addr, "step.")
	if !ok {
		if !strings.HasPrefix(addr, "module.") || !strings.Contains(addr, ".step.") {
			return "", "", false
		}
		rest = addr
	}
	name, q, ok := strings.Cut(rest, "[")
	if !ok || !strings.HasSuffix(q, "]") {
		return "", "", false
	}
	h := strings.TrimSuffix(q, "]")
	if len(h) < 2 || h[0] != '"' || h[len(h)-1] != '"' {
		return "", "", false
	}
	return name, h[1 : len(h)-1], true
}

func (p *Plan) planDestroyAll(st *state.State) {
	p.DestroyAll = true
	// A state saved once (the first apply saves it before its first
	// launch) means the provider may hold something tagged for this
	// cluster; a workspace never applied has nothing to clean up.
	p.Cleanup = st.Serial > 0 || len(st.Hosts) > 0
	for addr, inst := range st.Steps {
		p.Destroys = append(p.Destroys, &Change{V: -1, Addr: addr, Kind: inst.Kind, Step: inst.Step, Host: inst.Host,
			Group: groupOf(st, inst.Host), Action: Destroy, Reason: withoutHost(st, inst.Host, "")})
	}
	for name, h := range st.Hosts {
		c := &Change{V: -1, Addr: LaunchAddr(name), Kind: "launch", Host: name, Group: h.Group, Action: Destroy}
		c.Data = lostVolumes(h)
		p.Destroys = append(p.Destroys, c)
	}
	p.sortDestroys(p.Destroys, st)
}

// offModuleOf is the module turned off that target t names or lies in
// (the outermost), or nil.
func (l *Loaded) offModuleOf(t string) *lang.Module {
	for addr, m := range l.Off {
		if t == addr || strings.HasPrefix(t, addr+".") {
			return l.OffCause(m)
		}
	}
	return nil
}

// restrict keeps only targeted vertices and everything they depend on,
// and the removals the targets name.
func (p *Plan) restrict(targets []string) hcl.Diagnostics {
	g := p.Loaded.Graph
	keep := make([]bool, g.NumVertices())
	// Reverse adjacency, built only when targeting.
	in := make([][]int32, g.NumVertices())
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		for _, w := range g.Out(v) {
			in[w] = append(in[w], v)
		}
	}
	var stack []int32
	var diags hcl.Diagnostics
	removals := p.Destroys[:0]
	for _, c := range p.Destroys {
		if slices.ContainsFunc(targets, func(t string) bool { return matchRemoval(c, t) }) {
			removals = append(removals, c)
		} else {
			p.LeftOut = append(p.LeftOut, c.Addr)
		}
	}
	for _, t := range targets {
		found := slices.ContainsFunc(removals, func(c *Change) bool { return matchRemoval(c, t) })
		for v := int32(0); v < int32(g.NumVertices()); v++ {
			if matchTarget(g, v, t) {
				found = true
				stack = append(stack, v)
			}
		}
		if !found {
			known := map[string]bool{}
			for _, stp := range g.Steps {
				addTargetNames(known, stp.Name)
			}
			for _, h := range g.Hosts {
				known[h.Name], known["hosts."+h.Group] = true, true
			}
			if m := p.Loaded.offModuleOf(t); m != nil {
				what := fmt.Sprintf("%q is in %s, which is", t, m.Addr)
				if t == m.Addr {
					what = m.Addr + " is"
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Target turned off",
					Detail: fmt.Sprintf("%s turned off (%s): it has no instances to target. Turn the call on to deploy it.", what, m.OffWhere())})
				continue
			}
			hint := stepHostsHint(g, t)
			if hint == "" {
				hint = targetSuggestion(t, known)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown target",
				Detail: fmt.Sprintf("%q matches nothing; use %s.%s", t, targetForms, hint)})
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[v] {
			continue
		}
		keep[v] = true
		stack = append(stack, in[v]...)
	}
	for v := range keep {
		if !keep[v] {
			p.Actions[v] = NoOp
			if c := p.vchange[int32(v)]; c != nil {
				if c.Action != NoOp {
					p.LeftOut = append(p.LeftOut, c.Addr)
					if c.Restart != "" {
						if p.leftRestart == nil {
							p.leftRestart, p.leftOwed = map[string]string{}, map[string]string{}
						}
						p.leftRestart[c.Addr] = c.Restart
						p.leftOwed[c.Addr] = p.owedHow(int32(v), keep)
					}
				}
				c.Action = NoOp
			}
		}
	}
	p.Destroys = removals
	return diags
}

// matchRemoval says whether target t names c, a destroy of something the
// recipe no longer has: -target of a removed step or host destroys it, as
// in Terraform.
func matchRemoval(c *Change, t string) bool {
	if c.Kind == "launch" {
		return t == c.Host || t == c.Addr || t == "hosts."+c.Group
	}
	return t == c.Addr || TargetsStep(t, c.Step) || t == c.Host
}

func matchTarget(g *Instances, v int32, t string) bool {
	switch g.Kind[v] {
	case VLaunch:
		h := g.Hosts[g.Ref[v]]
		return t == h.Name || t == "hosts."+h.Group || t == g.Addr(v)
	case VStep:
		h := g.Hosts[g.Ref[v]]
		return t == g.Addr(v) || TargetsStep(t, g.Steps[g.Step[v]].Name) || t == h.Name
	}
	return false
}

func (p *Plan) collect() {
	g := p.Loaded.Graph
	p.Changes = p.Changes[:0]
	for _, v := range g.Order {
		if c := p.vchange[v]; c != nil && c.Action != NoOp {
			p.Changes = append(p.Changes, c)
		}
	}
}

// ChangeFor returns the change planned for vertex v (nil for joins).
func (p *Plan) ChangeFor(v int32) *Change { return p.vchange[v] }

// LeftOutRestart is "restart" or "reload" when addr, one of LeftOut, is
// a service whose restart (reload) -target left out, else "". State
// records it as owed, so the next apply without -target does it.
func (p *Plan) LeftOutRestart(addr string) string { return p.leftRestart[addr] }

// LeftOutOwed says how the restart -target left out of addr is owed:
// "targets" when a targeted step that names it changes (state records the
// debt before that step runs), "pending" when state owes it already (an
// earlier apply recorded it), "" when what would restart it is left out
// too: the next apply without -target changes that and restarts.
func (p *Plan) LeftOutOwed(addr string) string { return p.leftOwed[addr] }

// owedHow is LeftOutOwed for service instance v, keep the vertices
// -target keeps.
func (p *Plan) owedHow(v int32, keep []bool) string {
	rp := p.restarts[v]
	if rp == nil {
		return ""
	}
	for _, t := range rp.triggers {
		if keep[t] {
			return "targets"
		}
	}
	if rp.pending != "" {
		return "pending"
	}
	return ""
}

// checkReplace refuses a -replace address that names no host and no step
// instance of the recipe, as -target refuses one that matches nothing: a
// mistyped address must not plan as if nothing had been asked.
func checkReplace(g *Instances, addrs []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range addrs {
		found := false
		for _, slot := range g.Hosts {
			if slot.Name == r {
				found = true
				break
			}
		}
		for v := int32(0); !found && v < int32(g.NumVertices()); v++ {
			found = g.Addr(v) == r
		}
		if !found {
			summary := "Unknown replace address"
			detail := fmt.Sprintf("-replace %q names no host and no step instance of the recipe; use a host name such as server[0] or a step instance such as step.NAME[\"server[0]\"]%s", r, replaceHint(g, r))
			if insts := instancesOf(g, r); len(insts) > 0 {
				// A whole step or module is there: not unknown, only too much.
				summary = "Replace address names more than one instance"
				detail = fmt.Sprintf("-replace %q names a whole step or module; -replace re-runs one step instance (or replaces one host) at a time, so name each of its instances (%s).", r, listSome(insts, 3))
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail})
		}
	}
	return diags
}

// instancesOf lists, sorted, the step instances of the whole step or
// module r names (none when r is not one).
func instancesOf(g *Instances, r string) []string {
	var insts []string
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		if g.Kind[v] == VStep && TargetsStep(r, g.Steps[g.Step[v]].Name) {
			insts = append(insts, g.Addr(v))
		}
	}
	sort.Strings(insts)
	return insts
}

// listSome joins the first n of names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// replaceHint completes checkReplace's error for an address that names
// nothing: the nearest instance or host.
func replaceHint(g *Instances, r string) string {
	if h := stepHostsHint(g, r); h != "" {
		return "." + h
	}
	known := map[string]bool{}
	for v := int32(0); v < int32(g.NumVertices()); v++ {
		if g.Kind[v] == VStep {
			known[g.Addr(v)] = true
		}
	}
	for _, h := range g.Hosts {
		known[h.Name] = true
	}
	return "." + targetSuggestion(r, known)
}

// providerOf is the provider key hosts of group run on.
func (opt PlanOptions) providerOf(group string) string {
	if opt.GroupProvider != nil {
		return opt.GroupProvider(group)
	}
	return opt.Provider
}

// GroupProvider is the provider key hosts of group run on in a cluster
// over several providers, or "" when every group runs on one provider.
func (p *Plan) GroupProvider(group string) string {
	if p.groupProvider == nil {
		return ""
	}
	return p.groupProvider(group)
}

// lostVolumes are the volumes whose data goes with host h's machine when
// it is destroyed or replaced, sorted: none on the static provider, whose
// destroy forgets the machine and leaves it and its disks as they are.
func lostVolumes(h *state.Host) []string {
	if keepsMachines(h.Provider) {
		return nil
	}
	return slices.Sorted(maps.Keys(h.Volumes))
}
