package workspace

import (
	"fmt"
	"sort"

	"diffuser/cloud"

	"github.com/hashicorp/hcl/v2"
)

// Reachability across providers. Hosts of one provider key share its
// network and reach each other at private_ip; a host of another provider
// reaches them only when their provider says they accept connections from
// outside (cloud.Exposure): docker containers never do, static hosts
// behind a jump host do not, aws instances do unless launched without a
// public address. A step that runs on group A and reads the hosts of
// group B (an address, to connect to it) needs A to reach B: the plan
// warns, naming both, when it cannot.

// reachWarnings are the warnings for every step whose hosts read a group
// they cannot reach. One warning per (step, on group, read group).
func (ws *Workspace) reachWarnings() hcl.Diagnostics {
	if ws.simulated || !ws.Multi() {
		return nil
	}
	var diags hcl.Diagnostics
	exposed := map[string]string{} // group -> why not ("" = reachable)
	why := func(group string) string {
		if r, ok := exposed[group]; ok {
			return r
		}
		r := ""
		if f, err := ws.factoryFor(ws.ProviderOf(group)); err == nil {
			if e, ok := f.(cloud.Exposure); ok {
				if v, d := ws.Settings(group); !d.HasErrors() {
					if ok, reason := e.Exposed(v); !ok {
						r = reason
					}
				}
			}
		}
		exposed[group] = r
		return r
	}
	for _, s := range ws.Loaded.Recipe.Steps {
		for _, on := range stepOnGroups(s.On) {
			for _, ref := range s.RefGroups {
				from, to := ws.ProviderOf(on), ws.ProviderOf(ref.Name)
				if ref.Name == on || from == to {
					continue
				}
				reason := why(ref.Name)
				if reason == "" {
					continue
				}
				rng := ref.Range
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
					Summary: fmt.Sprintf("Host group %s cannot reach host group %s", on, ref.Name),
					Detail: fmt.Sprintf("step.%s runs on hosts.%s (provider %s) and reads hosts.%s (provider %s), so it will connect to them; "+
						"but the hosts of %s %s. Put both groups on providers that share a network, or give %s's hosts addresses the others can reach "+
						"(a VPN, a shared LAN: see docs/federation.md).", s.Name, on, from, ref.Name, to, ref.Name, reason, ref.Name),
					Subject: &rng})
			}
		}
	}
	sort.SliceStable(diags, func(i, j int) bool { return diags[i].Summary < diags[j].Summary })
	return diags
}

// stepOnGroups lists the host groups an `on` expression names.
func stepOnGroups(on hcl.Expression) []string {
	if on == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, tr := range on.Variables() {
		if tr.RootName() == "hosts" && len(tr) >= 2 {
			if a, ok := tr[1].(hcl.TraverseAttr); ok && !seen[a.Name] {
				seen[a.Name] = true
				out = append(out, a.Name)
			}
		}
	}
	return out
}
