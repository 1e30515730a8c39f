package engine

import (
	"context"
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
	specs := make([]cloud.HostSpec, len(names)) // asked for one at a time: settings are not evaluated concurrently
	asked := make([]bool, len(names))
	for i, name := range names {
		if sh := st.Hosts[name]; sh != nil {
			specs[i], asked[i] = spec(sh)
		}
	}
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

// ReachNow says how every host of st that the provider finds rerouted
// (cloud.Rerouted) is reached now, by name, through opt.Refresh (a
// ReachRefresher) and opt.Settings: what verify, bench and destroy
// reach such a host through before apply records it. Hosts it leaves
// out are reached as recorded.
func (l *Loaded) ReachNow(ctx context.Context, opt PlanOptions, st *state.State) map[string]*state.Host {
	names := make([]string, 0, len(st.Hosts))
	for n := range st.Hosts {
		names = append(names, n)
	}
	_, now := refreshHosts(ctx, opt.Refresh, st, names, func(sh *state.Host) (cloud.HostSpec, bool) {
		if opt.Settings == nil {
			return cloud.HostSpec{}, false
		}
		v, d := opt.Settings(sh.Group)
		if d.HasErrors() {
			return cloud.HostSpec{}, false
		}
		return l.refreshSpec(opt.Cluster, HostSlot{Name: sh.Name, Group: sh.Group, Index: sh.Index}, sh.Provider, v), true
	})
	return now
}

// eachHost runs f(i) for i in [0, n), for as many hosts at once as
// refresh asks (32), and returns when every call has.
func eachHost(n int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
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
