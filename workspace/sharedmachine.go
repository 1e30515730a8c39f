package workspace

import (
	"fmt"
	"strings"

	"diffuser/cloud/static"
	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// sharedMachineWarnings warns at the site file's address when two host
// groups of the static provider list the same machine (an Ansible
// inventory puts a host in two groups freely). diffuser makes them two
// hosts on one machine: both groups' steps run there, and destroying one
// of them (destroy -target, a lower count, a replacement) runs that
// host's undo commands on the machine the other still uses. The same
// machine twice in one group is an error (static's CheckSettings).
func (ws *Workspace) sharedMachineWarnings() hcl.Diagnostics {
	if ws.simulated || ws.Loaded == nil {
		return nil
	}
	type host struct {
		name, key string
	}
	seen := map[string]host{} // host:port -> first host listing it
	var diags hcl.Diagnostics
	for _, g := range ws.Loaded.Recipe.Groups {
		key := ws.ProviderOf(g.Name)
		if lang.ProviderBase(key) != "static" {
			continue
		}
		v, d := ws.Settings(g.Name)
		if d.HasErrors() {
			continue
		}
		s, err := static.Decode(v)
		if err != nil {
			continue // CheckSettings reports it
		}
		for i, a := range s.Addresses {
			if i >= ws.Loaded.Counts[g.Name] {
				break // listed, not used
			}
			machine, err := s.Machine(a)
			if err != nil {
				continue
			}
			name := fmt.Sprintf("%s[%d]", g.Name, i)
			prev, dup := seen[machine]
			if !dup {
				seen[machine] = host{name, key}
				continue
			}
			if prev.key == key && strings.HasPrefix(prev.name, g.Name+"[") {
				continue // within a group: CheckSettings' error
			}
			rng, ok := ws.providerBlockOf(key).SettingRange(g.Name, cty.GetAttrPath("addresses").Index(cty.NumberIntVal(int64(i))))
			d := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "One machine in two host groups",
				Detail: fmt.Sprintf("%s and %s are the same machine (%s): diffuser makes them two hosts on it, so both groups' steps run there, "+
					"and destroying one of them (destroy -target, a lower count, a replacement) runs its undo commands (unmounts, package cache "+
					"settings, services) on the machine the other still uses. If each host needs a machine of its own, list another address.",
					prev.name, name, a)}
			if ok {
				d.Subject = rng.Ptr()
			}
			diags = append(diags, d)
		}
	}
	return diags
}
