package lang

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"diffuser/internal/ctypath"
	"diffuser/internal/text"
	"diffuser/runner"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Inputs are variable values from outside the recipe, lowest precedence
// first: the site file, then the workspace's remembered values, then
// -var-file files in order, then -var flags.
type Inputs struct {
	Site *Site
	// Remembered are the values the workspace's last apply ran with
	// (RememberedVars), above the site file and below -var-file and -var.
	Remembered RememberedVars
	VarFiles   []string
	Vars       []string // "name=value"
}

// RememberedVars are a workspace's remembered variable values by name, and
// how a person sees them (e.g. "diffuser vars glusterfs"), for messages.
type RememberedVars struct {
	Vars map[string]RememberedVar
	From string
}

// RememberedVar is one remembered value. A sensitive variable is kept only
// as a digest: Value is cty.NilVal and the variable must be given again.
type RememberedVar struct {
	Value     cty.Value
	Sensitive bool
}

// VarSource says where a variable's value came from.
type VarSource int

// Variable sources, lowest precedence first.
const (
	FromDefault    VarSource = iota // the recipe's default
	FromSite                        // the site file's variables block
	FromRemembered                  // the workspace's last apply
	FromVarFile                     // a -var-file
	FromVar                         // a -var flag
)

// Resolved is every variable's value and where it came from.
type Resolved struct {
	Values  map[string]cty.Value // sensitive ones marked Sensitive
	Sources map[string]VarSource
}

type varValue struct {
	val cty.Value
	rng hcl.Range
	src VarSource
}

// ResolveVariables computes every variable's value and runs its validations.
// Sensitive variables come back marked sensitive.
func (r *Recipe) ResolveVariables(in Inputs) (map[string]cty.Value, hcl.Diagnostics) {
	res, diags := r.Resolve(in)
	return res.Values, diags
}

