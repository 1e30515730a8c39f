package lang

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// SettingRange returns where the site file writes the setting at path for
// a host group: the group's `hosts "GROUP"` block when it sets the
// attribute (it overrides the provider-wide value), else the provider-wide
// body. When path goes on into a list or map written out literally
// (addresses[2], volumes["brick"], groups["server"]["image"]), the range
// narrows to that element. ok is false when neither sets the attribute.
func (p *ProviderBlock) SettingRange(group string, path cty.Path) (hcl.Range, bool) {
	if p == nil || len(path) == 0 {
		return hcl.Range{}, false
	}
	step, isAttr := path[0].(cty.GetAttrStep)
	if !isAttr {
		return hcl.Range{}, false
	}
	var attr *hcl.Attribute
	if body := p.Groups[group]; body != nil && group != "" {
		attr = bodyAttr(body, step.Name)
	}
	if attr == nil {
		attr = bodyAttr(p.Body, step.Name)
	}
	if attr == nil {
		return hcl.Range{}, false
	}
	return narrow(attr.Expr, path[1:]), true
}

// BlockRange returns the header of the group's `hosts "GROUP"` block, or
// else of the provider block; ok is false when the site has neither.
func (p *ProviderBlock) BlockRange(group string) (hcl.Range, bool) {
	if p == nil {
		return hcl.Range{}, false
	}
	if r, ok := p.GroupRanges[group]; ok {
		return r, true
	}
	return p.DeclRange, true
}

// UnknownGroups warns about `hosts "GROUP"` blocks that look like a
// misspelt group of the recipe: a block whose name is near one of groups
// that has no block of its own. A block for a group no recipe group is
// near is taken to be for another recipe (one site serves several) and
// passes quietly.
func (p *ProviderBlock) UnknownGroups(groups []string) hcl.Diagnostics {
	if p == nil {
		return nil
	}
	known := map[string]bool{}
	var free []string // recipe groups without a block
	for _, g := range groups {
		known[g] = true
		if _, ok := p.GroupRanges[g]; !ok {
			free = append(free, g)
		}
	}
	names := make([]string, 0, len(p.GroupRanges))
	for n := range p.GroupRanges {
		names = append(names, n)
	}
	sort.Strings(names)
	var diags hcl.Diagnostics
	for _, n := range names {
		if known[n] {
			continue
		}
		if s := suggest(n, free); s != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Settings for a host group the recipe lacks",
				Detail:  fmt.Sprintf("The recipe has no host group %q, so these settings apply to nothing. Did you mean %q?", n, s),
				Subject: p.GroupRanges[n].Ptr()})
		}
	}
	return diags
}

// bodyAttr returns the attribute name of body, or nil. Blocks the body
// was already split from (PartialContent) do not disturb it.
func bodyAttr(body hcl.Body, name string) *hcl.Attribute {
	content, _, _ := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
	if content == nil {
		return nil
	}
	return content.Attributes[name]
}

// narrow follows path into tuple and object constructors as far as they
// are written out, returning the range of the innermost expression found.
func narrow(expr hcl.Expression, path cty.Path) hcl.Range {
	for _, step := range path {
		var key cty.Value
		switch s := step.(type) {
		case cty.IndexStep:
			key = s.Key
		case cty.GetAttrStep:
			key = cty.StringVal(s.Name)
		default:
			return expr.Range()
		}
		next := element(expr, key)
		if next == nil {
			return expr.Range()
		}
		expr = next
	}
	return expr.Range()
}

func element(expr hcl.Expression, key cty.Value) hcl.Expression {
	switch e := expr.(type) {
	case *hclsyntax.TupleConsExpr:
		if key.Type() != cty.Number {
			return nil
		}
		i, acc := key.AsBigFloat().Int64()
		if acc != 0 || i < 0 || int(i) >= len(e.Exprs) {
			return nil
		}
		return e.Exprs[i]
	case *hclsyntax.ObjectConsExpr:
		if key.Type() != cty.String {
			return nil
		}
		for _, item := range e.Items {
			k, d := item.KeyExpr.Value(nil)
			if d.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
				continue
			}
			if k.AsString() == key.AsString() {
				return item.ValueExpr
			}
		}
	}
	return nil
}
