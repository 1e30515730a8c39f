package lang_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalCapped loads a recipe whose local x is expr and evaluates its locals
// and counts, failing t if that takes more than 5 seconds.
func evalCapped(t *testing.T, body string) hcl.Diagnostics {
	t.Helper()
	return evalCappedFS(t, body, nil)
}

// evalCappedFS is evalCapped with more files beside the recipe (name to
// content), for file, templatefile and jsondecode.
func evalCappedFS(t *testing.T, body string, files map[string]string) hcl.Diagnostics {
	t.Helper()
	src := "recipe \"p\" {}\n" + body
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
	for name, text := range files {
		fsys["r/"+name] = &fstest.MapFile{Data: []byte(text)}
	}
	done := make(chan hcl.Diagnostics, 1)
	go func() {
		r, diags := lang.Load(lang.Source{FS: fsys, Dir: "r", Display: "p"}, testKinds())
		if diags.HasErrors() {
			done <- diags
			return
		}
		vars, _ := r.ResolveVariables(lang.Inputs{})
		_, _, d := r.Counts(vars)
		s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{}}
		done <- append(d, s.EvalLocals()...)
	}()
	select {
	case d := <-done:
		return d
	case <-time.After(5 * time.Second):
		t.Fatalf("still evaluating after 5s:\n%s", src)
	}
	return nil
}

// Hostile expressions that used to exhaust memory or time are refused
// quickly, located on their line, with a message naming what was capped.
func TestResourceBombsRefused(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"setproduct", `locals { x = setproduct(range(1000), range(1000), range(1000)) }`,
			`Call to function "setproduct" failed: the product would have more than 1000000 elements (the arguments have 1000 × 1000 × 1000)`},
		{"format width", `locals { x = format("%1000000000d", 1) }`,
			`Call to function "format" failed: width or precision 1000000000`},
		{"format precision", `locals { x = format("%.999999999f", 1) }`,
			`Call to function "format" failed: width or precision 999999999`},
		{"formatlist width", `locals { x = formatlist("%100000000d", [1, 2]) }`,
			`Call to function "formatlist" failed: width or precision 100000000`},
		{"indent", `locals { x = indent(1000000000, "a\nb") }`,
			`Call to function "indent" failed: indenting 2 lines by 1000000000 spaces`},
		{"replace", `locals { x = replace(format("%10000000s", ""), "", format("%100s", "")) }`,
			`Call to function "replace" failed: 10000001 replacements would make a string of more than 16777216 bytes`},
		{"regex_replace", `locals { x = regex_replace(format("%1000000s", ""), "", format("%1000s", "")) }`,
			`Call to function "regex_replace" failed: 1000001 replacements`},
		{"nested for", `locals { x = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]] }`,
			`Too many iterations; The for expressions of this value iterate more than 200000 times in all`},
		{"doubling locals", `locals {
  a0 = format("%4000000s", "")
  a1 = "${local.a0}${local.a0}"
  a2 = "${local.a1}${local.a1}"
  a3 = "${local.a2}${local.a2}"
  a4 = "${local.a3}${local.a3}"
  a5 = "${local.a4}${local.a4}"
}`, `local.a3 holds more than 1000000 elements or 16777216 bytes of strings`},
		{"count", `hosts "h" { count = 1e9 }`, `The count of hosts h is 1000000000; it must be between 0 and 100000.`},
		{"count total", `hosts "a" { count = 60000 }
hosts "b" { count = 60000 }`, `With 60000 hosts in b, the recipe has 120000 hosts in all; a recipe may have at most 100000`},
	} {
		t.Run(c.name, func(t *testing.T) {
			diags := evalCapped(t, c.body)
			if !diags.HasErrors() {
				t.Fatalf("accepted:\n%s", c.body)
			}
			text := diags.Error()
			if !strings.Contains(text, c.want) {
				t.Errorf("diagnostics lack %q:\n%s", c.want, text)
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && (d.Subject == nil || d.Subject.Start.Line < 2) {
					t.Errorf("diagnostic not located on the expression's line: %s", d.Error())
				}
			}
		})
	}
}

