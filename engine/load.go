package engine

import (
	"diffuser/lang"
	"diffuser/steps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Loaded is a recipe with its variables resolved and its graphs built.
type Loaded struct {
	Recipe     *lang.Recipe
	Vars       map[string]cty.Value
	VarSources map[string]lang.VarSource // where each variable's value came from
	Counts     map[string]int
	Sizes      map[string]map[string]int    // group -> volume -> GiB
	VolTypes   map[string]map[string]string // group -> volume -> provider volume type ("" = default)
	StepGraph  *StepGraph
	Graph      *Instances
	Kinds      steps.Registry
	// Off are the module calls turned off (lifecycle enabled false, or
	// inside such a call), by address: their steps have no instances.
	Off map[string]*lang.Module
}

// KindSpecs is what lang needs from the step kinds: their specs.
func KindSpecs(kinds steps.Registry) map[string]hcldec.Spec {
	out := make(map[string]hcldec.Spec, len(kinds))
	for n, k := range kinds {
		out[n] = k.Schema().Spec()
	}
	return out
}

// Load parses the recipe, resolves variables, and builds both graphs.
// Nothing is evaluated that needs hosts or state.
func Load(src lang.Source, in lang.Inputs, kinds steps.Registry) (*Loaded, hcl.Diagnostics) {
	r, diags := lang.Load(src, KindSpecs(kinds))
	if diags.HasErrors() {
		return &Loaded{Recipe: r}, diags
	}
	l, d := LoadRecipe(r, in, kinds)
	return l, append(diags, d...)
}

// LoadRecipe is Load of a recipe already parsed with KindSpecs(kinds):
// for callers that need the recipe (its name) to find their inputs.
func LoadRecipe(r *lang.Recipe, in lang.Inputs, kinds steps.Registry) (*Loaded, hcl.Diagnostics) {
	return loadRecipe(r, in, kinds, maxHostChecks)
}

// LoadRecipeToPlan is LoadRecipe for a command that plans next: a step
// whose arguments read a host's name or index is checked here for the
// first and last host of each group only, since Plan checks every
// instance with the same rules (validate checks them here, up to 1,000 per
// step). A plan of 5,000 instances evaluated each twice otherwise.
func LoadRecipeToPlan(r *lang.Recipe, in lang.Inputs, kinds steps.Registry) (*Loaded, hcl.Diagnostics) {
	return loadRecipe(r, in, kinds, 0)
}

// loadRecipe is loadAll with a mistake in a module that is called
// several times (an argument a kind refuses, found per step instance)
// reported once, naming every call.
func loadRecipe(r *lang.Recipe, in lang.Inputs, kinds steps.Registry, hostChecks int) (*Loaded, hcl.Diagnostics) {
	l, diags := loadAll(r, in, kinds, hostChecks)
	return l, lang.MergeCallRepeats(diags)
}

func loadAll(r *lang.Recipe, in lang.Inputs, kinds steps.Registry, hostChecks int) (*Loaded, hcl.Diagnostics) {
	l := &Loaded{Recipe: r, Kinds: kinds}
	if d := checkRestartKinds(r, kinds); d.HasErrors() {
		return l, d
	}
	res, diags := r.Resolve(in)
	if diags.HasErrors() {
		return l, diags
	}
	vars := res.Values
	l.Vars, l.VarSources = vars, res.Sources
	// Cross-variable rules come before the counts they often guard.
	d := r.CheckPreconditions(vars)
	diags = append(diags, d...)
	if d.HasErrors() {
		return l, diags
	}
	l.Counts, l.Sizes, d = r.CountsOf(res)
	diags = append(diags, d...)
	if d.HasErrors() {
		return l, diags
	}
	l.VolTypes, d = r.VolumeTypes(vars)
	diags = append(diags, d...)
	if d.HasErrors() {
		return l, diags
	}
	l.StepGraph, d = BuildStepGraph(r)
	diags = append(diags, d...)
	if d.HasErrors() {
		return l, diags
	}
	scope := l.nameScope()
	for _, m := range r.AllModules() {
		if scope.Off(m) {
			if l.Off == nil {
				l.Off = map[string]*lang.Module{}
			}
			l.Off[m.Addr] = m
		}
	}
	for addr, m := range l.Off {
		l.StepGraph.MarkOff(addr, l.OffWhy(m))
	}
	l.Graph, d = Expand(r, l.Counts, func(s *lang.Step) ([]string, hcl.Diagnostics) { return scope.StepOnHosts(s) },
		func(s *lang.Step) bool { _, ok := kinds[s.Kind].(steps.GroupKind); return ok })
	// The steps of a module call without on of their own share the
	// call's on: a problem with it is one, however many steps.
	diags = append(diags, lang.Explain(lang.MergeCallRepeats(d))...)
	if d.HasErrors() {
		return l, diags
	}
	diags = append(diags, l.checkValues(scope, hostChecks)...)
	return l, diags
}

// OffCause is the outermost call that is off around m (m itself when the
// call around it is on): the one whose lifecycle enabled is false.
func (l *Loaded) OffCause(m *lang.Module) *lang.Module {
	for m.Parent != nil && l.Off[m.Parent.Addr] != nil {
		m = m.Parent
	}
	return m
}

// OffWhy says why call m, which is off, is off: its own lifecycle enabled,
// or the call around it that is off.
func (l *Loaded) OffWhy(m *lang.Module) string {
	c := l.OffCause(m)
	if c == m {
		return m.OffWhere()
	}
	return c.Addr + "'s " + c.OffWhere()
}

// nameScope is a scope where hosts have names and indexes but nothing else
// is known: enough to resolve `on`.
func (l *Loaded) nameScope() *lang.Scope {
	hosts := map[string]cty.Value{}
	for _, g := range l.Recipe.Groups {
		infos := make([]lang.HostInfo, l.Counts[g.Name])
		for i := range infos {
			infos[i] = lang.HostInfo{Name: lang.HostName(g.Name, i), Group: g.Name, Index: i, Hostname: lang.Hostname(g.Name, i)}
		}
		hosts[g.Name] = g.GroupVal(infos)
	}
	s := &lang.Scope{Recipe: l.Recipe, Vars: l.Vars, VarSources: l.VarSources, Hosts: hosts}
	s.EvalLocals()
	return s
}
