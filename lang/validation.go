package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// A validation reads its own variable and, as in Terraform 1.9 and
// OpenTofu, any other variable of its recipe or module (Validation.Others).
// It is decided once every value it reads is: in a recipe when the
// variables are resolved; in a module with the values of the call's inputs
// (after their types and constraints, before their validations, so that
// two validations may read each other's variables), at validate and plan
// when they are known, else for each step instance of the module at apply.
// What a validation reads orders what reads its variable: a step that
// reads var.x waits for the steps and host groups the other inputs x's
// validations read are made from (analyzer.validationReads), so the rule
// is decided before the step runs.

// value evaluates the condition with vars (the variables it reads) and
// the functions funcs: a bool, unmarked, or unknown while a value it
// reads is.
func (vd *Validation) value(funcs map[string]function.Function, vars map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	ctx := withForBudget(&hcl.EvalContext{Functions: funcs, Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}})
	res, d := vd.Condition.Value(ctx)
	if d.HasErrors() {
		return cty.DynamicVal, d
	}
	res, _ = res.UnmarkDeep()
	return res, nil
}

// badCondition is the error for a validation condition whose value res is
// not true or false (null, another type, or unknown where every value it
// reads is known), nil when it is.
func badCondition(vd *Validation, res cty.Value) *hcl.Diagnostic {
	if res.IsKnown() && !res.IsNull() && res.Type() == cty.Bool {
		return nil
	}
	what := "not known"
	if res.IsKnown() {
		what = typeName(res)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
		Detail:  fmt.Sprintf("The condition must be true or false; here it is %s. Compare or convert it, e.g. length(var.x) > 0 or tobool(...).", what),
		Subject: vd.Condition.Range().Ptr()}
}

// checkValidationRefs reports every variable a validation reads that its
// recipe or module does not declare.
func (r *Recipe) checkValidationRefs() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range r.namespaces() {
		for _, v := range n.varList {
			for _, vd := range v.Validations {
				for _, tr := range vd.Condition.Variables() {
					if tr.RootName() != "var" || len(tr) < 2 {
						continue // refused when the block was read
					}
					if name := attrName(tr[1]); name != "" && n.vars[name] == nil {
						d := unknownRef("variable", name, tr.SourceRange(), keys(n.vars))
						d.Detail = fmt.Sprintf("The validation of variable %q reads var.%s, which is not declared. %s", v.Name, name, d.Detail)
						diags = append(diags, annotate(hcl.Diagnostics{d}, n.mod)...)
					}
				}
			}
		}
	}
	return diags
}

// validateRoot runs the validations of the recipe's variables whose
// values met their types and constraints (valid), with the values of
// those variables (vals). A validation that reads a variable whose value
// was refused is not run: that value's own error says what is wrong.
func (r *Recipe) validateRoot(vals map[string]cty.Value, valid map[string]bool, at func(*Variable) hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, v := range r.Variables {
		if !valid[v.Name] {
			continue
		}
	next:
		for _, vd := range v.Validations {
			vars := map[string]cty.Value{v.Name: vals[v.Name]}
			for _, o := range vd.Others {
				if !valid[o] {
					continue next
				}
				vars[o] = vals[o]
			}
			res, d := vd.value(r.funcs, vars)
			if d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			if d := badCondition(vd, res); d != nil {
				diags = append(diags, d)
				continue
			}
			if res.False() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("var.%s: %s", v.Name, vd.ErrorMessage), Subject: at(v).Ptr()})
			}
		}
	}
	return diags
}

