package steps_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"diffuser/steps"
	"diffuser/steps/builtin"
)

// testSchema exercises every kind of rule.
var testSchema = &steps.Schema{Kind: "demo", Args: []steps.Arg{
	{Name: "path", Type: cty.String, Required: true, Check: steps.FilePath(), Doc: "where"},
	{Name: "state", Default: cty.StringVal("on"), Check: steps.OneOf("on", "off")},
	{Name: "port", Type: cty.Number, Check: steps.IntBetween(1, 10)},
	{Name: "command", Type: cty.String},
	{Name: "host", Default: cty.StringVal("localhost")},
	{Name: "names", Type: cty.List(cty.String), Check: steps.Each(steps.Word("a name", ""))},
	{Name: "env", Type: cty.Map(cty.String), Check: steps.Keys(steps.Word("a key", "="))},
	{Name: "every", Default: cty.StringVal("2s"), Check: steps.Duration()},
	{Name: "mode", Default: cty.StringVal("0644"), Check: steps.OctalMode()},
}, Rules: []steps.Rule{
	steps.ExactlyOneOf("port", "command", "one or the other"),
	steps.OnlyWith("host", "port", nil, "it is where port is"),
}}

func demoArgs(attrs map[string]cty.Value) cty.Value {
	ty := hcldec.ImpliedType(testSchema.Spec())
	vals := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		vals[name] = cty.NullVal(at)
		if v, ok := attrs[name]; ok {
			vals[name] = v
		}
	}
	return cty.ObjectVal(vals)
}

