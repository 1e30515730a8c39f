package workspace

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strings"

	"diffuser/cloud"
	"diffuser/cloud/multi"
	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

// A cluster over several providers: the site file's top-level
// `hosts "GROUP" { provider = P }` blocks put host groups on providers
// other than the workspace's (ws.Provider: -provider, remembered, or the
// site's default_provider). Each provider key ("static", "aws.east") has
// its own factory and settings block; the engine records every host under
// its key, and cloud/multi routes each host's calls to its provider.

// ProviderOf is the provider key the hosts of group run on.
func (ws *Workspace) ProviderOf(group string) string {
	if ws.simulated {
		return ws.Provider
	}
	return ws.Site.ProviderKey(group, ws.Provider)
}

// Multi says whether some host group runs on another provider than the
// workspace's.
func (ws *Workspace) Multi() bool {
	for _, g := range ws.Loaded.Graph.Groups {
		if ws.ProviderOf(g) != ws.Provider {
			return true
		}
	}
	return false
}

// ProviderKeys lists the provider keys the recipe's groups use, the
// workspace's provider first.
func (ws *Workspace) ProviderKeys() []string {
	seen := map[string]bool{ws.Provider: true}
	var rest []string
	for _, g := range ws.Loaded.Graph.Groups {
		if k := ws.ProviderOf(g); !seen[k] {
			seen[k] = true
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append([]string{ws.Provider}, rest...)
}

// factoryFor is the factory of provider key ("aws" for "aws.east").
func (ws *Workspace) factoryFor(key string) (cloud.Factory, error) {
	if key == ws.Provider && ws.factory != nil {
		return ws.factory, nil
	}
	all := ws.env.factories()
	f, ok := all[lang.ProviderBase(key)]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q: use one of %v", key, providerNames(all))
	}
	return f, nil
}

// checkGroupProviders refuses, at load, a hosts block naming an unknown
// provider or a group the recipe does not have.
func (ws *Workspace) checkGroupProviders() error {
	if ws.Site == nil || ws.simulated {
		return nil
	}
	for _, g := range ws.Site.Groups {
		if ws.Loaded.Recipe.Group(g.Group) == nil {
			return fmt.Errorf("%s: the site file puts host group %q on provider %s, but recipe %s has no such group (its groups: %v)",
				g.DeclRange, g.Group, g.Provider, ws.Loaded.Recipe.Name, ws.Loaded.Graph.Groups)
		}
		if _, err := ws.factoryFor(g.Provider); err != nil {
			return fmt.Errorf("%s: %w", g.ProviderRange, err)
		}
	}
	return nil
}

// newProviders starts one provider per key that the recipe's groups or
// the state's hosts use and routes between them.
func (ws *Workspace) newProviders(ctx context.Context, keys cloud.Keys) (cloud.Provider, error) {
	want := ws.ProviderKeys()
	if ws.State != nil {
		for _, h := range ws.State.Hosts {
			if h.Provider != "" && !contains(want, h.Provider) {
				want = append(want, h.Provider)
			}
		}
	}
	m, egress, err := ws.startProviders(ctx, keys, want)
	if err != nil {
		return nil, err
	}
	return m, ws.trackPeers(m, egress)
}

// startProviders starts the providers of keys want (the first is the
// default) with their site settings, and says which of them egress from
// their hosts' public addresses.
func (ws *Workspace) startProviders(ctx context.Context, keys cloud.Keys, want []string) (*multi.Providers, map[string]bool, error) {
	abs, _ := filepath.Abs(ws.Dir)
	by := map[string]cloud.Provider{}
	egress := map[string]bool{}
	for _, key := range want {
		f, err := ws.factoryFor(key)
		if err != nil {
			return nil, nil, err
		}
		var pb *lang.ProviderBlock
		if ws.Site != nil {
			pb = ws.Site.Providers[key]
		}
		settings, diags := pb.Settings(f.Spec(), "")
		if diags.HasErrors() {
			return nil, nil, &DiagError{Files: ws.Files, Diags: diags}
		}
		log := ws.env.log()
		p, err := f.New(ctx, settings, cloud.Env{Keys: keys, WorkDir: abs, Log: func(format string, args ...any) {
			fmt.Fprintf(log, "["+key+"] "+format+"\n", args...)
		}})
		if err != nil {
			return nil, nil, fmt.Errorf("starting provider %s: %w", key, err)
		}
		by[key] = p
		if e, ok := f.(cloud.Egress); ok {
			egress[key] = e.EgressFromPublicIP(settings)
		}
	}
	if len(want) == 0 {
		return nil, nil, errors.New("no provider to start")
	}
	m, err := multi.New(want[0], by)
	return m, egress, err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stateOnOtherProviders says whether state records a host on another
// provider than the workspace's (a cluster over several providers whose
// site no longer says so is refused by checkHostsProvider; destroy still
// needs every provider).
func (ws *Workspace) stateOnOtherProviders() bool {
	if ws.State == nil || ws.simulated {
		return false
	}
	for _, h := range ws.State.Hosts {
		if h.Provider != "" && h.Provider != ws.Provider {
			return true
		}
	}
	return false
}

// reachSettings is the union of the settings of every provider in use
// that only say how hosts are reached (cloud.ReachSettings), and of those
// of them that launch digests once held (cloud.FormerReachSettings), with
// what hosts' records say those were (every provider's view merged: each
// names only its own settings).
func (ws *Workspace) reachSettings() (reach, former []string, recorded func([]cloud.Host, int, cty.Value) map[string][]cty.Value) {
	var recorders []func([]cloud.Host, int, cty.Value) map[string][]cty.Value
	for _, key := range ws.ProviderKeys() {
		f, err := ws.factoryFor(key)
		if err != nil {
			continue
		}
		if r, ok := f.(cloud.ReachSettings); ok {
			for _, s := range r.ReachSettings() {
				if !contains(reach, s) {
					reach = append(reach, s)
				}
			}
		}
		if r, ok := f.(cloud.FormerReachSettings); ok {
			for _, s := range r.FormerReachSettings() {
				if !contains(former, s) {
					former = append(former, s)
				}
			}
			recorders = append(recorders, r.RecordedReach)
		}
	}
	if len(recorders) > 0 {
		recorded = func(group []cloud.Host, index int, present cty.Value) map[string][]cty.Value {
			out := map[string][]cty.Value{}
			for _, r := range recorders {
				maps.Copy(out, r(group, index, present))
			}
			return out
		}
	}
	return reach, former, recorded
}

// stateProviders counts the providers state's hosts run on.
func (ws *Workspace) stateProviders() int {
	seen := map[string]bool{}
	for _, h := range ws.State.Hosts {
		seen[h.Provider] = true
	}
	return len(seen)
}

// routed says whether hosts go through cloud/multi and are recorded under
// their provider key: several providers, or one aliased provider
// (-provider aws.east), whose key is not the provider's name.
func (ws *Workspace) routed() bool {
	return !ws.simulated && (ws.Multi() || strings.Contains(ws.Provider, "."))
}