// Input nested past MaxNesting that reaches a parser only at evaluation (a
// template file, a JSON document) is refused with an error, not parsed:
// HCL's template parser and go-cty's JSON decoder recurse once per level,
// and a few megabytes of "(" or "[" overflowed the goroutine's stack, a
// fatal error that no recover catches (the process died with a stack
// trace). MaxNesting levels still decode.
func TestNestedInputAtEvaluation(t *testing.T) {
	deep := 200_000
	files := map[string]string{
		"parens.tpl":   "${" + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "}",
		"for.tpl":      strings.Repeat("%{ if true }", deep/100) + "x" + strings.Repeat("%{ endif }", deep/100),
		"deep.json":    strings.Repeat("[", deep) + strings.Repeat("]", deep),
		"objs.json":    strings.Repeat(`{"a":`, deep/2) + "1" + strings.Repeat("}", deep/2),
		"ok.json":      strings.Repeat("[", lang.MaxNesting) + strings.Repeat("]", lang.MaxNesting),
		"strings.json": `["` + strings.Repeat("[{", deep) + `"]`,
		"ok.tpl":       "${" + strings.Repeat("(", lang.MaxNesting-1) + "1" + strings.Repeat(")", lang.MaxNesting-1) + "}",
	}
	for _, c := range []struct{ name, expr, want string }{
		{"template parens", `templatefile("parens.tpl", {})`, `parens.tpl nests brackets, braces, parentheses, strings and ${...} more than 256 deep at line 1, column 258`},
		{"template directives", `templatefile("for.tpl", {})`, `for.tpl nests`},
		{"json lists", `jsondecode(file("deep.json"))`, `Call to function "jsondecode" failed: the JSON document nests more than 256 deep at byte 256`},
		{"json objects", `jsondecode(file("objs.json"))`, `the JSON document nests more than 256 deep`},
		{"json built", `jsondecode(replace(format("%1000000s", ""), " ", "["))`, `the JSON document nests more than 256 deep`},
	} {
		t.Run(c.name, func(t *testing.T) {
			diags := evalCappedFS(t, "locals {\n  x = "+c.expr+"\n}\n", files)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
				t.Fatalf("want %q, got:\n%s", c.want, diags.Error())
			}
			if d := diags[0]; d.Subject == nil || d.Subject.Start.Line != 3 {
				t.Errorf("not located on the call's line: %s", d.Error())
			}
		})
	}
	// A template of one ${...} yields text, as templatefile's type says:
	// it made go-cty report a panic, with a stack trace, for a number.
	for _, expr := range []string{`jsondecode(file("ok.json"))`, `jsondecode(file("strings.json"))`, `templatefile("ok.tpl", {})`} {
		if diags := evalCappedFS(t, "locals {\n  x = "+expr+"\n}\n", files); diags.HasErrors() {
			t.Errorf("%s refused:\n%s", expr, diags.Error())
		}
	}
	diags := evalCappedFS(t, "locals {\n  x = templatefile(\"list.tpl\", {})\n}\n", map[string]string{"list.tpl": "${[1]}"})
	if want := "list.tpl is one ${...} of a tuple, which is not text"; !strings.Contains(diags.Error(), want) || strings.Contains(diags.Error(), "panic") {
		t.Errorf("want %q, got:\n%s", want, diags.Error())
	}
}