// Resolve computes every variable's value, says where each came from, and
// runs the validations. Sensitive variables come back marked sensitive.
func (r *Recipe) Resolve(in Inputs) (Resolved, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	given := map[string]varValue{}
	siteSet := map[string]bool{}
	src := FromSite
	set := func(name string, expr hcl.Expression, raw *string, rng hcl.Range) {
		v := r.varIdx[name]
		if v == nil && siteSet[name] {
			// A site file serves several recipes: a value for a variable
			// this recipe lacks is for another one, maybe its secret, and
			// the warning comes on every run. Name the file and line, do
			// not show the line.
			rng = hcl.Range{Filename: fmt.Sprintf("<%s in %s>", name, rng.Filename), Start: rng.Start, End: rng.Start}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Site value for another recipe's variable",
				Detail: fmt.Sprintf("Recipe %q has no variable %q; the site file's value is ignored.%s", r.Name, name, didYouMean(name, keys(r.varIdx))), Subject: rng.Ptr()})
			return
		}
		if v == nil {
			// Name the flag or the file and line, not the value: the name
			// is what is wrong, and a misspelt name is often a secret's
			// (-var pasword=..., "Did you mean password?"), whose value
			// the error would print to the terminal and CI logs.
			where := fmt.Sprintf("<%s in %s>", name, rng.Filename)
			if raw != nil {
				where = "<-var " + name + ">"
			}
			rng = hcl.Range{Filename: where, Start: rng.Start, End: rng.Start}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("Recipe %q has no variable %q.%s", r.Name, name, nearOrKnown(name, keys(r.varIdx))), Subject: rng.Ptr()})
			return
		}
		if v.Sensitive && raw == nil {
			// From a site or variables file: diagnostics name the file and
			// line, never show the line (it holds the value).
			rng = sensitiveRange(name, rng)
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
				_, word := hcl.AbsTraversalForExpr(expr)
				if v.Type == cty.DynamicPseudoType || !word.HasErrors() {
					// An untyped variable takes what is not an expression as
					// a string; so does any variable a bare word (-var
					// export_to=lab: conversion says how a list is written).
					val, d = cty.StringVal(*raw), nil
				} else {
					diags = append(diags, notHCLValue(v, rng, d))
					return
				}
			}
			if d.HasErrors() {
				if v.Sensitive {
					for _, e := range d {
						e.Subject, e.Context = rng.Ptr(), nil
					}
				}
				diags = append(diags, d...)
				return
			}
		}
		given[name] = varValue{val, rng, src}
	}
	if in.Site != nil {
		for name, a := range in.Site.Vars {
			siteSet[name] = true
			set(name, a.Expr, nil, a.Range)
			delete(siteSet, name)
		}
	}
	fromSite := maps.Clone(given)
	diags = append(diags, r.remembered(in.Remembered, given)...)
	src = FromVarFile
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
		file, d := parseVarFile(f, b)
		diags = append(diags, d...)
		r.Files[f] = file // even when broken: diagnostics quote it
		if d.HasErrors() {
			continue
		}
		attrs, d := file.Body.JustAttributes()
		for _, e := range d {
			if strings.HasPrefix(e.Summary, "Unexpected ") && strings.HasSuffix(e.Summary, " block") {
				e.Detail += " A -var-file holds only NAME = VALUE lines; a recipe is the command's argument, a site file (provider and variables blocks) goes to -site."
			}
		}
		diags = append(diags, d...)
		for name, a := range attrs {
			set(name, a.Expr, nil, a.Range)
		}
	}
	src = FromVar
	for _, kv := range in.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		label := "<-var " + kv + ">"
		if v := r.varIdx[name]; v != nil && v.Sensitive {
			// A diagnostic names its source: never by the value.
			label = "<sensitive var." + name + ">"
		}
		rng := hcl.Range{Filename: label, Start: hcl.InitialPos,
			End: hcl.Pos{Line: 1, Column: 1 + len(kv), Byte: len(kv)}}
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var",
				Detail: fmt.Sprintf("%q must be NAME=VALUE, e.g. -var servers=3.", kv)})
			continue
		}
		if why := text.Problem(raw); why != "" {
			// Files are checked by their parsers; a flag is bytes as typed.
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var",
				Detail: fmt.Sprintf("The value of -var %s %s: values are recorded in state and used in commands, which hold text only. "+
					"Give it as UTF-8 text; for binary data, give it base64-encoded (base64 -w0) and decode it on the host where it is used (base64 -d).", name, why)})
			continue
		}
		var expr hcl.Expression
		expr, d := hclsyntax.ParseExpression([]byte(raw), rng.Filename, hcl.InitialPos)
		if v := r.varIdx[name]; d.HasErrors() && v != nil && !v.Type.IsPrimitiveType() && v.Type != cty.DynamicPseudoType &&
			strings.ContainsAny(strings.TrimSpace(raw)[:min(1, len(strings.TrimSpace(raw)))], "[{") {
			// A list, map or object written in HCL that does not parse:
			// say why, rather than take it as a string and say that a
			// string is not a list. A bare word gets the hint how to
			// write a list (below).
			diags = append(diags, notHCLValue(v, rng, d))
			continue
		}
		if d.HasErrors() {
			// A value that is not an expression is taken as a string.
			expr = hcl.StaticExpr(cty.StringVal(raw), rng)
		}
		rawCopy := raw
		set(name, expr, &rawCopy, rng)
	}
	diags = append(diags, r.forgottenSensitive(in.Remembered, given)...)
	diags = append(diags, r.siteOverridden(fromSite, given, in.Remembered.From)...)
	if diags.HasErrors() {
		return Resolved{}, diags
	}
	out := map[string]cty.Value{}
	sources := map[string]VarSource{}
	valid := map[string]bool{} // of its type, and meets its constraints
	for _, v := range r.Variables {
		gv, ok := given[v.Name]
		val := v.Default
		sources[v.Name] = FromDefault
		if ok {
			cv, err := convert.Convert(gv.val, v.Type)
			if err != nil {
				detail := fmt.Sprintf("Variable %q must be %s: %v.%s", v.Name, typeexpr.TypeString(v.Type), err, attrTypoHint(gv.val, v.Type))
				if gv.src == FromVar && !v.Sensitive && gv.val.Type() == cty.String && gv.val.IsKnown() && !gv.val.IsNull() &&
					(v.Type.IsListType() || v.Type.IsSetType()) {
					detail += fmt.Sprintf(" A list on the command line is written in HCL: -var '%s=[%q]'.", v.Name, gv.val.AsString())
				}
				if gv.src == FromRemembered {
					detail = fmt.Sprintf("The last apply of this workspace set var.%s to a value that is not %s, as the recipe now declares it: %v. "+
						"Give it again with -var %s=VALUE, or pass -remembered=false to ignore the remembered inputs (%s).",
						v.Name, typeexpr.TypeString(v.Type), err, v.Name, in.Remembered.From)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: detail, Subject: gv.rng.Ptr()})
				continue
			}
			val = cv
			sources[v.Name] = gv.src
		}
		if val == cty.NilVal {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing variable",
				Detail:  fmt.Sprintf("Variable %q has no default; set it with -var %s=VALUE, a -var-file, or the site file's variables block.", v.Name, v.Name),
				Subject: v.DeclRange.Ptr()})
			continue
		}
		if err := checkNumbers(val); err != nil {
			// cty keeps such a number (-var n=1e400) exactly; it would
			// fail only later, deep in an expression, or take minutes to
			// write as text.
			subj := v.DeclRange
			if ok {
				subj = gv.rng
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail:  fmt.Sprintf("var.%s: %s; give a number within that range.", v.Name, err),
				Subject: subj.Ptr()})
			continue
		}
		if why := notText(val); ok && why != "" {
			// -var text is checked as typed; this is what a file's escape
			// ("\u0000"), a JSON file's bytes or state's memory gives.
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("var.%s (%s) %s: values are recorded in state and used in commands, which hold text only. "+
					"Give it as UTF-8 text without NUL; for binary data, give it base64-encoded (base64 -w0) and decode it on the host where it is used (base64 -d).",
					v.Name, gv.src.given(), why),
				Subject: gv.rng.Ptr()})
			continue
		}
		if v.Sensitive {
			val = val.Mark(Sensitive)
		}
		out[v.Name] = val
		if msg := v.Constraints.Check("var."+v.Name, val); msg != "" {
			msg += "."
			subj := v.DeclRange
			if ok {
				subj = gv.rng
				if gv.src == FromRemembered {
					msg += fmt.Sprintf(" The last apply of this workspace set it; give it again with -var %s=VALUE, or pass -remembered=false (%s).", v.Name, in.Remembered.From)
				}
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: msg, Subject: subj.Ptr()})
			continue // validations see only values that meet the constraints
		}
		valid[v.Name] = true
	}
	// Once every value is known: a validation may read other variables.
	diags = append(diags, r.validateRoot(out, valid, func(v *Variable) hcl.Range {
		if gv, ok := given[v.Name]; ok {
			return gv.rng
		}
		return v.DeclRange
	})...)
	return Resolved{Values: out, Sources: sources}, diags
}

