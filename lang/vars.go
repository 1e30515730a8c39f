package lang

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Inputs are variable values from outside the recipe, lowest precedence
// first: the site file, then -var-file files in order, then -var flags.
type Inputs struct {
	Site     *Site
	VarFiles []string
	Vars     []string // "name=value"
}

type varValue struct {
	val cty.Value
	rng hcl.Range
}

// ResolveVariables computes every variable's value and runs its validations.
// Sensitive variables come back marked sensitive.
func (r *Recipe) ResolveVariables(in Inputs) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	given := map[string]varValue{}
	siteSet := map[string]bool{}
	set := func(name string, expr hcl.Expression, raw *string, rng hcl.Range) {
		v := r.varIdx[name]
		if v == nil && siteSet[name] {
			// A site file serves several recipes: a value for a variable
			// this recipe lacks is for another one.
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Site value for another recipe's variable",
				Detail: fmt.Sprintf("Recipe %q has no variable %q; the site file's value is ignored.", r.Name, name), Subject: rng.Ptr()})
			return
		}
		if v == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("Recipe %q has no variable %q.%s", r.Name, name, knownList(r.varNames())), Subject: rng.Ptr()})
			return
		}
		var val cty.Value
		switch {
		case raw != nil && v.Type == cty.String:
			val = cty.StringVal(*raw)
		case raw != nil && v.Type.IsPrimitiveType():
			// -var servers=3: the text is the value, converted to the
			// variable's type below, so that a bad number is reported as
			// such rather than as an HCL expression error.
			val = cty.StringVal(strings.TrimSpace(*raw))
		default:
			var d hcl.Diagnostics
			val, d = expr.Value(nil)
			if d.HasErrors() && raw != nil {
				if v.Type == cty.DynamicPseudoType {
					// An untyped variable takes what is not an expression as a string.
					val, d = cty.StringVal(*raw), nil
				} else {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
						Detail: fmt.Sprintf("Variable %q must be %s, written in HCL syntax and quoted for the shell, e.g. -var '%s=[\"a\", \"b\"]' for a list or -var '%s={ key = \"value\" }' for a map.",
							name, typeexpr.TypeString(v.Type), name, name),
						Subject: rng.Ptr()})
					return
				}
			}
			if d.HasErrors() {
				diags = append(diags, d...)
				return
			}
		}
		given[name] = varValue{val, rng}
	}
	if in.Site != nil {
		for name, a := range in.Site.Vars {
			siteSet[name] = true
			set(name, a.Expr, nil, a.Range)
			delete(siteSet, name)
		}
	}
	for _, f := range in.VarFiles {
		b, size, err := readOSText(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file",
				Detail: fmt.Sprintf("%v. Check the -var-file path.", err)})
			continue
		}
		if d := checkText(f, b, size); d != nil {
			diags = append(diags, d)
			continue
		}
		file, d := hclsyntax.ParseConfig(b, f, hcl.InitialPos)
		diags = append(diags, d...)
		r.Files[f] = file // even when broken: diagnostics quote it
		if d.HasErrors() {
			continue
		}
		attrs, d := file.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range attrs {
			set(name, a.Expr, nil, a.Range)
		}
	}
	for _, kv := range in.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		rng := hcl.Range{Filename: "<-var " + kv + ">", Start: hcl.InitialPos,
			End: hcl.Pos{Line: 1, Column: 1 + len(kv), Byte: len(kv)}}
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var",
				Detail: fmt.Sprintf("%q must be NAME=VALUE, e.g. -var servers=3.", kv)})
			continue
		}
		var expr hcl.Expression
		expr, d := hclsyntax.ParseExpression([]byte(raw), rng.Filename, hcl.InitialPos)
		if d.HasErrors() {
			// A value that is not an expression is taken as a string.
			expr = hcl.StaticExpr(cty.StringVal(raw), rng)
		}
		rawCopy := raw
		set(name, expr, &rawCopy, rng)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	out := map[string]cty.Value{}
	for _, v := range r.Variables {
		gv, ok := given[v.Name]
		val := v.Default
		if ok {
			cv, err := convert.Convert(gv.val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail:  fmt.Sprintf("Variable %q must be %s: %v.", v.Name, typeexpr.TypeString(v.Type), err),
					Subject: gv.rng.Ptr()})
				continue
			}
			val = cv
		}
		if val == cty.NilVal {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing variable",
				Detail:  fmt.Sprintf("Variable %q has no default; set it with -var %s=VALUE, a -var-file, or the site file's variables block.", v.Name, v.Name),
				Subject: v.DeclRange.Ptr()})
			continue
		}
		if v.Sensitive {
			val = val.Mark(Sensitive)
		}
		out[v.Name] = val
		for _, vd := range v.Validations {
			ctx := &hcl.EvalContext{Functions: r.funcs, Variables: map[string]cty.Value{
				"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})}}
			res, d := vd.Condition.Value(ctx)
			if d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			res, _ = res.Unmark()
			if res.Type() != cty.Bool || res.IsNull() || !res.IsKnown() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
					Detail: "The condition must be true or false.", Subject: vd.Condition.Range().Ptr()})
				continue
			}
			if res.False() {
				subj := v.DeclRange
				if ok {
					subj = gv.rng
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("var.%s: %s", v.Name, vd.ErrorMessage), Subject: subj.Ptr()})
			}
		}
	}
	return out, diags
}

func knownList(names []string) string {
	if len(names) == 0 {
		return " It declares none."
	}
	return " Declared: " + strings.Join(names, ", ") + "."
}
