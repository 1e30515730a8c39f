package views

import (
	"fmt"
	"sort"
	"strings"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ClipWithLines returns diags with every diagnostic whose "with var.x as
// ..." lines would quote a string longer than lang.MaxShownValue replaced
// by a copy that writes those lines itself, at the head of its detail,
// each such string cut as lang.QuoteShown cuts it: HCL's text writer
// quotes a value whole, and an input may hold a file of a thousand lines.
// The copy holds the lines the writer would print, in its layout, so the
// output differs only in the values cut. Other diagnostics are left as
// they are.
func ClipWithLines(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for i, d := range diags {
		stmts, long := withStatements(d)
		if !long {
			if out != nil {
				out[i] = d
			}
			continue
		}
		if out == nil {
			out = make(hcl.Diagnostics, len(diags))
			copy(out, diags[:i])
		}
		c := *d
		c.Expression, c.EvalContext = nil, nil
		with := "with " + strings.Join(stmts, ",\n     ") + "."
		if d.Detail != "" {
			with += "\n\n" + d.Detail
		}
		c.Detail = with
		out[i] = &c
	}
	if out == nil {
		return diags
	}
	return out
}

// withStatements are the statements HCL's text writer prints for d's
// expression ("var.x as 2", "var.y set to null"), sorted as it sorts
// them, with long strings cut; long says whether one was.
func withStatements(d *hcl.Diagnostic) (stmts []string, long bool) {
	if d.Expression == nil || d.EvalContext == nil {
		return nil, false
	}
	seen := map[string]bool{}
	for _, tr := range d.Expression.Variables() {
		v, diags := tr.TraverseAbs(d.EvalContext)
		if diags.HasErrors() {
			continue
		}
		name := withTraversal(tr)
		if seen[name] {
			continue
		}
		switch {
		case !v.IsKnown():
			continue
		case v.IsNull():
			stmts = append(stmts, name+" set to null")
		case v.IsMarked():
			continue // the writer shows no marked value
		default:
			if v.Type() == cty.String && len(v.AsString()) > lang.MaxShownValue {
				long = true
			}
			stmts = append(stmts, name+" as "+withValue(v))
		}
		seen[name] = true
	}
	sort.Strings(stmts)
	return stmts, long
}

// withTraversal is a traversal as HCL's text writer names it.
func withTraversal(tr hcl.Traversal) string { return traversalWith(tr, withValue) }

// withValue is a value as HCL's text writer shows it, a string cut by
// lang.QuoteShown.
func withValue(v cty.Value) string {
	ty := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "(not yet known)"
	case ty == cty.Bool:
		return fmt.Sprint(v.True())
	case ty == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case ty == cty.String:
		return lang.QuoteShown(v.AsString())
	case ty.IsCollectionType() || ty.IsTupleType():
		switch l := v.LengthInt(); l {
		case 0:
			return "empty " + ty.FriendlyName()
		case 1:
			return ty.FriendlyName() + " with 1 element"
		default:
			return fmt.Sprintf("%s with %d elements", ty.FriendlyName(), l)
		}
	case ty.IsObjectType():
		atys := ty.AttributeTypes()
		switch len(atys) {
		case 0:
			return "object with no attributes"
		case 1:
			for k := range atys {
				return fmt.Sprintf("object with 1 attribute %q", k)
			}
		}
		return fmt.Sprintf("object with %d attributes", len(atys))
	}
	return ty.FriendlyName()
}