// sensitiveRange stands for rng, where a sensitive variable's value is
// written in a file: it names the file and line, but no file by that name
// is loaded, so a diagnostic shows no source line (which holds the value).
func sensitiveRange(name string, rng hcl.Range) hcl.Range {
	return hcl.Range{Filename: fmt.Sprintf("<sensitive var.%s in %s>", name, rng.Filename), Start: rng.Start, End: rng.Start}
}

// parseVarFile parses a -var-file: JSON when its name ends in .json (as
// Terraform's .tfvars.json: one object, a property per variable, strings
// taken as written), else HCL attributes. An HCL file that reads as JSON
// is told to be named .json.
func parseVarFile(name string, b []byte) (*hcl.File, hcl.Diagnostics) {
	if strings.HasSuffix(strings.ToLower(name), ".json") {
		file, d := hcljson.Parse(b, name)
		if len(d) > 1 && d.HasErrors() {
			d = d[:1] // "Root value must be object" follows any syntax error
		}
		return file, d
	}
	file, d := hclsyntax.ParseConfig(unixNewlines(b), name, hcl.InitialPos)
	if d.HasErrors() && strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(string(b), "\ufeff"), " \t\r\n"), "{") {
		d[0].Detail += fmt.Sprintf(" %s looks like JSON: a JSON variables file is read as JSON when its name ends in .json; an HCL one holds NAME = VALUE lines.", name)
	}
	return file, d
}

