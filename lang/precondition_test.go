package lang_test

import (
	"bytes"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
)

const preconditionRecipe = `recipe "t" {}

variable "servers" {
  type    = number
  default = 2
}

variable "goal" {
  type    = number
  default = 2
}

variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
}

locals {
  spare = var.servers - var.goal
}

hosts "server" {
  count = var.servers
}

precondition {
  condition     = local.spare >= 0
  error_message = "goal (${var.goal}) is more than servers (${var.servers})."
}

precondition {
  condition     = var.token != "ab"
  error_message = "token ${var.token} is the documentation's example."
}

precondition {
  condition     = var.servers < 100
  error_message = var.servers
}
`

func checkPreconditions(t *testing.T, vars ...string) (hcl.Diagnostics, *lang.Recipe) {
	t.Helper()
	r, diags := loadString(t, preconditionRecipe)
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	vals, diags := r.ResolveVariables(lang.Inputs{Vars: vars})
	if diags.HasErrors() {
		t.Fatalf("ResolveVariables:%s", diagString(diags))
	}
	return r.CheckPreconditions(vals), r
}

// TestPreconditions: a false condition prints its own message, with the
// values interpolated and the values the condition read; a sensitive
// value shows in neither; each failure once; true conditions say nothing.
func TestPreconditions(t *testing.T) {
	if diags, _ := checkPreconditions(t); len(diags) != 0 {
		t.Fatalf("defaults: %s", diagString(diags))
	}
	diags, r := checkPreconditions(t, "goal=3")
	if len(diags) != 1 || diags[0].Summary != "Recipe precondition failed" || diags[0].Detail != "goal (3) is more than servers (2)." {
		t.Fatalf("goal=3:%s", diagString(diags))
	}
	var out bytes.Buffer
	_ = hcl.NewDiagnosticTextWriter(&out, r.Files, 0, false).WriteDiagnostics(diags)
	if !strings.Contains(out.String(), "local.spare as -1") || !strings.Contains(out.String(), "line 28") {
		t.Errorf("the diagnostic does not show the value the condition read or its line:\n%s", out.String())
	}

	diags, r = checkPreconditions(t, "token=ab")
	if len(diags) != 1 || strings.Contains(diags[0].Detail, "ab") || diags[0].EvalContext != nil {
		t.Fatalf("a sensitive value reached the diagnostic:%s", diagString(diags))
	}
	out.Reset()
	_ = hcl.NewDiagnosticTextWriter(&out, r.Files, 0, false).WriteDiagnostics(diags)
	if strings.Contains(out.String(), "var.token as") {
		t.Errorf("the sensitive value is printed:\n%s", out.String())
	}

	// error_message converts to a string like any HCL string attribute.
	diags, _ = checkPreconditions(t, "servers=100", "goal=1")
	if len(diags) != 1 || diags[0].Detail != "100" {
		t.Fatalf("servers=100:%s", diagString(diags))
	}
}

// A precondition that reads host facts is refused with where such a rule
// goes instead (a step precondition on the hosts, or a module input's validation).
func TestPreconditionReadsFactsSaysWhereInstead(t *testing.T) {
	_, diags := loadString(t, `recipe "t" {}
hosts "node" {}
precondition {
  condition     = hosts.node[0].facts.memory_mb >= 2048
  error_message = "2 GiB at least."
}
`)
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 4 ||
		!strings.Contains(diags[0].Detail, "check it in a precondition block of a step on them") {
		t.Fatalf("want one error at line 4 saying where a rule about facts goes:%s", diagString(diags))
	}
}
