package lang

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/go-cty-funcs/cidr"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Constraints are a variable's declarative checks, written as attributes
// of its `variable` block next to type and default:
//
//	min = 1, max = 7, integer = true     numbers
//	one_of = ["fuse", "kernel"]          any primitive type
//	format = "absolute_path"             strings, one of Formats
//	pattern = "[a-z][a-z0-9_-]*"         strings, RE2, matching the whole value
//	allow_empty = true                   strings: "" passes whatever else says
//
// Each is a literal of exactly the type it takes, nothing converted:
// min = "0" or integer = "true" is an error that says how to write it,
// and so is a reference (constraints are read at load, before values).
// Every constraint given must hold. For a list, set or map of primitives
// the constraints apply to each element. Null passes only when it is the
// default (then it means "not set"). They are
// checked where validation blocks are (resolving variables, evaluating a
// module's inputs), before them: a validation sees only values that meet
// the constraints. A default must meet them (checked at load).
type Constraints struct {
	Min, Max   cty.Value // cty.NilVal when not given
	Integer    bool
	OneOf      []cty.Value
	Format     string
	Pattern    string
	AllowEmpty bool

	re *regexp.Regexp
	// nullOK: the default is null, so null means "not set" and passes.
	nullOK bool
	// Range covers the first constraint attribute written, for messages
	// that point at the declaration (a module input's).
	Range hcl.Range
}

// Any says whether a constraint is given.
func (c *Constraints) Any() bool {
	return c.Min != cty.NilVal || c.Max != cty.NilVal || c.Integer || len(c.OneOf) > 0 || c.Format != "" || c.Pattern != "" || c.AllowEmpty
}

// format is a named string format.
type format struct {
	ok   func(string) bool
	text string // what it accepts, after "must be"
	// plain: every value it accepts is made of shellPlain characters,
	// so a variable of this format may reach a command unquoted
	// (shellflow.go).
	plain bool
}

func reFormat(expr string) func(string) bool {
	re := regexp.MustCompile(expr)
	return re.MatchString
}

// formats are the named formats of `format`. Kept small: anything else
// is a pattern.
var formats = map[string]format{
	"absolute_path": {reFormat(`^(/[a-zA-Z0-9._-]+)+$`),
		`an absolute path: "/" and names of letters, digits, ".", "_" and "-", such as "/mnt/data" (no trailing "/")`, true},
	"identifier": {reFormat(`^[a-zA-Z][a-zA-Z0-9_]*$`),
		`an identifier: a letter, then letters, digits and "_"`, true},
	"host": {reFormat(`^[a-zA-Z0-9.:-]+$`),
		`an IP address or a host name: letters, digits, ".", ":" and "-"`, true},
	"cidr": {func(s string) bool {
		_, err := cidr.HostFunc.Call([]cty.Value{cty.StringVal(s), cty.Zero})
		return err == nil
	}, `a CIDR block such as "10.0.0.0/16"`, true},
	"url": {reFormat(`^(https?|ftp)://[^\s'"]+$`),
		`an http, https or ftp URL without spaces or quotes`, false}, // $ ; & | are allowed
	"sha256": {reFormat(`^[0-9a-f]{64}$`),
		`a SHA-256 digest: 64 lowercase hex digits`, true},
}

