package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// HostSpec is what apply hands the provider to launch (or find) the host
// in slot: cluster is the workspace's cluster name, settings the site
// file's settings for the host's group.
func (l *Loaded) HostSpec(slot HostSlot, cluster string, settings cty.Value) cloud.HostSpec {
	grp := l.Recipe.Group(slot.Group)
	var vols []cloud.VolumeSpec
	for _, vd := range grp.Volumes {
		vols = append(vols, cloud.VolumeSpec{Name: vd.Name, SizeGB: l.Sizes[slot.Group][vd.Name], Type: l.VolTypes[slot.Group][vd.Name]})
	}
	return cloud.HostSpec{Cluster: cluster, Group: slot.Group, Index: slot.Index, Count: l.Counts[slot.Group],
		Name: slot.Name, Hostname: lang.Hostname(slot.Group, slot.Index), Volumes: vols, Settings: settings}
}

// LaunchDigest is the launch digest a plan with opt (its Provider and
// ReachSettings) wants for a host of group with the group's settings: a
// host recorded with it plans as a no-op (unless refresh finds it gone or
// stopped).
func (l *Loaded) LaunchDigest(opt PlanOptions, group string, settings cty.Value) string {
	return launchDigest(opt.providerOf(group), settings, opt.ReachSettings, l.Sizes[group], l.VolTypes[group])
}

// Slot returns the recipe's host named name ("server[1]"); the error lists
// the hosts the recipe has.
func (l *Loaded) Slot(name string) (HostSlot, error) {
	g := l.Graph
	if h, ok := g.HostIdx[name]; ok {
		return g.Hosts[h], nil
	}
	var groups []string
	for _, grp := range g.Groups {
		n := l.Counts[grp]
		switch n {
		case 0:
			groups = append(groups, grp+" (no hosts)")
		case 1:
			groups = append(groups, lang.HostName(grp, 0))
		default:
			groups = append(groups, fmt.Sprintf("%s..%s", lang.HostName(grp, 0), lang.HostName(grp, n-1)))
		}
	}
	return HostSlot{}, fmt.Errorf("the recipe has no host %s; its hosts: %s", name, strings.Join(groups, ", "))
}

// RecordedHost is how state records a host the provider launched, found
// or imported for slot, with launch digest digest.
func RecordedHost(slot HostSlot, provider string, ch cloud.Host, digest string) state.Host {
	h := state.Host{Name: slot.Name, Group: slot.Group, Index: slot.Index, Provider: provider,
		ProviderID: ch.ProviderID, PrivateIP: ch.PrivateIP, PublicIP: ch.PublicIP, Attrs: ch.Attrs,
		SSH:    stateSSH(ch),
		Digest: digest, Launched: time.Now(), Volumes: map[string]state.Volume{}}
	for n, vol := range ch.Volumes {
		h.Volumes[n] = state.Volume{Device: vol.Device, ProviderID: vol.ProviderID, SizeGB: vol.SizeGB}
	}
	return h
}

// Desired is one step instance as the recipe wants it now, evaluated as
// plan and apply evaluate it: what import records once the kind's check
// holds on the host.
type Desired struct {
	Addr      string
	Step      string
	Host      string
	Kind      string
	Args      cty.Value // unmarked and wholly known
	Digest    string    // the digest the plan computed
	ArgsJSON  []byte    // as state records arguments; nil for a sensitive step
	Sensitive bool
	Destroy   string // the rendered destroy command, "" without one
}

// Desired returns the step instance at addr as plan p (made from st)
// wants it. It fails, saying what to do, when the recipe has no such
// instance, when its host is not recorded as it should be (not launched,
// or to be replaced), or when its arguments are known only at apply
// because they read work not applied yet.
func (p *Plan) Desired(st *state.State, addr string) (*Desired, error) {
	l, g := p.Loaded, p.Loaded.Graph
	step, host, ok := ParseInstanceAddr(addr)
	if !ok {
		return nil, fmt.Errorf("%q is not a step instance address: step.NAME[\"HOST\"]", addr)
	}
	v, ok := p.lookupInstance(addr)
	if !ok {
		return nil, p.noInstance(step, host)
	}
	c := p.vchange[v]
	h := g.Ref[v]
	slot := g.Hosts[h]
	switch lc := p.vchange[g.LaunchV[h]]; {
	case st.Hosts[slot.Name] == nil:
		return nil, fmt.Errorf("host %s is not in state: import it first (diffuser import RECIPE %s ID) or apply the recipe", slot.Name, slot.Name)
	case lc.Action == Replace:
		return nil, fmt.Errorf("host %s would be replaced by the next apply (%s): work found on the machine now would not be on its replacement", slot.Name, lc.Reason)
	}
	if c.Digest == "" {
		return nil, fmt.Errorf("%s: its arguments are known only at apply (they read outputs or hosts of work not applied yet): apply or import that work first", addr)
	}
	stp := g.Steps[g.Step[v]]
	sh := st.Hosts[slot.Name]
	scope := l.StateScope(st)
	args, gen, diags := scope.StepArgs(stp, HostInfoFromState(slot, sh).Val(l.Recipe.Group(slot.Group).VolumeNames()))
	if diags.HasErrors() {
		return nil, fmt.Errorf("evaluating %s: %s", addr, lang.DiagText(diags))
	}
	if gen.Sensitive {
		args = args.Mark(lang.Sensitive)
	}
	dg, js, known, marked := encodeArgs(stp.Kind, args, slot.Name, sh.ProviderID)
	if !known || dg != c.Digest {
		return nil, fmt.Errorf("%s evaluates differently against state than in the plan: apply it instead", addr)
	}
	plain, _ := args.UnmarkDeep()
	d := &Desired{Addr: addr, Step: stp.Name, Host: slot.Name, Kind: stp.Kind, Args: plain, Digest: dg, Sensitive: marked}
	if !marked {
		d.ArgsJSON = js
	}
	if dv, _ := gen.Destroy.UnmarkDeep(); !dv.IsNull() && dv.IsKnown() {
		d.Destroy = dv.AsString()
	}
	return d, nil
}

// noInstance says why the recipe has no instance of step on host.
func (p *Plan) noInstance(step, host string) error {
	g := p.Loaded.Graph
	for s, stp := range g.Steps {
		if stp.Name != step {
			continue
		}
		names := p.stepHostNames(s)
		if len(names) > 8 {
			names = append(names[:8], "...")
		}
		return fmt.Errorf("step %s does not run on %s; it runs on %s", step, host, strings.Join(names, ", "))
	}
	names := make([]string, 0, len(g.Steps))
	for _, stp := range g.Steps {
		names = append(names, stp.Name)
	}
	sort.Strings(names)
	return fmt.Errorf("the recipe has no step %q; its steps: %s", step, strings.Join(names, ", "))
}
