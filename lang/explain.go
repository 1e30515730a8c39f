package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Explain completes the terse diagnostics HCL writes when evaluating a
// traversal goes wrong, from the value the traversal had reached (read
// again in the diagnostic's evaluation context): an index out of range
// says how many elements there are (`hosts.node has 3 hosts`), an
// unsupported attribute or a missing key names the nearest one ("did you
// mean") or those there are, and `step.X.outputs` of a step that does not
// have exactly one instance says how to read one instance's outputs.
// Other diagnostics are returned as they are.
func Explain(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		out[i] = d
		if d.Subject == nil || d.Expression == nil || d.EvalContext == nil {
			continue
		}
		if extra := explain(d); extra != "" && !strings.Contains(d.Detail, extra) { // explained once
			cp := *d
			cp.Detail = strings.TrimSpace(d.Detail + " " + extra)
			out[i] = &cp
		}
	}
	return out
}

// explain returns what to add to d's detail, or "".
func explain(d *hcl.Diagnostic) string {
	path, at, prefix, ok := failedStep(d)
	if !ok {
		return ""
	}
	switch d.Summary {
	case "Invalid index":
		return explainIndex(path, at, prefix)
	case "Unsupported attribute":
		if a, ok := at.(hcl.TraverseAttr); ok {
			return explainAttr(path, a.Name, prefix)
		}
	case "Attempt to get attribute from null value":
		if len(path) == 3 && path.RootName() == "step" && attrName(path[2]) == "outputs" {
			return explainOutputs(attrName(path[1]), d.EvalContext)
		}
		if a, ok := at.(hcl.TraverseAttr); ok && len(path) == 2 && path.RootName() == "module" {
			return explainOffModule(attrName(path[1]), a.Name)
		}
	}
	return ""
}

// failedStep finds where evaluating d's expression failed: the traversal
// up to that step (path, absolute when it can be told, else nil), the
// step itself and the value before it.
func failedStep(d *hcl.Diagnostic) (path hcl.Traversal, at hcl.Traverser, prefix cty.Value, ok bool) {
	ctx := d.EvalContext
	switch e := d.Expression.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		for i, t := range e.Traversal {
			if i > 0 && t.SourceRange() == *d.Subject {
				v, diags := e.Traversal[:i].TraverseAbs(ctx)
				return e.Traversal[:i], t, v, !diags.HasErrors()
			}
		}
	case *hclsyntax.RelativeTraversalExpr:
		for i, t := range e.Traversal {
			if t.SourceRange() == *d.Subject {
				src, diags := e.Source.Value(ctx)
				if diags.HasErrors() {
					return nil, nil, cty.NilVal, false
				}
				v, diags := e.Traversal[:i].TraverseRel(src)
				return nil, t, v, !diags.HasErrors()
			}
		}
	case *hclsyntax.IndexExpr:
		coll, diags := e.Collection.Value(ctx)
		key, kdiags := e.Key.Value(ctx)
		if diags.HasErrors() || kdiags.HasErrors() {
			return nil, nil, cty.NilVal, false
		}
		path, _ := hcl.AbsTraversalForExpr(e.Collection)
		return path, hcl.TraverseIndex{Key: key, SrcRange: e.BracketRange}, coll, true
	}
	return nil, nil, cty.NilVal, false
}

func explainIndex(path hcl.Traversal, at hcl.Traverser, coll cty.Value) string {
	coll, _ = coll.Unmark()
	if !coll.IsKnown() || coll.IsNull() {
		return ""
	}
	ty := coll.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType():
		n := coll.LengthInt()
		if len(path) == 2 && path.RootName() == "hosts" {
			g := attrName(path[1])
			if n == 0 {
				return fmt.Sprintf("hosts.%s has no hosts (its count is 0).", g)
			}
			return fmt.Sprintf("hosts.%s has %d host(s): %s to %s.", g, n, HostName(g, 0), HostName(g, n-1))
		}
		if n == 0 {
			return "The list is empty."
		}
		return fmt.Sprintf("The list has %d element(s), indexes 0 to %d.", n, n-1)
	case ty.IsObjectType() || ty.IsMapType():
		idx, ok := at.(hcl.TraverseIndex)
		if !ok || !idx.Key.IsKnown() || idx.Key.Type() != cty.String {
			return ""
		}
		keys := valueKeys(coll)
		if len(path) == 3 && path.RootName() == "step" && attrName(path[2]) == "hosts" {
			if len(keys) == 0 {
				return fmt.Sprintf("Step %q runs on no hosts.", attrName(path[1]))
			}
			return fmt.Sprintf("Step %q runs on %s.", attrName(path[1]), orWords(keys))
		}
		return nearName(idx.Key.AsString(), keys, "Keys")
	}
	return ""
}

func explainAttr(path hcl.Traversal, name string, obj cty.Value) string {
	obj, _ = obj.Unmark()
	if obj == cty.NilVal || !obj.Type().IsObjectType() {
		return ""
	}
	names := make([]string, 0, len(obj.Type().AttributeTypes()))
	for n := range obj.Type().AttributeTypes() {
		names = append(names, n)
	}
	sort.Strings(names)
	what := "Attributes"
	if len(path) >= 2 && attrName(path[len(path)-1]) == "volume" {
		what = "Volumes"
	}
	if len(path) >= 2 && attrName(path[len(path)-1]) == "outputs" {
		what = "Captures"
	}
	return nearName(name, names, what)
}

// nearName suggests the nearest of known to name, else lists them.
func nearName(name string, known []string, what string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("Did you mean %q?", s)
	}
	if len(known) == 0 {
		return ""
	}
	if len(known) > 10 {
		known = append(known[:10:10], "…")
	}
	return fmt.Sprintf("%s: %s.", what, strings.Join(known, ", "))
}

func valueKeys(v cty.Value) []string {
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		if k.Type() == cty.String {
			out = append(out, k.AsString())
		}
	}
	sort.Strings(out)
	return out
}

// explainOffModule says why module.CALL is null: the only null module value
// is that of a call turned off by its lifecycle enabled (or a caller's).
func explainOffModule(call, out string) string {
	return fmt.Sprintf("module.%[1]s is null because the call is turned off (its lifecycle enabled, or that of a module around it, is false), "+
		"so it has no outputs. Read it as try(module.%[1]s.%[2]s, DEFAULT), or under the same condition: CONDITION ? module.%[1]s.%[2]s : DEFAULT.", call, out)
}

// explainOutputs says why step.X.outputs is null: X does not have exactly
// one instance.
func explainOutputs(step string, ctx *hcl.EvalContext) string {
	hosts, diags := hcl.Traversal{hcl.TraverseRoot{Name: "step"}, hcl.TraverseAttr{Name: step}, hcl.TraverseAttr{Name: "hosts"}}.TraverseAbs(ctx)
	if diags.HasErrors() || !hosts.IsKnown() || !hosts.Type().IsObjectType() {
		return ""
	}
	names := valueKeys(hosts)
	if len(names) == 0 {
		return fmt.Sprintf("step.%s.outputs are the captures of the step's only instance, and step %q has none (it runs on no hosts).", step, step)
	}
	return fmt.Sprintf("step.%[1]s.outputs are the captures of the step's only instance, and step %[1]q has %[2]d: read one instance's as step.%[1]s.hosts[%[3]q].outputs.KEY.",
		step, len(names), names[0])
}