// FormatNames lists the named formats of `format`, sorted.
func FormatNames() []string {
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// constraintAttrs are the constraint attributes of a variable block.
var constraintAttrs = []hcl.AttributeSchema{{Name: "min"}, {Name: "max"}, {Name: "integer"}, {Name: "one_of"},
	{Name: "format"}, {Name: "pattern"}, {Name: "allow_empty"}}

// constraintFor is the element type each constraint attribute needs;
// one_of, absent, takes any primitive type.
var constraintFor = map[string]cty.Type{"min": cty.Number, "max": cty.Number, "integer": cty.Number,
	"format": cty.String, "pattern": cty.String, "allow_empty": cty.String}

// elemType is the type each constraint applies to: the variable's type
// when primitive, its element type for a list, set or map of primitives,
// cty.NilType otherwise.
func elemType(t cty.Type) cty.Type {
	if t.IsPrimitiveType() {
		return t
	}
	if (t.IsListType() || t.IsSetType() || t.IsMapType()) && t.ElementType().IsPrimitiveType() {
		return t.ElementType()
	}
	return cty.NilType
}

// decodeConstraints reads the constraint attributes of variable v.
func decodeConstraints(v *Variable, attrs hcl.Attributes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c := &v.Constraints
	et := elemType(v.Type)
	c.nullOK = v.Default != cty.NilVal && v.Default.IsNull()
	first := true
	for _, s := range constraintAttrs {
		a := attrs[s.Name]
		if a == nil {
			continue
		}
		if first || a.Range.Start.Byte < c.Range.Start.Byte {
			c.Range, first = a.Range, false
		}
		want := constraintFor[s.Name]
		if et == cty.NilType || (want != cty.NilType && et != want) {
			need := "a primitive type (string, number, bool) or a list, set or map of one"
			if want != cty.NilType {
				need = fmt.Sprintf("type = %s (or a list, set or map of %s)", typeexpr.TypeString(want), typeexpr.TypeString(want))
			}
			have := "no type"
			if v.Type != cty.DynamicPseudoType {
				have = "type " + typeexpr.TypeString(v.Type)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Constraint does not fit the variable's type",
				Detail:  fmt.Sprintf("%s on variable %q needs %s; the variable has %s.", s.Name, v.Name, need, have),
				Subject: a.NameRange.Ptr()})
			continue
		}
		switch s.Name {
		case "min", "max":
			val, d := constraintLiteral(v.Name, a, cty.Number)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s.Name == "min" {
					c.Min = val
				} else {
					c.Max = val
				}
			}
		case "integer", "allow_empty":
			val, d := constraintLiteral(v.Name, a, cty.Bool)
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s.Name == "integer" {
					c.Integer = val.True()
				} else {
					c.AllowEmpty = val.True()
				}
			}
		case "format":
			val, d := constraintLiteral(v.Name, a, cty.String)
			if d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			c.Format = val.AsString()
			if _, ok := formats[c.Format]; !ok {
				hint := ""
				if sug := suggest(strings.ToLower(c.Format), FormatNames()); sug != "" {
					hint = fmt.Sprintf(" Did you mean %q?", sug)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown format",
					Detail: fmt.Sprintf("Variable %q: there is no format %s.%s The formats are %s. For anything else write pattern = \"REGEX\" or a validation block.",
						v.Name, quoteShort(c.Format), hint, strings.Join(FormatNames(), ", ")),
					Subject: a.Expr.Range().Ptr()})
				c.Format = ""
			}
		case "pattern":
			val, d := constraintLiteral(v.Name, a, cty.String)
			if d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			c.Pattern = val.AsString()
			if c.Pattern == "" {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid pattern",
					Detail:  fmt.Sprintf("Variable %q: pattern = \"\" matches only the empty string. Write the regular expression values must match, such as pattern = \"[a-z]+\", or remove pattern.", v.Name),
					Subject: a.Expr.Range().Ptr()})
				break
			}
			re, err := regexp.Compile(`^(?:` + c.Pattern + `)$`)
			if _, perr := regexp.Compile(c.Pattern); perr != nil {
				err = perr // name the user's pattern, not the anchored one
			}
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid pattern",
					Detail:  fmt.Sprintf("Variable %q: pattern is not a regular expression (RE2 syntax): %s.", v.Name, shorten(err.Error(), 200)),
					Subject: a.Expr.Range().Ptr()})
				c.Pattern = ""
				break
			}
			c.re = re
		case "one_of":
			if d := notLiteral(v.Name, a, `["fuse", "kernel"]`); d != nil {
				diags = append(diags, d)
				break
			}
			val, d := a.Expr.Value(nil)
			if d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			if !val.IsNull() && (val.Type().IsTupleType() || val.Type().IsListType()) && val.LengthInt() == 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid one_of",
					Detail:  fmt.Sprintf("Variable %q: one_of = [] allows no value at all. List the allowed values, such as [\"fuse\", \"kernel\"], or remove one_of.", v.Name),
					Subject: a.Expr.Range().Ptr()})
				break
			}
			if !(val.Type().IsTupleType() || val.Type().IsListType()) || val.IsNull() {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid one_of",
					Detail:  fmt.Sprintf("Variable %q: one_of is a list of the allowed values, such as [\"fuse\", \"kernel\"]; here it is %s.", v.Name, typeName(val)),
					Subject: a.Expr.Range().Ptr()})
				break
			}
			for i, ev := range val.AsValueSlice() {
				if ev.IsNull() || ev.Type() != et {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid one_of",
						Detail: fmt.Sprintf("Variable %q: the %s value of one_of, %s, is %s, and the variable is a %s: %s",
							v.Name, ordinal(i+1), shorten(renderShort(ev), 60), typeName(ev), typeexpr.TypeString(et), writeAs(ev, et, constraintExample[et])),
						Subject: a.Expr.Range().Ptr()})
					c.OneOf = nil
					break
				}
				c.OneOf = append(c.OneOf, ev)
			}
		}
	}
	if c.Min != cty.NilVal && c.Max != cty.NilVal && c.Min.GreaterThan(c.Max).True() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid constraint",
			Detail:  fmt.Sprintf("Variable %q: min (%s) is above max (%s): no value could pass.", v.Name, renderShort(c.Min), renderShort(c.Max)),
			Subject: attrs["max"].Expr.Range().Ptr()})
	}
	if c.AllowEmpty && c.Format == "" && c.Pattern == "" && len(c.OneOf) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid constraint",
			Detail:  fmt.Sprintf("Variable %q: allow_empty lets \"\" pass a format, pattern or one_of, and the variable has none: remove it.", v.Name),
			Subject: attrs["allow_empty"].NameRange.Ptr()})
	}
	return diags
}

