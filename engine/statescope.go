package engine

import (
	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// StateScope returns a scope for evaluating the recipe against an applied
// cluster: every host group as st records its hosts (addresses, volumes),
// every step's recorded outputs, the variables and the locals. A host or
// instance st does not record has unknown addresses and outputs.
// Commands that read a cluster without changing it (verify, bench) evaluate
// their `on` and `path` in it.
func (l *Loaded) StateScope(st *state.State) *lang.Scope {
	g := l.Graph
	s := &lang.Scope{Recipe: l.Recipe, Vars: l.Vars, Hosts: map[string]cty.Value{}, Steps: map[string]cty.Value{}}
	for gi, grp := range l.Recipe.Groups {
		infos := make([]lang.HostInfo, len(g.GroupHosts[gi]))
		for i, h := range g.GroupHosts[gi] {
			infos[i] = HostInfoFromState(g.Hosts[h], st.Hosts[g.Hosts[h].Name])
		}
		s.Hosts[grp.Name] = grp.GroupVal(infos)
	}
	p := &Plan{Loaded: l}
	for si, stp := range g.Steps {
		s.Steps[stp.Name] = p.stepValFromState(st, si)
	}
	s.EvalLocals()
	return s
}
