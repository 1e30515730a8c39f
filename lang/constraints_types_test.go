package lang_test

import (
	"strings"
	"testing"
)

// TestConstraintValueTypes: every constraint attribute given a value of
// another type than it takes (a quoted number, a number for a string, a
// list, an object, null, a reference, ...) is an error at its line and
// column that says what to write; nothing is converted. The valid
// spellings next to them load.
func TestConstraintValueTypes(t *testing.T) {
	longOK := strings.Repeat("[a-z]", 4000)
	longBad := strings.Repeat("(", 5000)
	for _, c := range []struct {
		name, typ, attr, extra string
		summary                string // "" when it must load
		detail                 []string
	}{
		// min and max: numbers.
		{"min quoted zero", "number", `min = "0"`, "", "Expected a number", []string{`min is a string ("0"); it must be a number: write 0 without quotes.`}},
		{"max quoted", "number", `max = "65535"`, "", "Expected a number", []string{"write 65535 without quotes"}},
		{"min quoted negative", "number", `min = "-1.5"`, "", "Expected a number", []string{"write -1.5 without quotes"}},
		{"min word", "number", `min = "one"`, "", "Expected a number", []string{`min is a string ("one")`, "write a number without quotes, such as 1."}},
		{"min NaN", "number", `min = "NaN"`, "", "Expected a number", []string{`a string ("NaN")`, "write a number without quotes"}},
		{"min Infinity", "number", `min = "Infinity"`, "", "Expected a number", []string{"must be a number"}},
		{"min huge quoted", "number", `min = "1e99999"`, "", "Expected a number", []string{"without quotes"}},
		{"min fullwidth digit", "number", `min = "１"`, "", "Expected a number", []string{`a string ("１")`}},
		{"min underscores", "number", `min = "1_000"`, "", "Expected a number", []string{"write a number without quotes"}},
		{"min bool", "number", `min = true`, "", "Expected a number", []string{"min is a bool (true); it must be a number"}},
		{"min null", "number", `min = null`, "", "Expected a number", []string{"min = null sets no constraint: remove the attribute, or write min = 1."}},
		{"min list", "number", `min = [1]`, "", "Expected a number", []string{"min is a list ([1])"}},
		{"min empty list", "number", `min = []`, "", "Expected a number", []string{"min is a list"}},
		{"min object", "number", `min = { a = 1 }`, "", "Expected a number", []string{"min is an object"}},
		{"min var", "number", `min = var.x`, "", "Constraint is not a literal", []string{"min refers to var.x", "write a literal, such as min = 1", "validation block"}},
		{"max local", "number", `max = local.y + 1`, "", "Constraint is not a literal", []string{"max refers to local.y"}},
		{"min template", "number", `min = "${var.x}"`, "", "Constraint is not a literal", []string{"min refers to var.x"}},
		{"min function", "number", `min = max(1, 2)`, "", "Expected a number", []string{"min must be a literal number, such as min = 1"}},
		{"min divided by zero", "number", `min = 1 / 0`, "", "Expected a number", []string{"min"}},
		{"min negative", "number", `min = -3`, "", "", nil},
		{"min arithmetic", "number", `min = 2 * 3`, "", "", nil},
		{"min on list elements", "list(number)", `min = "1"`, "", "Expected a number", []string{"write 1 without quotes"}},
		// integer and allow_empty: bools.
		{"integer quoted", "number", `integer = "true"`, "", "Expected true or false", []string{`integer is a string ("true"); it must be a bool: write true without quotes.`}},
		{"integer number", "number", `integer = 1`, "", "Expected true or false", []string{"integer is a number (1)", "write true or false without quotes."}},
		{"integer yes", "number", `integer = "yes"`, "", "Expected true or false", []string{"write true or false without quotes"}},
		{"integer null", "number", `integer = null`, "", "Expected true or false", []string{"integer = null sets no constraint"}},
		{"integer list", "number", `integer = [true]`, "", "Expected true or false", []string{"integer is a list"}},
		{"integer var", "number", `integer = var.x`, "", "Constraint is not a literal", []string{"integer refers to var.x"}},
		{"integer false", "number", `integer = false`, "", "", nil},
		{"allow_empty quoted", "string", `allow_empty = "false"`, `format = "cidr"`, "Expected true or false", []string{"write false without quotes"}},
		{"allow_empty number", "string", `allow_empty = 0`, `format = "cidr"`, "Expected true or false", []string{"allow_empty is a number (0)"}},
		// format and pattern: strings.
		{"format number", "string", `format = 1`, "", "Expected a string", []string{`format is a number (1); it must be a string: write it in quotes, "1".`}},
		{"format bool", "string", `format = true`, "", "Expected a string", []string{`write it in quotes, "true"`}},
		{"format bare word", "string", `format = cidr`, "", "Constraint is not a literal", []string{`format = cidr is a bare name, not a value: a string is written in quotes, format = "cidr".`}},
		{"format list", "string", `format = ["cidr"]`, "", "Expected a string", []string{`format is a list (["cidr"]); it must be a string: write a string in quotes, such as "cidr".`}},
		{"format null", "string", `format = null`, "", "Expected a string", []string{`write format = "cidr"`}},
		{"format case", "string", `format = "CIDR"`, "", "Unknown format", []string{`there is no format "CIDR". Did you mean "cidr"?`}},
		{"format unicode", "string", `format = "ｃｉｄｒ"`, "", "Unknown format", []string{`no format "ｃｉｄｒ"`, "The formats are absolute_path, cidr,"}},
		{"format empty", "string", `format = ""`, "", "Unknown format", []string{`no format ""`}},
		{"format long", "string", `format = "` + strings.Repeat("x", 10000) + `"`, "", "Unknown format", []string{`no format "xxx`, "…"}},
		{"pattern number", "string", `pattern = 5`, "", "Expected a string", []string{`write it in quotes, "5"`}},
		{"pattern big number", "string", `pattern = 1e40`, "", "Expected a string", []string{`write it in quotes, "1e+40"`}},
		{"pattern object", "string", `pattern = { re = "a" }`, "", "Expected a string", []string{"pattern is an object"}},
		{"pattern var", "string", `pattern = var.x`, "", "Constraint is not a literal", []string{"pattern refers to var.x"}},
		{"pattern empty", "string", `pattern = ""`, "", "Invalid pattern", []string{`pattern = "" matches only the empty string`}},
		{"pattern broken", "string", `pattern = "[a-"`, "", "Invalid pattern", []string{"not a regular expression (RE2 syntax)"}},
		{"pattern long broken", "string", `pattern = "` + longBad + `"`, "", "Invalid pattern", []string{"not a regular expression", "…"}},
		{"pattern huge repeat", "string", `pattern = "a{1001}"`, "", "Invalid pattern", []string{"invalid repeat count"}},
		{"pattern long valid", "string", `pattern = "` + longOK + `"`, "", "", nil},
		{"pattern unicode", "string", `pattern = "[äöü日本]+"`, "", "", nil},
		{"pattern heredoc", "string", "pattern = <<EOT\n[a-z]+\nEOT", "", "", nil},
		{"pattern on a number", "number", `pattern = "[0-9]+"`, "", "Constraint does not fit the variable's type", []string{"pattern on variable \"v\" needs type = string"}},
		// one_of: a list of values of the variable's type.
		{"one_of quoted numbers", "number", `one_of = ["1", "2"]`, "", "Invalid one_of", []string{`the 1st value of one_of, "1", is a string, and the variable is a number: write 1 without quotes.`}},
		{"one_of numbers for string", "string", `one_of = ["a", 2]`, "", "Invalid one_of", []string{`the 2nd value of one_of, 2, is a number, and the variable is a string: write it in quotes, "2".`}},
		{"one_of bool for number", "number", `one_of = [true]`, "", "Invalid one_of", []string{"is a bool, and the variable is a number"}},
		{"one_of quoted bool", "bool", `one_of = ["true"]`, "", "Invalid one_of", []string{"write true without quotes"}},
		{"one_of null element", "string", `one_of = ["a", null]`, "", "Invalid one_of", []string{"the 2nd value of one_of, null, is null"}},
		{"one_of nested list", "string", `one_of = [["a"]]`, "", "Invalid one_of", []string{"is a list, and the variable is a string"}},
		{"one_of scalar", "string", `one_of = "fuse"`, "", "Invalid one_of", []string{"one_of is a list of the allowed values", "here it is a string"}},
		{"one_of empty", "string", `one_of = []`, "", "Invalid one_of", []string{"one_of = [] allows no value at all"}},
		{"one_of object", "string", `one_of = { a = "b" }`, "", "Invalid one_of", []string{"here it is an object"}},
		{"one_of null", "string", `one_of = null`, "", "Invalid one_of", []string{"here it is null"}},
		{"one_of var", "string", `one_of = var.x`, "", "Constraint is not a literal", []string{"one_of refers to var.x", `one_of = ["fuse", "kernel"]`}},
		{"one_of var element", "string", `one_of = ["a", var.x]`, "", "Constraint is not a literal", []string{"one_of refers to var.x"}},
		{"one_of unicode", "string", `one_of = ["ü", "日本", ""]`, "", "", nil},
		{"one_of huge numbers", "number", `one_of = [1e300, -1e300]`, "", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "recipe \"t\" {}\nvariable \"v\" {\n  type = " + c.typ + "\n  " + c.attr + "\n"
			if c.extra != "" {
				src += "  " + c.extra + "\n"
			}
			src += "}\nvariable \"x\" { default = 1 }\nlocals { y = 1 }\n"
			_, diags := loadString(t, src)
			errs := errorsOf(diags)
			if c.summary == "" {
				if len(errs) > 0 {
					t.Fatalf("want no error:%s", diagString(diags))
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("want one error, got %d:%s", len(errs), diagString(diags))
			}
			d := errs[0]
			if d.Summary != c.summary || d.Subject == nil || d.Subject.Filename != "t/main.hcl" || d.Subject.Start.Line != 4 {
				t.Fatalf("want %q at t/main.hcl:4, got:%s", c.summary, diagString(diags))
			}
			// The subject is the value, or a reference in it, not the block.
			if col := strings.Index(c.attr, "= ") + 5; d.Subject.Start.Column < col && d.Summary != "Constraint does not fit the variable's type" {
				t.Errorf("subject starts at column %d, the value at %d", d.Subject.Start.Column, col)
			}
			if !strings.Contains(d.Detail, `Variable "v"`) && !strings.Contains(d.Detail, `variable "v"`) {
				t.Errorf("detail does not name the variable: %s", d.Detail)
			}
			if len(d.Detail) > 1200 {
				t.Errorf("detail is %d bytes long", len(d.Detail))
			}
			t.Logf("%s", diagString(diags))
			for _, w := range c.detail {
				if !strings.Contains(d.Detail, w) {
					t.Errorf("detail lacks %q:\n%s", w, d.Detail)
				}
			}
		})
	}
}