// constraintExample is a literal of each constraint type, for messages.
var constraintExample = map[cty.Type]string{cty.Number: "1", cty.Bool: "true", cty.String: `"[a-z]+"`}

// constraintLiteral is the value of constraint attribute a of variable
// name: a literal of exactly type want. Nothing is converted: min = "0"
// is a string, not a number, and integer = "true" not a bool.
func constraintLiteral(name string, a *hcl.Attribute, want cty.Type) (cty.Value, hcl.Diagnostics) {
	example := constraintExample[want]
	if a.Name == "format" {
		example = `"cidr"`
	}
	if d := notLiteral(name, a, example); d != nil {
		return cty.NilVal, hcl.Diagnostics{d}
	}
	summary := map[cty.Type]string{cty.Number: "Expected a number", cty.Bool: "Expected true or false", cty.String: "Expected a string"}[want]
	bad := func(detail string) (cty.Value, hcl.Diagnostics) {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary,
			Detail: fmt.Sprintf("Variable %q: %s", name, detail), Subject: a.Expr.Range().Ptr()}}
	}
	val, d := a.Expr.Value(nil)
	switch {
	case d.HasErrors():
		return bad(fmt.Sprintf("%s must be a literal %s, such as %s = %s (%s).", a.Name, typeexpr.TypeString(want), a.Name, example, d[0].Summary))
	case val.IsNull():
		return bad(fmt.Sprintf("%s = null sets no constraint: remove the attribute, or write %s = %s.", a.Name, a.Name, example))
	case !val.IsWhollyKnown():
		return bad(fmt.Sprintf("%s must be a literal %s, such as %s = %s.", a.Name, typeexpr.TypeString(want), a.Name, example))
	case val.Type() != want:
		return bad(fmt.Sprintf("%s is %s (%s); it must be a %s: %s", a.Name, typeName(val), shorten(renderShort(val), 60),
			typeexpr.TypeString(want), writeAs(val, want, example)))
	case want == cty.Number && val.AsBigFloat().IsInf():
		return bad(fmt.Sprintf("%s is infinite; write a finite number, such as %s = %s.", a.Name, a.Name, example))
	}
	return val, nil
}

