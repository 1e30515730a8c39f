package engine

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"diffuser/cloud"
	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// ReachRefresher is a Refresher that can say how a recorded host is
// reached now (cloud.Reacher). Plan asks a host refresh found Rerouted
// for its facts and its steps' checks the new way, and apply runs a
// destroy command on it the new way: the recorded way may no longer work
// (a rotated key, sshd moved to another port), and must not be tried in
// its place.
type ReachRefresher interface {
	// Reaches says whether a host of provider (a host's Provider) may
	// be reached another way than recorded (its provider is a
	// cloud.Reacher): ReachNow asks only those, so that a destroy of
	// 100,000 docker hosts makes no call per host.
	Reaches(provider string) bool
	Reach(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Host, error)
}

// Identifier is a Refresher that can tell whether the machine recorded
// as old answers the way now says (its provider found it
// cloud.Readdressed: now is old reached as the provider names it now, its
// pinned host key kept): the workspace reads the host key answering there
// and compares it with the pinned one. why says what answered, for the
// plan: the machine, its address and its key.
type Identifier interface {
	Identify(ctx context.Context, old, now *state.Host) (same bool, why string)
}

// otherMachine is the status refresh gives a Readdressed host that
// another machine answers for where it is named now, or none: it is
// replaced, but not gone (its recorded machine may still answer the
// recorded way: a replacement step's drain runs there).
const otherMachine cloud.Status = "other machine"

// refreshed is what refresh found of recorded hosts, by name.
type refreshed struct {
	status map[string]cloud.Status
	// now: how each host found Rerouted (or proven Moved) is reached now.
	now map[string]*state.Host
	// why: what answered a Readdressed host where it is named now.
	why map[string]string
}

// refreshHosts asks the provider about the recorded hosts of names,
// concurrently, with the spec spec gives each; a host whose status is
// unknown (an error, no spec) is left out. For each host it finds
// cloud.Rerouted it also says how the host is reached now, when r is a
// ReachRefresher: the record with the reach the provider reports now
// (rereached). A host it finds cloud.Readdressed is asked who it is
// (identify).
func refreshHosts(ctx context.Context, r Refresher, st *state.State, names []string, spec func(sh *state.Host) (cloud.HostSpec, bool)) refreshed {
	out := refreshed{status: map[string]cloud.Status{}, now: map[string]*state.Host{}, why: map[string]string{}}
	if r == nil {
		return out
	}
	specs, asked := specsOf(st, names, spec)
	var mu sync.Mutex
	eachHost(len(names), func(i int) {
		if !asked[i] {
			return
		}
		s, h, why, err := hostNow(ctx, r, st, specs[i], st.Hosts[names[i]])
		if err != nil {
			return // unknown: keep what state says
		}
		mu.Lock()
		defer mu.Unlock()
		out.status[names[i]] = s
		if h != nil {
			out.now[names[i]] = h
		}
		if why != "" {
			out.why[names[i]] = why
		}
	})
	return out
}

// hostNow is the status of recorded host sh, how it is reached now when
// it is the same machine reached another way (h), and what answered a
// Readdressed host (why). An error leaves the status unknown.
func hostNow(ctx context.Context, r Refresher, st *state.State, sp cloud.HostSpec, sh *state.Host) (s cloud.Status, h *state.Host, why string, err error) {
	if s, err = r.HostStatus(ctx, sp, sh); err != nil {
		return "", nil, "", err
	}
	rr, ok := r.(ReachRefresher)
	if s != cloud.Rerouted && s != cloud.Readdressed || !ok {
		if s == cloud.Readdressed {
			s, why = otherMachine, "named at another address, port or user now"
		}
		return s, nil, why, nil
	}
	ch, err := rr.Reach(ctx, sp, sh)
	if err != nil {
		return "", nil, "", err // as unknown: plan and apply go by state
	}
	s, h, why = reachedAs(ctx, r, st, sh, s, ch)
	return s, h, why, nil
}

// reachedAs is what hostNow says of recorded host sh, found Rerouted or
// Readdressed (s), which its provider reaches as ch now.
func reachedAs(ctx context.Context, r Refresher, st *state.State, sh *state.Host, s cloud.Status, ch cloud.Host) (cloud.Status, *state.Host, string) {
	h, why := rereached(sh, ch, st.Hosts), ""
	if s == cloud.Readdressed {
		s, why = identify(ctx, r, sh, h, ch.PrivateIP != sh.PrivateIP || ch.PublicIP != sh.PublicIP)
	}
	if s == otherMachine {
		h = nil
	}
	return s, h, why
}