// Numbers are arbitrary-precision, and writing one as text takes a digit
// each: "${1e100000000}" in a step's command ran for more than 12 minutes
// at validate (and a SIGTERM did not stop it). A number past
// MaxNumberDigits is refused where it is written or made: a literal at
// load, an operator, a function that makes numbers out of text.
func TestHugeNumbersRefused(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"literal", "locals {\n  x = \"${1e100000000}\"\n}", `Number out of range; the number (about 1e100000000) is outside the numbers a recipe computes with (about ±1.8e308, down to 4.9e-324)`},
		{"tiny literal", "locals {\n  x = 1e-100000000\n}", `the number (about 1e-100000000) is outside the numbers`},
		{"product", "locals {\n  x = 1e300 * 1e300\n}", `the number (about 1e600) is outside the numbers`},
		{"product of locals", "locals {\n  a = 1e200\n  x = local.a * local.a\n}", `is outside the numbers`},
		{"quotient", "locals {\n  x = 1e-300 / 1e300\n}", `the number (about 1e-600) is outside the numbers`},
		{"text in arithmetic", "locals {\n  x = \"1e100000000\" + 0\n}", `the number (about 1e100000000) is outside the numbers`},
		{"constraint", "variable \"v\" {\n  type = number\n  min  = 1e99999\n}", `Number out of range; the number (about 1e99999) is outside`},
		{"tonumber", "locals {\n  x = tonumber(\"1e100000000\")\n}", `Call to function "tonumber" failed: the number (about 1e100000000) is outside the numbers`},
		{"parseint", "locals {\n  x = parseint(format(\"1%0400d\", 0), 10)\n}", `Call to function "parseint" failed: the number (about 1e400) is outside the numbers`},
		{"jsondecode", "locals {\n  x = jsondecode(\"[1, {\\\"a\\\": 1e100000000}]\")\n}", `Call to function "jsondecode" failed: the number (about 1e100000000) is outside the numbers`},
		// An infinity reached commands as "+Inf", and x % 0 as x.
		{"division by zero", "locals {\n  x = \"echo ${1 / 0}\"\n}", `the right side of / is zero: a division by zero has no result`},
		{"negative division by zero", "locals {\n  a = 0\n  x = -1 / local.a\n}", `the right side of / is zero`},
		{"zero by zero", "locals {\n  x = 0 / 0\n}", `the right side of / is zero`},
		{"remainder by zero", "locals {\n  x = -1 % 0\n}", `the right side of % is zero: a division by zero has no result`},
		{"remainder by a zero local", "locals {\n  a = 0\n  x = 5 % local.a\n}", `the right side of % is zero`},
		{"pow", "locals {\n  x = pow(10, 400)\n}", `Call to function "pow" failed: the result is infinite`},
		{"log of zero", "locals {\n  x = log(0, 10)\n}", `Call to function "log" failed: the result is infinite`},
	} {
		t.Run(c.name, func(t *testing.T) {
			diags := evalCapped(t, c.body)
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
				t.Fatalf("want %q, got:\n%s", c.want, diags.Error())
			}
			if d := diags[0]; d.Subject == nil || d.Subject.Start.Line < 3 {
				t.Errorf("not located on the expression's line: %s", d.Error())
			}
		})
	}
}

// What a real deployment builds stays well inside the caps: a list of
// 100,000 hosts' addresses, a for over it, a product of two 1000-element
// lists, a 1 MiB string.
func TestCapsLeaveRealisticValues(t *testing.T) {
	body := `locals {
  ips    = [for i in range(0, 1000) : format("10.0.%d.%d", floor(i / 250), i % 250)]
  many   = flatten([for a in range(0, 100) : [for b in range(0, 1000) : b]])
  pairs  = setproduct(range(0, 100), range(0, 1000))
  big    = format("%1048576s", "")
  joined = join(" ", local.ips)
  spaced = indent(2, "a\nb")
  fixed  = replace("a-b-c", "-", "--")
  wide   = "${1e300 * 1e8} ${1e-300 / 1e23} ${tonumber("1.7976931348623157e308")} ${parseint("ffffffffffffffffffff", 16)}"
}
hosts "h" { count = 100000 }
`
	if diags := evalCapped(t, body); diags.HasErrors() {
		t.Fatalf("realistic values refused:\n%s", diags.Error())
	}
}

// A count that reads a local refused by a cap is not reported again as
// "not known before apply": the local's error is the one problem.
func TestCappedLocalReportedOnce(t *testing.T) {
	src := "recipe \"p\" {}\nlocals { x = setproduct(range(1000), range(1000), range(1000)) }\nhosts \"h\" { count = length(local.x) }\n"
	r, diags := lang.Load(lang.Source{FS: fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}, Dir: "r", Display: "p"}, testKinds())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vars, _ := r.ResolveVariables(lang.Inputs{})
	_, _, diags = r.Counts(vars)
	var errs []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d.Error())
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], `"setproduct" failed`) {
		t.Errorf("want the setproduct error alone, got %d:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}
