package lang

import (
	"fmt"
	"regexp"
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
}

func reFormat(expr string) func(string) bool {
	re := regexp.MustCompile(expr)
	return re.MatchString
}

// formats are the named formats of `format`. Kept small: anything else
// is a pattern.
var formats = map[string]format{
	"absolute_path": {reFormat(`^(/[a-zA-Z0-9._-]+)+$`),
		`an absolute path: "/" and names of letters, digits, ".", "_" and "-", such as "/mnt/data" (no trailing "/")`},
	"identifier": {reFormat(`^[a-zA-Z][a-zA-Z0-9_]*$`),
		`an identifier: a letter, then letters, digits and "_"`},
	"host": {reFormat(`^[a-zA-Z0-9.:-]+$`),
		`an IP address or a host name: letters, digits, ".", ":" and "-"`},
	"cidr": {func(s string) bool {
		_, err := cidr.HostFunc.Call([]cty.Value{cty.StringVal(s), cty.Zero})
		return err == nil
	}, `a CIDR block such as "10.0.0.0/16"`},
	"url": {reFormat(`^(https?|ftp)://[^\s'"]+$`),
		`an http, https or ftp URL without spaces or quotes`},
	"sha256": {reFormat(`^[0-9a-f]{64}$`),
		`a SHA-256 digest: 64 lowercase hex digits`},
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
			val, d := constValue(a.Expr, cty.Number, "a number")
			diags = append(diags, d...)
			if !d.HasErrors() {
				if s.Name == "min" {
					c.Min = val
				} else {
					c.Max = val
				}
			}
		case "integer":
			diags = append(diags, constBool(a.Expr, &c.Integer)...)
		case "allow_empty":
			diags = append(diags, constBool(a.Expr, &c.AllowEmpty)...)
		case "format":
			if d := constString(a.Expr, &c.Format); d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			if _, ok := formats[c.Format]; !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown format",
					Detail: fmt.Sprintf("Variable %q: there is no format %q; the formats are %s. For anything else write pattern = \"REGEX\" or a validation block.",
						v.Name, c.Format, strings.Join(FormatNames(), ", ")),
					Subject: a.Expr.Range().Ptr()})
				c.Format = ""
			}
		case "pattern":
			if d := constString(a.Expr, &c.Pattern); d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			re, err := regexp.Compile(`^(?:` + c.Pattern + `)$`)
			if _, perr := regexp.Compile(c.Pattern); perr != nil {
				err = perr // name the user's pattern, not the anchored one
			}
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid pattern",
					Detail:  fmt.Sprintf("Variable %q: pattern is not a regular expression (RE2 syntax): %v.", v.Name, err),
					Subject: a.Expr.Range().Ptr()})
				c.Pattern = ""
				break
			}
			c.re = re
		case "one_of":
			val, d := a.Expr.Value(nil)
			if d.HasErrors() {
				diags = append(diags, d...)
				break
			}
			if !(val.Type().IsTupleType() || val.Type().IsListType()) || val.IsNull() || val.LengthInt() == 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid one_of",
					Detail:  fmt.Sprintf("Variable %q: one_of is a list of the allowed values, such as [\"fuse\", \"kernel\"].", v.Name),
					Subject: a.Expr.Range().Ptr()})
				break
			}
			for _, ev := range val.AsValueSlice() {
				cv, err := convert.Convert(ev, et)
				if err != nil || cv.IsNull() {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid one_of",
						Detail:  fmt.Sprintf("Variable %q: one_of value %s is not a %s.", v.Name, renderShort(ev), typeexpr.TypeString(et)),
						Subject: a.Expr.Range().Ptr()})
					c.OneOf = nil
					break
				}
				c.OneOf = append(c.OneOf, cv)
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

// constValue is a literal of type ty (what names it in messages).
func constValue(expr hcl.Expression, ty cty.Type, what string) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	cv, err := convert.Convert(v, ty)
	if err != nil || cv.IsNull() {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expected " + what,
			Detail: fmt.Sprintf("This must be %s, written as a literal.", what), Subject: expr.Range().Ptr()}}
	}
	return cv, nil
}

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
