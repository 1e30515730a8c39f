package workspace

import (
	"slices"
	"sort"
	"strings"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
)

// PlanFileSummary is what `show PLANFILE` renders of a saved plan: its
// inputs, with sensitive values hidden, and its actions by host group.
type PlanFileSummary struct {
	Plan *SavedPlan
	// Vars are the plan's -var values; those of sensitive variables read
	// NAME=(sensitive), and all of them NAME=(hidden) when the recipe
	// cannot be read (RecipeErr) to tell which are sensitive.
	Vars []string
	// Groups are the host groups in the recipe's order (when it loads),
	// then any other group the actions name.
	Groups    []string
	Actions   []engine.ActionRecord
	RecipeErr error
}

// DescribePlanFile summarizes a saved plan. A plan holds only address →
// action, so each action's host group is read from its address; the
// recipe, when it still loads, gives the groups' order and which
// variables are sensitive.
func (e *Env) DescribePlanFile(sp *SavedPlan) *PlanFileSummary {
	out := &PlanFileSummary{Plan: sp}
	sensitive := map[string]bool{}
	src, _, err := resolveRecipe(sp.Recipe.recipeArg())
	var r *lang.Recipe
	if err == nil {
		var diags hcl.Diagnostics
		r, diags = lang.Load(src, engine.KindSpecs(builtin.Kinds()))
		if diags.HasErrors() {
			err = diags
		}
	}
	out.RecipeErr = err
	if err == nil {
		for _, v := range r.Variables {
			sensitive[v.Name] = v.Sensitive
		}
		for _, g := range r.Groups {
			out.Groups = append(out.Groups, g.Name)
		}
	}
	for _, nv := range sp.Vars {
		n, _, _ := strings.Cut(nv, "=")
		switch {
		case err != nil:
			nv = n + "=(hidden)"
		case sensitive[strings.TrimSpace(n)]:
			nv = n + "=(sensitive)"
		}
		out.Vars = append(out.Vars, nv)
	}
	for _, s := range sp.Secrets {
		out.Vars = append(out.Vars, s.Name+"=(sensitive)")
	}
	for addr, action := range sp.Actions {
		out.Actions = append(out.Actions, engine.ActionRecord{Address: addr, Action: action, Group: groupOfAddr(addr)})
	}
	for _, a := range out.Actions {
		if !slices.Contains(out.Groups, a.Group) {
			out.Groups = append(out.Groups, a.Group)
		}
	}
	rank := map[string]int{}
	for i, g := range out.Groups {
		rank[g] = i
	}
	sort.Slice(out.Actions, func(i, j int) bool {
		a, b := out.Actions[i], out.Actions[j]
		if rank[a.Group] != rank[b.Group] {
			return rank[a.Group] < rank[b.Group]
		}
		la, lb := strings.HasPrefix(a.Address, "launch["), strings.HasPrefix(b.Address, "launch[")
		if la != lb {
			return la
		}
		return a.Address < b.Address
	})
	return out
}

// groupOfAddr is the host group of a launch or step instance address:
// hosts are named GROUP[INDEX].
func groupOfAddr(addr string) string {
	g, _, _ := strings.Cut(engine.HostOfAddr(addr), "[")
	return g
}