// identify says what a Readdressed host old is, reached as now: Rerouted
// when the machine with its pinned host key answers there, Moved when it
// does at other addresses than recorded (moved), else otherMachine
// (another key, no answer, no Identifier to ask).
func identify(ctx context.Context, r Refresher, old, now *state.Host, moved bool) (cloud.Status, string) {
	id, ok := r.(Identifier)
	if !ok {
		return otherMachine, "named at another address, port or user now"
	}
	same, why := id.Identify(ctx, old, now)
	switch {
	case !same:
		return otherMachine, why
	case moved:
		return cloud.Moved, why
	default:
		return cloud.Rerouted, why
	}
}

// rereached is recorded host old reached as ch says (a cloud.Rerouted
// host, or a Readdressed one, to be identified: only how it is connected
// to changes): the same machine, so its pinned host key and those state
// pins for its jump hosts stay, and so do its addresses, facts, volumes
// and digest. Only apply's launch records it.
func rereached(old *state.Host, ch cloud.Host, hosts map[string]*state.Host) *state.Host {
	h := *old
	h.SSH = stateSSH(ch)
	h.SSH.HostKey = old.SSH.HostKey
	h.Attrs = ch.Attrs
	PinJumpKeys(&h, hosts)
	return &h
}

// refreshSpec is the spec refresh hands the provider for the host of
// slot recorded on provider, with its group's settings.
func (l *Loaded) refreshSpec(cluster string, slot HostSlot, provider string, settings cty.Value) cloud.HostSpec {
	return cloud.HostSpec{Cluster: cluster, Group: slot.Group, Index: slot.Index, Name: slot.Name,
		Hostname: lang.Hostname(slot.Group, slot.Index), Count: l.Counts[slot.Group], Settings: settings, Provider: provider}
}

// specsOf is the spec of each recorded host of names, and whether it has
// one (spec's second result; a name state does not record has none).
// They are made one at a time: settings are not evaluated concurrently.
func specsOf(st *state.State, names []string, spec func(sh *state.Host) (cloud.HostSpec, bool)) ([]cloud.HostSpec, []bool) {
	specs, ok := make([]cloud.HostSpec, len(names)), make([]bool, len(names))
	for i, name := range names {
		if sh := st.Hosts[name]; sh != nil {
			specs[i], ok[i] = spec(sh)
		}
	}
	return specs, ok
}