// notLiteral says that a constraint refers to something (var.x,
// local.y): constraints are read at load, before anything has a value.
func notLiteral(name string, a *hcl.Attribute, example string) *hcl.Diagnostic {
	refs := a.Expr.Variables()
	if len(refs) == 0 {
		return nil
	}
	if root := refs[0].RootName(); len(refs[0]) == 1 && !slices.Contains([]string{"var", "local", "module", "step", "hosts", "host"}, root) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Constraint is not a literal",
			Detail: fmt.Sprintf("Variable %q: %s = %s is a bare name, not a value: a string is written in quotes, %s = %q.",
				name, a.Name, root, a.Name, root),
			Subject: refs[0].SourceRange().Ptr()}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Constraint is not a literal",
		Detail: fmt.Sprintf("Variable %q: %s refers to %s, but constraints are read when the recipe loads, before any value is known: "+
			"write a literal, such as %s = %s, or check the value against others in a validation block.",
			name, a.Name, traversalString(refs[0]), a.Name, example),
		Subject: refs[0].SourceRange().Ptr()}
}

// traversalString renders var.x.y (attributes only; index steps as [...]).
func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, t := range tr {
		switch t := t.(type) {
		case hcl.TraverseRoot:
			b.WriteString(t.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + t.Name)
		default:
			b.WriteString("[...]")
		}
	}
	return b.String()
}

// typeName names the kind of v for messages: "a string", "a list", ...
func typeName(v cty.Value) string {
	t := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "a bool"
	case t.IsTupleType() || t.IsListType():
		return "a list"
	case t.IsSetType():
		return "a set"
	case t.IsObjectType() || t.IsMapType():
		return "an object"
	}
	return "a " + typeexpr.TypeString(t)
}

// writeAs says how to write v as a literal of type want: without quotes
// when the string holds one, in quotes when a string is wanted, else as
// example ex.
func writeAs(v cty.Value, want cty.Type, ex string) string {
	if !v.IsNull() && v.Type() == cty.String {
		if cv, err := convert.Convert(v, want); err == nil && !cv.IsNull() {
			if want == cty.Number && cv.AsBigFloat().IsInf() {
				return "write a finite number such as " + ex + "."
			}
			return fmt.Sprintf("write %s without quotes.", shorten(v.AsString(), 40))
		}
	}
	if want == cty.String && !v.IsNull() && v.Type().IsPrimitiveType() {
		return fmt.Sprintf("write it in quotes, %s.", shorten(renderShort(cty.StringVal(renderPlain(v))), 40))
	}
	switch want {
	case cty.Number:
		return "write a number without quotes, such as " + ex + "."
	case cty.Bool:
		return "write true or false without quotes."
	}
	return "write a string in quotes, such as " + ex + "."
}

