package workspace

import (
	"fmt"
	"sort"

	"diffuser/cloud"
	"diffuser/internal/ctypath"
	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// CheckSettings checks the provider settings every host group will launch
// with, as validate and plan do: a typo or an impossible value in the site
// file (a port of 99999, a CIDR of /33, a static site listing fewer hosts
// than the recipe asks for) is an error at its line now, not a failed
// launch minutes into an apply. Warnings are added to ws.Warnings.
func (ws *Workspace) CheckSettings() error {
	diags := ws.settingsDiags(true)
	if diags.HasErrors() {
		return &DiagError{Files: ws.Files, Diags: diags}
	}
	ws.Warnings = append(ws.Warnings, diags...)
	return nil
}

// settingsDiags decodes every group's settings and, when the provider
// can check them (cloud.SettingsChecker), checks them: against what the
// recipe needs of each group when needs is set (not for destroy, which
// only removes what state records). Each problem is reported once, at
// the site file's attribute (or element) that sets it, else at the
// group's hosts block or the provider block, else at the recipe's group.
//
// A setting that cannot be read (a value of the wrong type) is an error
// at its line that hides no other: the provider checks the rest with it
// unset, and of what it finds only the mistakes of other settings
// written in the site file are reported (one about no setting, such as
// too few hosts, may come from the unread one).
func (ws *Workspace) settingsDiags(needs bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	var unread []hcl.Range // the settings that could not be read
	for _, grp := range append([]string{""}, ws.Loaded.Graph.Groups...) {
		_, d := ws.Settings(grp)
		for _, e := range d {
			// The provider-wide block's errors repeat per group.
			key := fmt.Sprintf("%v|%s|%s", e.Subject, e.Summary, e.Detail)
			if seen[key] {
				continue
			}
			seen[key] = true
			diags = append(diags, e)
			if e.Severity == hcl.DiagError && e.Subject != nil {
				unread = append(unread, *e.Subject)
			}
		}
	}
	for _, key := range ws.ProviderKeys() {
		diags = append(diags, ws.providerBlockOf(key).UnknownGroups(ws.Loaded.Graph.Groups)...)
	}
	if needs {
		diags = append(diags, ws.reachWarnings()...)
		diags = append(diags, ws.sharedMachineWarnings()...)
		diags = append(diags, ws.unusedProviderDiags()...)
	}
	for _, g := range ws.Loaded.Recipe.Groups {
		key := ws.ProviderOf(g.Name)
		pb := ws.providerBlockOf(key)
		f, err := ws.factoryFor(key)
		if err != nil {
			continue // refused at load
		}
		checker, ok := f.(cloud.SettingsChecker)
		if !ok {
			continue
		}
		v, d := ws.Settings(g.Name)
		partial := d.HasErrors()
		v = unsetUnknown(v)
		need := cloud.GroupNeed{}
		if needs {
			need = groupNeed(g, ws.Loaded.Counts[g.Name])
		}
		for _, p := range checker.CheckSettings(v, g.Name, need) {
			d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: p.Summary, Detail: p.Detail}
			if p.Warning {
				d.Severity = hcl.DiagWarning
			}
			if d.Summary == "" {
				d.Summary = "Invalid " + key + " setting"
			}
			rng, written := pb.SettingRange(g.Name, p.Path)
			if partial && (!written || within(rng, unread)) {
				// About a setting that could not be read (that is its
				// error), or about no setting written, which one that
				// could not be read may be the cause of: the next run
				// says, once it is read.
				continue
			}
			if !written {
				if len(p.Path) > 0 { // a default or a value from elsewhere: say which
					d.Detail = ctypath.String(p.Path) + ": " + d.Detail
				}
				var inSite bool
				if rng, inSite = pb.BlockRange(g.Name); !inSite {
					rng = g.DeclRange
				}
			}
			d.Subject = rng.Ptr()
			key := fmt.Sprintf("%v|%s|%s", d.Subject, d.Summary, d.Detail)
			if !seen[key] {
				seen[key] = true
				diags = append(diags, d)
			}
		}
	}
	return diags
}

// unsetUnknown makes every setting of v that is not known (one that could
// not be read) null, as if it were not set.
func unsetUnknown(v cty.Value) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || v.IsWhollyKnown() {
		return v
	}
	m := v.AsValueMap()
	for k, a := range m {
		if !a.IsWhollyKnown() {
			m[k] = cty.NullVal(a.Type())
		}
	}
	return cty.ObjectVal(m)
}

// within says whether r lies inside one of rs.
func within(r hcl.Range, rs []hcl.Range) bool {
	for _, o := range rs {
		if r.Filename == o.Filename && r.Start.Byte >= o.Start.Byte && r.End.Byte <= o.End.Byte {
			return true
		}
	}
	return false
}

func (ws *Workspace) providerBlockOf(key string) *lang.ProviderBlock {
	if ws.Site == nil {
		return nil
	}
	return ws.Site.Providers[key]
}

// groupNeed is what the recipe asks of the provider for group g.
func groupNeed(g *lang.Group, count int) cloud.GroupNeed {
	need := cloud.GroupNeed{Count: count}
	if g.Count != nil {
		rng := g.Count.Range()
		need.CountAt = fmt.Sprintf("count at %s:%d", rng.Filename, rng.Start.Line)
	} else {
		need.CountAt = fmt.Sprintf("one host by default, %s:%d", g.DeclRange.Filename, g.DeclRange.Start.Line)
	}
	for _, v := range g.Volumes {
		need.Volumes = append(need.Volumes, v.Name)
	}
	sort.Strings(need.Volumes)
	return need
}

// unusedProviderDiags checks the site file's provider blocks that this
// command does not use (an aws block while the hosts launch on docker):
// a provider diffuser does not have is an error, and so is a setting its
// provider does not take or a value of the wrong type — now, not on the
// day `-provider aws` is given. The provider's own value checks need the
// recipe's groups on that provider and wait for that day.
func (ws *Workspace) unusedProviderDiags() hcl.Diagnostics {
	if ws.Site == nil || ws.simulated {
		return nil
	}
	used := map[string]bool{}
	for _, k := range ws.ProviderKeys() {
		used[k] = true
	}
	keys := make([]string, 0, len(ws.Site.Providers))
	for k := range ws.Site.Providers {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	all := ws.env.factories()
	var diags hcl.Diagnostics
	for _, key := range keys {
		pb := ws.Site.Providers[key]
		f, ok := all[pb.Name]
		if !ok {
			detail := fmt.Sprintf("diffuser has no provider %q: %s.", pb.Name, providerChoice(pb.Name, providerNames(all)))
			rng := pb.DeclRange
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown provider", Detail: detail, Subject: &rng})
			continue
		}
		groups := make([]string, 0, len(pb.Groups))
		for g := range pb.Groups {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range append([]string{""}, groups...) {
			_, d := pb.Settings(f.Spec(), g)
			for _, e := range d {
				if e.Severity == hcl.DiagError {
					e.Detail += fmt.Sprintf(" (Provider %s is not used by this command; its block is checked all the same.)", key)
				}
			}
			diags = append(diags, d...)
		}
	}
	return diags
}