// validateInput runs the validations of input v of module namespace n on
// its value val, for host (cty.NilVal: none); with perHost, only those
// that read an input the call sets from `host`. A validation whose
// result is not known yet (it reads a capture, an address, a fact or,
// with no host, an input set from host) is not decided here.
func (s *Scope) validateInput(n *namespace, v *Variable, val cty.Value, host cty.Value, perHost bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	m := n.mod
	for _, vd := range v.Validations {
		if perHost && !s.readsHostInput(n, vd) {
			continue
		}
		vars := map[string]cty.Value{v.Name: val}
		for _, o := range vd.Others {
			if w := n.vars[o]; w != nil {
				vars[o] = s.otherInput(n, w, host)
			}
		}
		res, d := vd.value(n.funcs, vars)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if !res.IsKnown() {
			continue // decided when what it reads is known
		}
		if d := badCondition(vd, res); d != nil {
			diags = append(diags, annotate(hcl.Diagnostics{d}, m)...)
			continue
		}
		if res.False() {
			// The inputs it read, for where their -var values came from.
			var read []hcl.Expression
			for _, name := range append([]string{v.Name}, vd.Others...) {
				if in := m.Inputs[name]; in != nil {
					read = append(read, in.Expr)
				}
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for module input",
				Detail:  fmt.Sprintf("%s (variable %q of module %s, validated at %s%s)%s", vd.ErrorMessage, v.Name, m.Addr, rangeString(vd.DeclRange), hostValues(host, vars), s.givenHint(m, read...)),
				Subject: m.inputRange(v).Ptr()})
		}
	}
	return diags
}

// readsHostInput says whether vd reads an input of n the call sets from
// `host`.
func (s *Scope) readsHostInput(n *namespace, vd *Validation) bool {
	for _, o := range vd.Others {
		if n.vars[o] != nil && s.Recipe.hostVar(n, o) {
			return true
		}
	}
	return false
}

// otherInput is the value of input w of module namespace n that a
// validation of another input reads: its type and constraints met, its
// own validations not run (they may read the other). Unknown when it is
// not known yet (set from host, and host is cty.NilVal) or was refused.
func (s *Scope) otherInput(n *namespace, w *Variable, host cty.Value) cty.Value {
	unknown := markSensitive(cty.UnknownVal(w.Type), w.Sensitive)
	if s.Recipe.hostVar(n, w.Name) {
		if host == cty.NilVal {
			return unknown
		}
		val, d := s.inputRaw(n, w, host)
		if d.HasErrors() {
			return unknown
		}
		return val
	}
	if val, ok := s.raw[nodeKey{n, 'v', w.Name}]; ok {
		return val
	}
	return unknown
}

// inputRange is where input v of m is given: the input at the call, or
// the call when v takes its default.
func (m *Module) inputRange(v *Variable) hcl.Range {
	if in := m.Inputs[v.Name]; in != nil {
		return in.Expr.Range()
	}
	return m.CallRange
}

// validationInputs are the inputs of module namespace k.n, other than
// k's own, that the validations of input k read.
func validationInputs(k nodeKey) []nodeKey {
	var out []nodeKey
	seen := map[string]bool{k.name: true}
	for _, vd := range k.n.vars[k.name].Validations {
		for _, o := range vd.Others {
			if !seen[o] && k.n.vars[o] != nil {
				seen[o] = true
				out = append(out, nodeKey{k.n, 'v', o})
			}
		}
	}
	return out
}

// hostValues says, for a validation decided for one host at apply (its
// inputs read from host: facts, addresses), what it read there: values
// the operator cannot see in the recipe. Sensitive and unknown values are
// left out; nothing without a host.
func hostValues(host cty.Value, vars map[string]cty.Value) string {
	if host == cty.NilVal || host.IsNull() || !host.Type().IsObjectType() || !host.Type().HasAttribute("name") {
		return ""
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		if v.IsMarked() || !v.IsWhollyKnown() {
			continue
		}
		parts = append(parts, fmt.Sprintf("var.%s is %s", name, renderShort(v)))
	}
	hn := host.GetAttr("name")
	if len(parts) == 0 || !hn.IsKnown() || hn.IsNull() || hn.Type() != cty.String {
		return ""
	}
	return fmt.Sprintf("; on %s %s", hn.AsString(), strings.Join(parts, ", "))
}