// renderPlain is a number or bool as HCL writes it.
func renderPlain(v cty.Value) string {
	if v.Type() == cty.Number {
		return v.AsBigFloat().Text('g', -1)
	}
	if v.Type() == cty.Bool {
		return fmt.Sprint(v.True())
	}
	return renderShort(v)
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// quoteShort is s quoted for a message, cut when long.
func quoteShort(s string) string { return shorten(fmt.Sprintf("%q", s), 80) }

// Describe says what the constraints accept, after "must be": "a whole
// number from 1 to 65535", `one of "fuse", "kernel"`; "" when none.
func (c *Constraints) Describe() string {
	var parts []string
	var num []string
	if c.Integer {
		num = append(num, "a whole number")
	}
	switch {
	case c.Min != cty.NilVal && c.Max != cty.NilVal:
		num = append(num, fmt.Sprintf("from %s to %s", renderShort(c.Min), renderShort(c.Max)))
	case c.Min != cty.NilVal:
		num = append(num, "at least "+renderShort(c.Min))
	case c.Max != cty.NilVal:
		num = append(num, "at most "+renderShort(c.Max))
	}
	if len(num) > 0 {
		parts = append(parts, strings.Join(num, ", "))
	}
	if len(c.OneOf) > 0 {
		vals := make([]string, len(c.OneOf))
		for i, v := range c.OneOf {
			vals[i] = renderShort(v)
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	switch {
	case c.Format != "" && c.Pattern != "":
		parts = append(parts, fmt.Sprintf("%s, matching the pattern %q as a whole", formats[c.Format].text, c.Pattern))
	case c.Format != "":
		parts = append(parts, formats[c.Format].text)
	case c.Pattern != "":
		parts = append(parts, fmt.Sprintf("a string matching the pattern %q as a whole", c.Pattern))
	}
	s := strings.Join(parts, "; ")
	if c.AllowEmpty && s != "" {
		s += ` or empty ("")`
	}
	return s
}

// ok says whether one primitive, known, non-null value meets them.
func (c *Constraints) ok(v cty.Value) bool {
	if v.Type() == cty.String && c.AllowEmpty && v.AsString() == "" {
		return true
	}
	if c.Min != cty.NilVal && v.LessThan(c.Min).True() {
		return false
	}
	if c.Max != cty.NilVal && v.GreaterThan(c.Max).True() {
		return false
	}
	if c.Integer && !v.AsBigFloat().IsInt() {
		return false
	}
	if len(c.OneOf) > 0 {
		found := false
		for _, o := range c.OneOf {
			if o.Equals(v).True() {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if c.Format != "" && !formats[c.Format].ok(v.AsString()) {
		return false
	}
	if c.re != nil && !c.re.MatchString(v.AsString()) {
		return false
	}
	return true
}

// Check returns "" when val (of the variable's type, maybe marked) meets
// the constraints, or is null or not wholly known; else a sentence naming
// the variable (label: "var.servers"), the offending value (not when
// sensitive) and what is allowed, without a final period.
func (c *Constraints) Check(label string, val cty.Value) string {
	if !c.Any() || val == cty.NilVal {
		return ""
	}
	val, marks := val.UnmarkDeep()
	_, sensitive := marks[Sensitive]
	if !val.IsWhollyKnown() || (val.IsNull() && c.nullOK) {
		return ""
	}
	show := func(v cty.Value) string {
		if sensitive {
			return "(sensitive)"
		}
		return renderShort(v)
	}
	if val.IsNull() {
		return fmt.Sprintf("%s is null; it must be %s", label, c.Describe())
	}
	if val.Type().IsPrimitiveType() {
		if c.ok(val) {
			return ""
		}
		return fmt.Sprintf("%s is %s; it must be %s", label, show(val), c.Describe())
	}
	if !val.CanIterateElements() {
		return ""
	}
	for it := val.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		if !ev.IsNull() && c.ok(ev) {
			continue
		}
		switch {
		case val.Type().IsMapType():
			return fmt.Sprintf("%s[%q] is %s; each element must be %s", label, k.AsString(), show(ev), c.Describe())
		case val.Type().IsListType():
			return fmt.Sprintf("%s[%s] is %s; each element must be %s", label, k.AsBigFloat().Text('f', -1), show(ev), c.Describe())
		}
		return fmt.Sprintf("%s holds %s; each element must be %s", label, show(ev), c.Describe())
	}
	return ""
}

// markSensitive marks v sensitive when sensitive is set (and v is a value).
func markSensitive(v cty.Value, sensitive bool) cty.Value {
	if !sensitive || v == cty.NilVal {
		return v
	}
	return v.Mark(Sensitive)
}

// ordinal is "1st", "2nd", "3rd", "4th" … "11th", "21st".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
