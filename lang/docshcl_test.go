package lang_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"diffuser/lang"
)

var (
	docHCLBlockRE = regexp.MustCompile("(?s)```hcl\n(.*?)```")
	// An inline code span written as a block with an argument
	// (`name "label" { a = 1 }`): what a reader copies into a recipe.
	docInlineBlockRE = regexp.MustCompile("`([a-z_]+(?: \"[^\"`]*\")* \\{[^`{}]*=[^`{}]*\\})`")
)

// TestDocsHCLParses: every ```hcl block and every inline block (but those
// elided with "...") of the documentation (docs/, README.md) is HCL that
// parses as written, each ```hcl block in diffuser fmt's layout, so an
// example copied into a recipe fails, if at all, for what it means, not
// for its syntax (HCL's one-line blocks hold one argument only).
func TestDocsHCLParses(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := filepath.Glob("../docs/*/*.md")
	files = append(append(files, sub...), "../README.md")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		check := func(src string, at int) {
			n++
			line := strings.Count(doc[:at], "\n") + 1
			if _, d := hclsyntax.ParseConfig([]byte(src), f, hcl.Pos{Line: line, Column: 1}); d.HasErrors() {
				t.Errorf("%s:%d: the example does not parse: %s\n%s", f, line, d.Error(), src)
			}
		}
		for _, m := range docHCLBlockRE.FindAllStringSubmatchIndex(doc, -1) {
			check(doc[m[2]:m[3]], m[2])
			src := doc[m[2]:m[3]]
			if out, d := lang.Format(f, []byte(src)); !d.HasErrors() && string(out) != src {
				t.Errorf("%s:%d: the example is not in diffuser fmt's layout (a reader's copy would fail fmt -check); it should read:\n%s",
					f, strings.Count(doc[:m[2]], "\n"), out)
			}
		}
		for _, m := range docInlineBlockRE.FindAllStringSubmatchIndex(doc, -1) {
			if src := doc[m[2]:m[3]]; !strings.Contains(src, "...") && !strings.Contains(src, "…") {
				check(src, m[2]) // an elided span ({ value = ... }) is not one to copy
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d HCL examples found in the docs", n)
	}
}