// ReachNow says how every host of st that its provider finds rerouted
// (cloud.Rerouted, or Readdressed and proven the same machine by its
// host key) is reached now, by name, through opt.Refresh (a
// ReachRefresher) and opt.Settings: what verify, bench and destroy reach
// such a host through before apply records it. Hosts it leaves out are
// reached as recorded. Only a host its provider reports reached another
// way than recorded (cloud.Reacher: static) is asked its status, and
// only a host whose provider Reaches another way is asked how it is
// reached: the hosts of other providers cost no call.
func (l *Loaded) ReachNow(ctx context.Context, opt PlanOptions, st *state.State) map[string]*state.Host {
	rr, ok := opt.Refresh.(ReachRefresher)
	if !ok || opt.Settings == nil {
		return nil
	}
	var names []string
	for name, sh := range st.Hosts {
		if rr.Reaches(sh.Provider) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	type groupSettings struct {
		v  cty.Value
		ok bool
	}
	settings := map[string]groupSettings{} // evaluated once a group, not once a host
	specs, asked := specsOf(st, names, func(sh *state.Host) (cloud.HostSpec, bool) {
		gs, seen := settings[sh.Group]
		if !seen {
			v, d := opt.Settings(sh.Group)
			gs = groupSettings{v, !d.HasErrors()}
			settings[sh.Group] = gs
		}
		return l.refreshSpec(opt.Cluster, HostSlot{Name: sh.Name, Group: sh.Group, Index: sh.Index}, sh.Provider, gs.v), gs.ok
	})
	now := map[string]*state.Host{}
	var mu sync.Mutex
	eachHost(len(names), func(i int) {
		sh := st.Hosts[names[i]]
		if !asked[i] {
			return
		}
		ch, err := rr.Reach(ctx, specs[i], sh)
		if err != nil || reflect.DeepEqual(ch, CloudHost(sh)) {
			return // reached as recorded
		}
		// As hostNow, with the reach just asked for.
		s, err := opt.Refresh.HostStatus(ctx, specs[i], sh)
		if err != nil || s != cloud.Rerouted && s != cloud.Readdressed {
			return
		}
		s, h, _ := reachedAs(ctx, opt.Refresh, st, sh, s, ch)
		if h == nil || s != cloud.Rerouted && s != cloud.Moved {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		now[names[i]] = h
	})
	return now
}

// eachHost runs f(i) for i in [0, n), for as many hosts at once as
// refresh asks (32), and returns when every call has. Each f is bounded
// by its own context: none is left unstarted.
func eachHost(n int, f func(i int)) {
	eachBounded(context.Background(), 32, n, f)
}

// reachedNow is the record of host name to connect through: how plan
// found it reached now when refresh found it rerouted and apply has not
// recorded it again since (h is still the record plan saw), else h.
func (p *Plan) reachedNow(h *state.Host) *state.Host {
	if now := p.reach[h.Name]; now != nil && now.ProviderID == h.ProviderID && now.Launched.Equal(h.Launched) {
		cp := *now
		cp.SSH.HostKey = h.SSH.HostKey // learned since plan, perhaps
		return &cp
	}
	return h
}

// findGone asks opt.Refresh the status of each recorded host on which a
// destroy of the plan would connect to undo a step instance (a destroy
// command, a kind's own undo), and records those whose machine is gone
// (cloud.Missing): apply forgets their instances without connecting.
// Connecting to a machine that no longer exists retries for minutes,
// once per instance; asking its provider is one call per host. Hosts
// with nothing to undo are not asked (a destroy of many hosts without
// destroy commands makes no call per host). A status it cannot learn
// (an error) is unknown: apply tries to connect.
func (p *Plan) findGone(ctx context.Context, opt PlanOptions, st *state.State) {
	if opt.Refresh == nil || opt.NoRefresh {
		return
	}
	seen := map[string]bool{}
	var names []string
	for _, c := range p.Destroys {
		inst := st.Steps[c.Addr]
		if c.Kind == "launch" || seen[c.Host] || st.Hosts[c.Host] == nil || inst == nil || !p.Loaded.undoable(*inst) {
			continue
		}
		seen[c.Host] = true
		names = append(names, c.Host)
	}
	if len(names) == 0 {
		return
	}
	slices.Sort(names)
	settings := map[string]cty.Value{} // evaluated once a group, not once a host
	specs, _ := specsOf(st, names, func(sh *state.Host) (cloud.HostSpec, bool) {
		v, seen := settings[sh.Group]
		if !seen {
			v = cty.EmptyObjectVal
			if opt.Settings != nil {
				if sv, d := opt.Settings(sh.Group); !d.HasErrors() {
					v = sv
				}
			}
			settings[sh.Group] = v
		}
		return p.Loaded.refreshSpec(opt.Cluster, HostSlot{Name: sh.Name, Group: sh.Group, Index: sh.Index}, sh.Provider, v), true
	})
	var mu sync.Mutex
	eachHost(len(names), func(i int) {
		sh := st.Hosts[names[i]]
		if s, err := opt.Refresh.HostStatus(ctx, specs[i], sh); err != nil || s != cloud.Missing {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		p.setGone(sh)
	})
	for _, c := range p.Destroys {
		if inst := st.Steps[c.Addr]; c.Kind != "launch" && inst != nil && st.Hosts[c.Host] != nil &&
			p.foundGone(st.Hosts[c.Host]) && p.Loaded.undoable(*inst) {
			c.HostGone = true
		}
	}
}

// setGone records that refresh found the machine of sh gone.
func (p *Plan) setGone(sh *state.Host) {
	if p.goneRec == nil {
		p.goneRec = map[string]*state.Host{}
	}
	p.goneRec[sh.Name] = sh
}

// foundGone says whether refresh found the machine of host h gone, h
// being still the record refresh saw (not the host launched since in its
// place).
func (p *Plan) foundGone(h *state.Host) bool {
	rec := p.goneRec[h.Name]
	return rec != nil && rec.ProviderID == h.ProviderID && rec.Launched.Equal(h.Launched)
}