// notHCLValue is the error for a -var value of a list, map or object
// variable that is not a constant HCL value: a syntax error, a function
// call or a reference (d says which; not quoted for a sensitive variable).
func notHCLValue(v *Variable, rng hcl.Range, d hcl.Diagnostics) *hcl.Diagnostic {
	why := ""
	if len(d) > 0 && !v.Sensitive {
		why = fmt.Sprintf(" This one is not: %s: %s", d[0].Summary, strings.TrimSuffix(d[0].Detail, "."))
		if d[0].Subject != nil && d[0].Subject.Start.Line == 1 {
			// Columns of the -var as shown, NAME= included.
			why += fmt.Sprintf(" (at column %d)", d[0].Subject.Start.Column+len(v.Name)+1)
		}
		why += "."
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
		Detail: fmt.Sprintf("Variable %q must be %s, written in HCL syntax (constants only: no functions or references) and quoted for the shell, "+
			"e.g. -var '%s=[\"a\", \"b\"]' for a list or -var '%s={ key = \"value\" }' for a map.%s",
			v.Name, typeexpr.TypeString(v.Type), v.Name, v.Name, why),
		Subject: rng.Ptr()}
}

// remembered sets the remembered values, over the site file's. A value
// for a variable the recipe no longer declares is a warning: the recipe
// changed since the last apply, and the next apply forgets it.
func (r *Recipe) remembered(mem RememberedVars, given map[string]varValue) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedNames(mem.Vars) {
		rv := mem.Vars[name]
		if r.varIdx[name] == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Remembered value for a variable the recipe no longer declares",
				Detail: fmt.Sprintf("The last apply of this workspace set var.%s, which recipe %q no longer declares; the value is ignored and the next apply forgets it (%s).",
					name, r.Name, mem.From)})
			continue
		}
		if rv.Value == cty.NilVal {
			continue // sensitive: only its digest is kept (forgottenSensitive)
		}
		text := "(sensitive)"
		if !rv.Sensitive {
			text = renderShort(rv.Value)
		}
		label := fmt.Sprintf("<remembered %s = %s (%s)>", name, text, mem.From)
		rng := hcl.Range{Filename: label, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: 1 + len(label), Byte: len(label)}}
		given[name] = varValue{rv.Value, rng, FromRemembered}
	}
	return diags
}

// siteOverridden warns, at the site file's line, of every value the site
// file sets that a different remembered value overrides: editing the
// site file's variables block (group_vars, a tfvars file) after an apply
// otherwise planned "No changes", the edit silently unused.
func (r *Recipe) siteOverridden(site, given map[string]varValue, from string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedNames(site) {
		v, gv := r.varIdx[name], given[name]
		if v == nil || v.Sensitive || gv.src != FromRemembered {
			continue
		}
		sv, err1 := convert.Convert(site[name].val, v.Type)
		rv, err2 := convert.Convert(gv.val, v.Type)
		if err1 == nil && err2 == nil && sv.IsWhollyKnown() && rv.IsWhollyKnown() && sv.RawEquals(rv) {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Site file value overridden by a remembered one",
			Detail: fmt.Sprintf("The site file sets %s = %s, but the last apply of this workspace ran with %s, and a remembered value wins over the site file's (%s). "+
				"To use the site file's value, give it once with -var %s=VALUE (the apply remembers it), or pass -remembered=false.",
				name, renderShort(site[name].val), renderShort(gv.val), from, name),
			Subject: site[name].rng.Ptr()})
	}
	return diags
}

