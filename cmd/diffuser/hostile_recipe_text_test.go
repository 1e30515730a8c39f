package main

import (
	"strings"
	"testing"
)

// hostileTextRecipe has terminal escapes in the strings a recipe from
// elsewhere shows its user: a variable's description and a group's
// replace_note (which may also read a variable).
const hostileTextRecipe = `recipe "t" {}
variable "x" {
  description = "V\u001b]0;PWNED\u0007\u001b[2Jcleared\u202e"
  default     = "a"
}
hosts "server" {
  count        = 1
  replace_note = "N\u001b]0;note\u0007 ${var.x}"
}
step "s" {
  on  = hosts.server
  run = "true"
}
`

// TestRecipeTextShownAsText: recipes vars PATH and plan -replace show a
// recipe's own strings (a variable's description, a replace_note reading a
// -var) with escapes as escapes: they reached the terminal raw.
func TestRecipeTextShownAsText(t *testing.T) {
	e := newSimCLI(t, nil)
	recipe := e.write("t/main.hcl", hostileTextRecipe)
	vars := e.must("recipes", "vars", recipe)
	if strings.ContainsAny(vars, "\x1b\x07\u202e") || !strings.Contains(vars, `V\x1b]0;PWNED\a\x1b[2Jcleared\u202e`) {
		t.Errorf("recipes vars sent escapes raw or lost them:\n%q", vars)
	}
	if code, out := e.apply(recipe); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	code, plan, stderr := e.run("plan", recipe, "-provider", "sim", "-replace", "server[0]", "-var", "x=\x1b[31mred")
	if code != 0 {
		t.Fatalf("plan -replace: exit %d\n%s%s", code, plan, stderr)
	}
	if strings.ContainsAny(plan, "\x1b\x07") || !strings.Contains(plan, `# the data: N\x1b]0;note\a \x1b[31mred`) {
		t.Errorf("the plan sent the replace_note's escapes raw or lost them:\n%q", plan)
	}
}
