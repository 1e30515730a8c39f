package lang_test

import (
	"strings"
	"testing"

	"diffuser/lang"
)

const redactRecipe = `
recipe "r" {}
variable "pw" {
  type      = string
  sensitive = true
  validation {
    condition     = tonumber(var.pw) > 0
    error_message = "pw must be a positive number."
  }
}
variable "pin" {
  type      = number
  sensitive = true
}
variable "port" {
  type    = string
  default = "22"
  validation {
    condition     = tonumber(var.port) > 0
    error_message = "port must be a number."
  }
}
`

// A sensitive value never appears in a diagnostic: not as the "file
// name" of a -var, not quoted by a function's error. A value that is not
// sensitive is still quoted, so the wrapper hides only what it must.
func TestSensitiveValuesNotInDiagnostics(t *testing.T) {
	r, diags := loadString(t, redactRecipe)
	if diags.HasErrors() {
		t.Fatal(diagString(diags))
	}
	for _, c := range []struct {
		name   string
		vars   []string
		secret string
		want   string // in the diagnostics
	}{
		{"function error on a sensitive var", []string{"pw=SECRET-FUNC-1", "pin=1"}, "SECRET-FUNC-1", "sensitive value is not valid here"},
		{"wrong type of a sensitive -var", []string{"pw=5", "pin=SECRET-TYPE-2"}, "SECRET-TYPE-2", "<sensitive var.pin>"},
		{"a sensitive -var that parses as a failing expression", []string{"pw=5", "pin=upper(\"SECRET-EXPR-3\")"}, "SECRET-EXPR-3", "<sensitive var.pin>"},
		{"function error in a sensitive var's expression", []string{"pin=1", "pw=tonumber(\"SECRET-EXPR-4\")"}, "SECRET-EXPR-4", "not shown"},
	} {
		_, diags := r.ResolveVariables(lang.Inputs{Vars: c.vars})
		got := diagString(diags)
		if !diags.HasErrors() {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if strings.Contains(got, c.secret) {
			t.Errorf("%s: the diagnostics show the secret:%s", c.name, got)
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: diagnostics lack %q:%s", c.name, c.want, got)
		}
	}
	_, diags = r.ResolveVariables(lang.Inputs{Vars: []string{"pw=5", "pin=1", "port=PLAIN-9"}})
	if got := diagString(diags); !strings.Contains(got, "PLAIN-9") {
		t.Errorf("a value that is not sensitive is hidden too:%s", got)
	}
}
