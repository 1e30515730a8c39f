package lang

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// A step with `when_replaced = hosts.server` (or a list of groups) is a
// replacement step: it runs only in an apply that puts a new machine in
// place of a recorded host of one of those groups (-replace, or a host
// refresh found gone), and plans nothing otherwise, first deploys
// included. The engine decides per instance (engine/replace.go); lang
// reads the groups and makes the step wait for their launches.
//
// A host group's `replace_note` is what the plan says will happen to the
// data when a host of the group is replaced, shown before anyone agrees.

// decodeWhenReplaced reads `when_replaced`: a host group, or a list of
// them, each written hosts.NAME.
func (s *Step) decodeWhenReplaced(n *namespace, at hcl.Attributes) hcl.Diagnostics {
	a := at["when_replaced"]
	if a == nil {
		return nil
	}
	if n.mod != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "when_replaced in a module",
			Detail:  "A module's steps cannot name host groups; put the replacement step in the recipe itself, next to the module call.",
			Subject: a.NameRange.Ptr()}}
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		exprs, diags = []hcl.Expression{a.Expr}, nil
	}
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() || len(tr) != 2 || tr.RootName() != "hosts" || attrName(tr[1]) == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid when_replaced",
				Detail:  "when_replaced names whole host groups: hosts.server, or [hosts.server, hosts.client].",
				Subject: e.Range().Ptr()})
			continue
		}
		s.WhenReplaced = append(s.WhenReplaced, Ref{Name: attrName(tr[1]), Range: e.Range()})
	}
	return diags
}

// analyzeWhenReplaced checks that the groups exist and makes the step wait
// for their launches (a step on a surviving host runs once the new machine
// is up).
func (r *Recipe) analyzeWhenReplaced(s *Step) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ref := range s.WhenReplaced {
		if r.groupIdx[ref.Name] == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown host group",
				Detail:  fmt.Sprintf("when_replaced names hosts.%s, which the recipe does not declare.%s", ref.Name, suggestGroup(r, ref.Name)),
				Subject: ref.Range.Ptr()})
			continue
		}
		if !slices.ContainsFunc(s.RefGroups, func(x Ref) bool { return x.Name == ref.Name }) {
			s.RefGroups = append(s.RefGroups, ref)
		}
	}
	slices.SortFunc(s.RefGroups, func(a, b Ref) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return diags
}

// analyzeReplaceNotes checks what each group's replace_note reads:
// variables, locals and hosts (names are known at plan), not step outputs.
func (r *Recipe) analyzeReplaceNotes() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, g := range r.Groups {
		if g.ReplaceNote == nil {
			continue
		}
		_, d := r.check(g.ReplaceNote.Variables(), where{what: "a replace note", hosts: true}, r.root)
		diags = append(diags, d...)
	}
	return diags
}

// ReplacementStep says whether the step runs only when hosts are replaced.
func (s *Step) ReplacementStep() bool { return len(s.WhenReplaced) > 0 }

// suggestGroup is " Did you mean hosts.X?" for the nearest group name, or "".
func suggestGroup(r *Recipe, name string) string {
	names := make([]string, 0, len(r.Groups))
	for _, g := range r.Groups {
		names = append(names, g.Name)
	}
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean hosts.%s?", s)
	}
	return ""
}