// forgottenSensitive reports every remembered sensitive variable that was
// not given again: the workspace kept only its digest, so its value is
// known to nobody but the person who typed it.
func (r *Recipe) forgottenSensitive(mem RememberedVars, given map[string]varValue) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedNames(mem.Vars) {
		v := r.varIdx[name]
		if v == nil || mem.Vars[name].Value != cty.NilVal {
			continue
		}
		if gv, ok := given[name]; ok && gv.src > FromRemembered {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Sensitive variable not given again",
			Detail: fmt.Sprintf("The last apply of this workspace set the sensitive variable %q, and only its digest was kept, not its value (%s). "+
				"Give it again with -var %s=VALUE or in a -var-file, or pass -remembered=false to use the recipe's default or the site file's value.",
				name, mem.From, name),
			Subject: v.DeclRange.Ptr()})
	}
	return diags
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// renderShort is a value in JSON, for labels: strings quoted, lists in
// brackets, maps and objects in braces. A long one is cut (ClipShown): a
// string's text after MaxShownValue bytes, saying how long it was.
func renderShort(v cty.Value) string {
	if v.Type() == cty.String && v.IsKnown() && !v.IsNull() && !v.IsMarked() {
		if head, more := runner.Clip(v.AsString(), MaxShownValue); more != "" {
			return renderJSON(cty.StringVal(head)) + more
		}
	}
	return ClipShown(renderJSON(v))
}

func renderJSON(v cty.Value) string {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(b)
}

// MaxShownValue is how many bytes of a value a diagnostic shows: a
// -var port=1e308 is 309 digits, a module input may hold a whole file.
const MaxShownValue = 100

// ClipShown is s, a value as a diagnostic shows it, cut after
// MaxShownValue bytes, saying how long it was: "10000…  (309 bytes in
// all)" (runner.Clip).
func ClipShown(s string) string {
	head, more := runner.Clip(s, MaxShownValue)
	return head + more
}

// QuoteShown is string s quoted for a diagnostic, its text cut after
// MaxShownValue bytes, saying how long it was: "aaa…"… (1000 bytes in all).
func QuoteShown(s string) string {
	head, more := runner.Clip(s, MaxShownValue)
	return fmt.Sprintf("%q", head) + more
}

// nearOrKnown is " Did you mean "x"?" for the name in names nearest to
// name, else knownList(names).
func nearOrKnown(name string, names []string) string {
	if s := didYouMean(name, names); s != "" {
		return s
	}
	return knownList(names)
}

func knownList(names []string) string {
	if len(names) == 0 {
		return " It declares none."
	}
	return " Declared: " + strings.Join(names, ", ") + "."
}

// didYouMean is " Did you mean "X"?" when a declared name is a typo away
// from name, else "".
func didYouMean(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// notText says where in v a string is no value's text (text.Problem):
// "" when none is, else e.g. "[1] holds a NUL byte (at byte 2)". A
// variable file's "\u0000" or a JSON file's bytes that are not UTF-8 give
// such strings; the text itself is not quoted (it may be a secret).
func notText(v cty.Value) string {
	var bad string
	_ = cty.Walk(v, func(p cty.Path, x cty.Value) (bool, error) {
		if bad != "" || !x.IsKnown() || x.IsNull() {
			return false, nil
		}
		if len(p) > 0 {
			if k, ok := p[len(p)-1].(cty.IndexStep); ok && k.Key.Type() == cty.String {
				if why := text.Problem(k.Key.AsString()); why != "" {
					bad = "a key of " + strings.TrimSpace("the value"+pathString(p[:len(p)-1])) + " " + why
					return false, nil
				}
			}
		}
		if x.Type() == cty.String {
			if why := text.Problem(x.AsString()); why != "" {
				bad = strings.TrimSpace(pathString(p) + " " + why)
			}
		}
		return true, nil
	})
	return bad
}

// pathString is where p leads inside a value: ".attr", "[1]", ["key"].
func pathString(p cty.Path) string {
	s := ctypath.String(p)
	if s != "" && !strings.HasPrefix(s, "[") {
		return "." + s
	}
	return s
}