func TestSchemaValidate(t *testing.T) {
	ok := map[string]cty.Value{"path": cty.StringVal("/etc/x"), "port": cty.NumberIntVal(3)}
	with := func(k string, v cty.Value) map[string]cty.Value {
		m := map[string]cty.Value{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, c := range []struct {
		name  string
		attrs map[string]cty.Value
		want  []string // "arg|summary|detail substring"; none: valid
	}{
		{"valid", ok, nil},
		{"relative path", with("path", cty.StringVal("etc/x")),
			[]string{`path|Invalid demo path|path must be an absolute file path such as "/etc/app.conf", not "etc/x".`}},
		{"directory path", with("path", cty.StringVal("/etc/")), []string{"path|Invalid demo path|"}},
		{"null required", with("path", cty.NullVal(cty.String)), []string{"path|Missing demo path|path is required: where."}},
		{"enum", with("state", cty.StringVal("of")), []string{`state|Invalid demo state|must be one of "on" or "off", not "of".`}},
		{"range", with("port", cty.NumberIntVal(11)), []string{"port|Invalid demo port|a whole number from 1 to 10, not 11."}},
		{"fraction", with("port", cty.NumberFloatVal(2.5)), []string{"port|Invalid demo port|not 2.5."}},
		{"element", with("names", cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b c")})),
			[]string{`names|Invalid demo names|names[1] must be a name, not "b c".`}},
		{"unknown element", with("names", cty.ListVal([]cty.Value{cty.UnknownVal(cty.String), cty.StringVal("-x")})),
			[]string{`names|Invalid demo names|names[1] must be`}},
		{"key", with("env", cty.MapVal(map[string]cty.Value{"A=B": cty.StringVal("x")})),
			[]string{`env|Invalid demo env|each key of env must be a key, not "A=B".`}},
		{"duration", with("every", cty.StringVal("2 s")), []string{"every|Invalid demo every|"}},
		{"zero duration", with("every", cty.StringVal("0s")), []string{"every|Invalid demo every|"}},
		{"mode", with("mode", cty.StringVal("0800")), []string{"mode|Invalid demo mode|"}},
		{"both", with("command", cty.StringVal("true")),
			[]string{"command|Conflicting demo arguments|Set exactly one of port and command, not both: one or the other."}},
		{"neither", map[string]cty.Value{"path": cty.StringVal("/x")},
			[]string{"|Missing demo argument|Set exactly one of port and command: one or the other."}},
		{"only with", map[string]cty.Value{"path": cty.StringVal("/x"), "command": cty.StringVal("true"), "host": cty.StringVal("db")},
			[]string{"host|Conflicting demo arguments|host is used only with port: it is where port is."}},
		{"default is not set", map[string]cty.Value{"path": cty.StringVal("/x"), "command": cty.StringVal("true"), "host": cty.StringVal("localhost")}, nil},
		// A value not known yet but never null was written: the rule
		// between arguments holds it set; one that may be null is not.
		{"only with, written but unknown", map[string]cty.Value{"path": cty.StringVal("/x"), "command": cty.StringVal("true"), "host": cty.UnknownVal(cty.String).RefineNotNull()},
			[]string{"host|Conflicting demo arguments|"}},
		{"only with, maybe null", map[string]cty.Value{"path": cty.StringVal("/x"), "command": cty.StringVal("true"), "host": cty.UnknownVal(cty.String)}, nil},
		// A rule reading an invalid value is not checked: one problem.
		{"rule on an invalid value", map[string]cty.Value{"path": cty.StringVal("/x"), "port": cty.NumberIntVal(0), "command": cty.StringVal("true")},
			[]string{"port|Invalid demo port|"}},
		// Unknown values are checked once known: nothing now.
		{"unknown value", with("state", cty.UnknownVal(cty.String)), nil},
		{"unknown rule operand", map[string]cty.Value{"path": cty.StringVal("/x"), "port": cty.UnknownVal(cty.Number), "command": cty.StringVal("true")}, nil},
		// Sensitive values are checked and never shown.
		{"sensitive", with("state", cty.StringVal("secret").Mark("sensitive")),
			[]string{"state|Invalid demo state|not (sensitive value)."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := testSchema.Validate(demoArgs(c.attrs))
			if len(ps) != len(c.want) {
				t.Fatalf("got %d problems %v, want %v", len(ps), ps, c.want)
			}
			for i, w := range c.want {
				parts := strings.SplitN(w, "|", 3)
				p := ps[i]
				if p.Arg != parts[0] || p.Summary != parts[1] || !strings.Contains(p.Detail, parts[2]) {
					t.Errorf("problem %+v, want arg %q summary %q detail containing %q", p, parts[0], parts[1], parts[2])
				}
				if strings.Contains(p.Detail, "secret") {
					t.Errorf("detail shows a sensitive value: %s", p.Detail)
				}
			}
		})
	}
}

func TestSchemaSuggestionData(t *testing.T) {
	ps := testSchema.Validate(demoArgs(map[string]cty.Value{"path": cty.StringVal("/x"), "port": cty.NumberIntVal(1), "state": cty.StringVal("onn")}))
	if len(ps) != 1 || ps[0].Value != "onn" || strings.Join(ps[0].Choices, ",") != "on,off" {
		t.Fatalf("problem %+v lacks the value and choices a caller suggests from", ps)
	}
	if err := ps.Err(); err == nil || strings.HasSuffix(err.Error(), ".") {
		t.Errorf("Err() = %v, want the detail without its final period", err)
	}
	if (steps.Problems{}).Err() != nil {
		t.Error("no problems must be a nil error")
	}
}

// TestSchemaSpec: the derived spec decodes required, defaulted, optional
// and block arguments as the kinds read them.
func TestSchemaSpec(t *testing.T) {
	ty := hcldec.ImpliedType(testSchema.Spec())
	for name, want := range map[string]cty.Type{"path": cty.String, "state": cty.String, "port": cty.Number,
		"names": cty.List(cty.String), "env": cty.Map(cty.String)} {
		if got := ty.AttributeType(name); !got.Equals(want) {
			t.Errorf("%s: type %s, want %s", name, got.FriendlyName(), want.FriendlyName())
		}
	}
	run, _ := builtin.Kinds().Lookup("run")
	if got := hcldec.ImpliedType(run.Schema().Spec()).AttributeType("capture"); !got.Equals(cty.Map(cty.String)) {
		t.Errorf("run capture decodes as %s, want map of string", got.FriendlyName())
	}
}

// TestEveryKindDocumentsItsArguments: every argument of every built-in
// kind says what it is for (docs/writing-recipes.md is written from these).
func TestEveryKindDocumentsItsArguments(t *testing.T) {
	reg := builtin.Kinds()
	for _, n := range reg.Names() {
		k, _ := reg.Lookup(n)
		s := k.Schema()
		if s.Kind != n {
			t.Errorf("kind %s: schema says %q", n, s.Kind)
		}
		for _, a := range s.Args {
			if a.Doc == "" {
				t.Errorf("kind %s: argument %s has no Doc", n, a.Name)
			}
			if a.ValueType() == cty.NilType {
				t.Errorf("kind %s: argument %s has no type", n, a.Name)
			}
		}
	}
}
