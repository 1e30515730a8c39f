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

// refreshHosts asks the provider about the recorded hosts of names,
// concurrently, with the spec spec gives each; a host whose status is
// unknown (an error, no spec) is left out. For each host it finds
// cloud.Rerouted it also returns how the host is reached now, when r is
// a ReachRefresher: the record with the reach the provider reports now
// (rereached).
func refreshHosts(ctx context.Context, r Refresher, st *state.State, names []string, spec func(sh *state.Host) (cloud.HostSpec, bool)) (map[string]cloud.Status, map[string]*state.Host) {
	status, now := map[string]cloud.Status{}, map[string]*state.Host{}
	if r == nil {
		return status, now
	}
	rr, _ := r.(ReachRefresher)
	specs, asked := specsOf(st, names, spec)
	var mu sync.Mutex
	eachHost(len(names), func(i int) {
		if !asked[i] {
			return
		}
		sh, sp := st.Hosts[names[i]], specs[i]
		s, err := r.HostStatus(ctx, sp, sh)
		if err != nil {
			return // unknown: keep what state says
		}
		var h *state.Host
		if s == cloud.Rerouted && rr != nil {
			ch, err := rr.Reach(ctx, sp, sh)
			if err != nil {
				return // as unknown: plan and apply go by state
			}
			h = rereached(sh, ch, st.Hosts)
		}
		mu.Lock()
		defer mu.Unlock()
		status[names[i]] = s
		if h != nil {
			now[names[i]] = h
		}
	})
	return status, now
}

// rereached is recorded host old reached as ch says (a cloud.Rerouted
// host: its addresses stay): the same machine, so its pinned host key and
// those state pins for its jump hosts stay, and so do its facts, volumes
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
// (cloud.Rerouted) is reached now, by name, through opt.Refresh (a
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
		if s, err := opt.Refresh.HostStatus(ctx, specs[i], sh); err != nil || s != cloud.Rerouted {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		now[names[i]] = rereached(sh, ch, st.Hosts)
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
