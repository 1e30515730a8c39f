package main

import (
	"path/filepath"
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

// TestRecipeFileNamesShownAsText: a recipe from elsewhere may name its
// files and module directories with terminal escapes; a diagnostic names
// them on its "on FILE line N" line, which wrote them raw (a window title,
// a colour, a cleared screen). They are shown as escapes, with the file's
// line still quoted under them; the file and its module are still read.
func TestRecipeFileNamesShownAsText(t *testing.T) {
	e := newSimCLI(t, nil)
	evil := "a\x1b]0;PWNED\x07\x1b[2J\u202e"
	e.write("t/main.hcl", "recipe \"t\" {}\nhosts \"h\" { count = 1 }\nmodule \"m\" {\n  source = \"./"+evil+"\"\n  on     = hosts.h\n}\n")
	e.write("t/"+evil+"/main.hcl", "step \"s\" {\n  run = \"true\"\n}\n")
	e.write("t/"+evil+".hcl", "locals {\n  x = nope\n}\n")
	e.write("t/"+evil+"/main.hcl", "locals {\n  y = nope2\n}\n")
	code, out, errs := e.run("validate", filepath.Join(e.dir, "t"))
	shown := `a\x1b]0;PWNED\a\x1b[2J\u202e`
	if code != 1 || strings.ContainsAny(out+errs, "\x1b\x07\u202e") {
		t.Fatalf("validate: exit %d, escapes sent raw:\n%q", code, out+errs)
	}
	for _, want := range []string{shown + ".hcl line 2, in locals:\n   2:   x = nope", shown + "/main.hcl line 2, in locals:\n   2:   y = nope2"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// fmt names the files it would lay out, and -diff in its headers.
	e.write("f/"+evil+".hcl", "locals {\nx=1\n}\n")
	for _, args := range [][]string{{"fmt", "-check", filepath.Join(e.dir, "f")}, {"fmt", "-check", "-diff", filepath.Join(e.dir, "f")}} {
		code, out, errs := e.run(args...)
		if code != 3 || strings.ContainsAny(out+errs, "\x1b\x07\u202e") || !strings.Contains(out, shown+".hcl") {
			t.Errorf("%v: exit %d, want 3 naming the file with its escapes as text:\n%q", args, code, out+errs)
		}
	}
}
