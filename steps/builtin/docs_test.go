package builtin_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"diffuser/steps/builtin"
)

var update = flag.Bool("update", false, "rewrite the kinds' argument tables in docs/writing-recipes.md")

const recipeDocs = "../../docs/writing-recipes.md"

// TestKindDocs: each kind's arguments table in docs/writing-recipes.md is
// its Schema rendered (Schema.Markdown), between
// `<!-- arguments of KIND -->` and `<!-- end of arguments -->`, so the
// docs say the rules validate checks. -update rewrites them.
func TestKindDocs(t *testing.T) {
	src, err := os.ReadFile(recipeDocs)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	reg := builtin.Kinds()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		begin := "<!-- arguments of " + name + " -->\n"
		const end = "<!-- end of arguments -->"
		i := strings.Index(doc, begin)
		if i < 0 {
			t.Errorf("%s has no %q", recipeDocs, strings.TrimSpace(begin))
			continue
		}
		j := strings.Index(doc[i:], end)
		if j < 0 {
			t.Fatalf("%s: %q is not closed by %q", recipeDocs, strings.TrimSpace(begin), end)
		}
		got, want := doc[i+len(begin):i+j], k.Schema().Markdown()
		if got == want {
			continue
		}
		if *update {
			doc = doc[:i+len(begin)] + want + doc[i+j:]
			continue
		}
		t.Errorf("the %s table in %s is not its schema (go test ./steps/builtin -run TestKindDocs -update):\n got:\n%s\nwant:\n%s", name, recipeDocs, got, want)
	}
	if *update && doc != string(src) {
		if err := os.WriteFile(recipeDocs, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
