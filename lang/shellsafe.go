package lang

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file says when a variable's declaration holds its value to
// characters no shell reads specially, so that it may reach a command
// unquoted (shellflow.go).

// shellPlain are the characters shell.Quote leaves alone (never special
// to a shell), without %, which systemd expands in a unit's Exec lines
// (%h, %i) where a variable may reach as it is.
const shellPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@+=:,./_-"

// shellPlainString says whether s is made of shellPlain characters only.
func shellPlainString(s string) bool { return strings.Trim(s, shellPlain) == "" }

// partType is the type of the part p of a value of type ty: an object's
// attribute, a collection's element; ty itself where p goes no further.
func partType(ty cty.Type, p pathSegs) cty.Type {
	for _, s := range p {
		switch {
		case s.attr != "" && ty.IsObjectType() && ty.HasAttribute(s.attr):
			ty = ty.AttributeType(s.attr)
		case s.attr == "" && (ty.IsListType() || ty.IsSetType() || ty.IsMapType()):
			ty = ty.ElementType()
		}
	}
	return ty
}

// heldBy says why variable v's declaration does not hold the part p of
// its value to shellPlain characters; "" when it does: a number or bool
// type (or a collection of them), one_of of plain values, a plain
// format, a pattern that can match only plain characters, or a
// validation condition with such a conjunct. Every constraint given must
// hold, so one of them is enough.
func heldBy(v *Variable, p pathSegs) string {
	ty := partType(v.Type, p)
	if ty == cty.Number || ty == cty.Bool {
		return ""
	}
	if ty.IsCollectionType() && (ty.ElementType() == cty.Number || ty.ElementType() == cty.Bool) {
		return ""
	}
	if len(p) > 0 && p[0].attr != "" {
		// The constraints hold the variable's elements, not an object's
		// attributes.
		return "no constraint holds its attribute " + strings.TrimPrefix(p.String(), ".")
	}
	var why []string
	c := v.Constraints
	if len(c.OneOf) > 0 {
		bad := notPlain(c.OneOf)
		if bad == "" {
			return ""
		}
		why = append(why, "its one_of lists "+bad)
	}
	if c.Format != "" {
		if formats[c.Format].plain {
			return ""
		}
		why = append(why, fmt.Sprintf("its format %q allows characters a shell reads ($, ; and & in a URL)", c.Format))
	}
	if c.Pattern != "" {
		bad := patternNotPlain(c.Pattern)
		if bad == "" {
			return ""
		}
		why = append(why, "its pattern allows "+bad)
	}
	for _, val := range v.Validations {
		if validationHolds(val, v.Name) {
			return ""
		}
	}
	if len(why) == 0 {
		return "it has no pattern, one_of, plain format or number type"
	}
	return strings.Join(why, ", ")
}

// notPlain names a string of vals with a character outside shellPlain,
// "" when there is none.
func notPlain(vals []cty.Value) string {
	for _, v := range vals {
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String && !shellPlainString(v.AsString()) {
			return fmt.Sprintf("%q", v.AsString())
		}
	}
	return ""
}

// validationHolds says whether a validation's condition has a conjunct
// that holds var.name to plain values: contains([literals], var.name) or
// can(regex("^...$", var.name)) with a pattern patternNotPlain accepts.
func validationHolds(val *Validation, name string) bool {
	cond, ok := val.Condition.(hclsyntax.Expression)
	if !ok {
		return false
	}
	var conj []hclsyntax.Expression
	var split func(e hclsyntax.Expression)
	split = func(e hclsyntax.Expression) {
		switch x := e.(type) {
		case *hclsyntax.BinaryOpExpr:
			if x.Op == hclsyntax.OpLogicalAnd {
				split(x.LHS)
				split(x.RHS)
				return
			}
		case *hclsyntax.ParenthesesExpr:
			split(x.Expression)
			return
		}
		conj = append(conj, e)
	}
	split(cond)
	isVar := func(e hclsyntax.Expression) bool {
		st, ok := e.(*hclsyntax.ScopeTraversalExpr)
		return ok && len(st.Traversal) == 2 && st.Traversal.RootName() == "var" && attrName(st.Traversal[1]) == name
	}
	for _, c := range conj {
		fc, ok := c.(*hclsyntax.FunctionCallExpr)
		if !ok {
			continue
		}
		switch {
		case fc.Name == "contains" && len(fc.Args) == 2 && isVar(fc.Args[1]):
			v, d := fc.Args[0].Value(nil)
			if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !v.CanIterateElements() {
				continue
			}
			var vals []cty.Value
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.Type() != cty.String {
					vals = nil
					break
				}
				vals = append(vals, ev)
			}
			if len(vals) > 0 && notPlain(vals) == "" {
				return true
			}
		case fc.Name == "can" && len(fc.Args) == 1:
			re, ok := fc.Args[0].(*hclsyntax.FunctionCallExpr)
			if !ok || re.Name != "regex" || len(re.Args) != 2 || !isVar(re.Args[1]) {
				continue
			}
			v, d := re.Args[0].Value(nil)
			if d.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
				continue
			}
			s := v.AsString()
			if strings.HasPrefix(s, "^") && strings.HasSuffix(s, "$") && len(s) >= 2 &&
				patternNotPlain(s[1:len(s)-1]) == "" {
				return true
			}
		}
	}
	return false
}

// patternNotPlain names a character the regular expression (RE2, matched
// whole) can match that is not in shellPlain, "" when there is none:
// every literal (with its case folds under (?i)) and every character of
// every class is looked at, so a pattern passes only if no string it
// matches could hold one.
func patternNotPlain(pat string) string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return "anything (it does not parse: " + err.Error() + ")"
	}
	plain := func(r rune) bool { return r < 128 && strings.ContainsRune(shellPlain, r) }
	var bad string
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		if bad != "" {
			return
		}
		switch re.Op {
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			bad = "any character (.)"
			return
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				for f := r; ; {
					if !plain(f) {
						bad = fmt.Sprintf("%q", f)
						return
					}
					if re.Flags&syntax.FoldCase == 0 {
						break
					}
					if f = unicode.SimpleFold(f); f == r {
						break
					}
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				lo, hi := re.Rune[i], re.Rune[i+1]
				if hi-lo > 128 {
					bad = fmt.Sprintf("%q to %q", lo, hi)
					return
				}
				for r := lo; r <= hi; r++ {
					if !plain(r) {
						bad = fmt.Sprintf("%q", r)
						return
					}
				}
			}
		}
		for _, s := range re.Sub {
			walk(s)
		}
	}
	walk(re)
	return bad
}
