package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// docHCLRE finds a fenced hcl block and the HTML comment on the line
// before it, if any.
var docHCLRE = regexp.MustCompile("(?s)(?:<!-- hcl: ([^\n]*?) -->\n)?```hcl\n(.*?)```")

// A docExample is one or more hcl blocks of a page validated together.
type docExample struct {
	file, at string // file:line of its first block
	src      string
	kind     string   // "recipe", "site", "error", "excerpt" or "fragment"
	want     string   // "error": the summary; "site": the built-in recipe; "excerpt": the file
	args     []string // "recipe": more arguments of validate
}

// docExamples reads the hcl blocks of a page. The line before a block may
// say what it is, in an HTML comment (not shown on the page):
//
//	<!-- hcl: fragment WHY -->        not a recipe on its own (part of a block, a module's
//	                                  file, a reference listing): only parsed (TestDocsHCLParses)
//	<!-- hcl: recipe NAME -->         one piece of a recipe built over several blocks: the
//	                                  blocks of the page with the same NAME are validated together
//	<!-- hcl: recipe -var x=1 -->     a recipe validated with these arguments (a required variable)
//	<!-- hcl: error SUMMARY -->       a mistake the page shows: validate must fail with SUMMARY
//	<!-- hcl: site [RECIPE] -->       a site file: validated with --site, for the built-in
//	                                  RECIPE, else for a recipe with no host groups
//	<!-- hcl: excerpt PATH -->        blocks quoted from the file PATH of the repository (comments
//	                                  aside): each must be there as written
//
// Without a comment a block is a recipe (or a piece of one) on its own.
func docExamples(t *testing.T, file, doc string) []*docExample {
	var out []*docExample
	named := map[string]*docExample{}
	for _, m := range docHCLRE.FindAllStringSubmatchIndex(doc, -1) {
		at := fmt.Sprintf("%s:%d", file, strings.Count(doc[:m[4]], "\n"))
		src := doc[m[4]:m[5]]
		kind, arg := "recipe", ""
		if m[2] >= 0 {
			kind, arg, _ = strings.Cut(doc[m[2]:m[3]], " ")
		}
		var args []string
		switch kind {
		case "recipe":
			words := strings.Fields(arg)
			arg = ""
			if len(words) > 0 && !strings.HasPrefix(words[0], "-") {
				arg, words = words[0], words[1:]
			}
			args = words
			if arg != "" && named[arg] != nil {
				named[arg].src += "\n" + src
				continue
			}
		case "fragment", "site", "error", "excerpt":
		default:
			t.Fatalf("%s: unknown marker <!-- hcl: %s -->", at, kind)
		}
		ex := &docExample{file: file, at: at, src: src, kind: kind, want: arg, args: args}
		if kind == "recipe" && arg != "" {
			named[arg] = ex
		}
		out = append(out, ex)
	}
	return out
}

// docBlockKeys names what the top-level blocks of src declare: "TYPE NAME"
// for a labelled block, "local NAME" for each local.
func docBlockKeys(t *testing.T, src []byte, name string) (map[string]bool, *hclsyntax.Body) {
	f, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if d.HasErrors() {
		t.Fatalf("%s does not parse: %s", name, d.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	keys := map[string]bool{}
	for _, blk := range body.Blocks {
		maps.Copy(keys, docKeysOf(blk))
	}
	return keys, body
}

// docKeysOf names what one top-level block declares (see docBlockKeys).
func docKeysOf(blk *hclsyntax.Block) map[string]bool {
	keys := map[string]bool{}
	switch {
	case blk.Type == "locals":
		for n := range blk.Body.Attributes {
			keys["local "+n] = true
		}
	case len(blk.Labels) > 0:
		keys[blk.Type+" "+blk.Labels[0]] = true
	case blk.Type == "recipe":
		keys["recipe"] = true
	}
	return keys
}

// docRecipe is src with the blocks of the prelude it does not declare itself.
func docRecipe(t *testing.T, prelude []byte, src string) string {
	own, _ := docBlockKeys(t, []byte(src), "example")
	_, body := docBlockKeys(t, prelude, "prelude")
	var b strings.Builder
	b.WriteString(src)
	for _, blk := range body.Blocks {
		if keys := docKeysOf(blk); !docOverlaps(keys, own) && !(blk.Type == "recipe" && docHasRecipe(own)) {
			r := blk.Range()
			b.WriteString("\n" + string(prelude[r.Start.Byte:r.End.Byte]) + "\n")
		}
	}
	return b.String()
}

func docOverlaps(a, b map[string]bool) bool {
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

func docHasRecipe(keys map[string]bool) bool {
	for k := range keys {
		if k == "recipe" || strings.HasPrefix(k, "recipe ") {
			return true
		}
	}
	return false
}

// TestDocsHCLValidates: every hcl example of the user documentation is
// valid as the page says it is (see docExamples for how a page marks a
// fragment, a recipe built over several blocks, a shown mistake or a site
// file). An example is completed with testdata/docs/prelude.hcl, whose
// blocks it may read without declaring them: what a reader would have in
// the recipe around it; the files of testdata/docs/files are beside it.
func TestDocsHCLValidates(t *testing.T) {
	files, text := userDocs(t)
	kinds := map[string]int{}
	for _, file := range files {
		for _, ex := range docExamples(t, file, text[file]) {
			kinds[ex.kind]++
			if msg := docCheck(t, ex); msg != "" {
				t.Error(msg)
			}
		}
	}
	if kinds["recipe"] < 20 || kinds["site"] < 5 {
		t.Fatalf("only %d recipe examples found in the docs (%v)", kinds["recipe"], kinds)
	}
	t.Logf("examples: %v", kinds)
}

// TestDocsHCLMarkers: the markers of docExamples do what its comment
// says, and a wrong example of each kind is caught.
func TestDocsHCLMarkers(t *testing.T) {
	page := "# p\n\n" +
		"<!-- hcl: recipe r -->\n```hcl\nhosts \"h\" {}\n```\n\ntext\n\n" +
		"<!-- hcl: recipe r -->\n```hcl\nstep \"s\" {\n  on  = hosts.h\n  run = \"true\"\n}\n```\n\n" +
		"```hcl\nstep \"t\" {\n  on  = hosts.nosuch\n  run = \"true\"\n}\n```\n\n" +
		"<!-- hcl: error Unknown host group -->\n```hcl\nstep \"t\" {\n  on  = hosts.nosuch\n  run = \"true\"\n}\n```\n\n" +
		"<!-- hcl: error Unknown host group -->\n```hcl\nstep \"t\" {\n  on  = hosts.server\n  run = \"true\"\n}\n```\n\n" +
		"<!-- hcl: fragment a part of a step -->\n```hcl\npackage = [\"x\"]\n```\n\n" +
		"<!-- hcl: recipe -var need=1 -->\n```hcl\nvariable \"need\" { type = number }\n```\n\n" +
		"<!-- hcl: site -->\n```hcl\nprovider \"docker\" {\n  nosuch = 1\n}\n```\n\n" +
		"<!-- hcl: excerpt recipes/modules/gateways/moved.hcl -->\n```hcl\nmoved {\n  from = caller.step.nosuch\n  to   = step.nosuch\n}\n```\n"
	exs := docExamples(t, "page.md", page)
	var got []string
	for _, ex := range exs {
		got = append(got, fmt.Sprintf("%s %t", ex.kind, docCheck(t, ex) == ""))
	}
	want := []string{"recipe true", "recipe false", "error true", "error false", "fragment true", "recipe true", "site false", "excerpt false"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("kind and pass of each example: %v, want %v", got, want)
	}
	if len(exs) > 0 && !strings.Contains(exs[0].src, "step \"s\"") {
		t.Errorf("the two blocks of recipe r were not put together: %q", exs[0].src)
	}
}

// docCheck validates ex as its marker says; it returns what is wrong, or "".
func docCheck(t *testing.T, ex *docExample) string {
	t.Helper()
	switch ex.kind {
	case "fragment":
		return ""
	case "excerpt":
		return docCheckExcerpt(t, ex)
	}
	prelude, err := os.ReadFile("testdata/docs/prelude.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "recipe")
	if err := os.CopyFS(dir, os.DirFS("testdata/docs/files")); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"validate", dir, "--data-dir", filepath.Join(filepath.Dir(dir), "data")}, ex.args...)
	src := ex.src
	if ex.kind == "site" {
		site := filepath.Join(filepath.Dir(dir), "site.hcl")
		if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--site", site)
		src = `recipe "docs" {}` // a site file is checked on its own
		if ex.want != "" {
			args[1], src = ex.want, ""
		}
	} else {
		src = docRecipe(t, prelude, src)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cliRun(t, args...)
	switch {
	case ex.kind == "error" && (code == 0 || !strings.Contains(out+errs, "Error: "+ex.want)):
		return fmt.Sprintf("%s: the example should fail with %q: exit %d\n%s%s", ex.at, ex.want, code, out, errs)
	case ex.kind != "error" && code != 0:
		return fmt.Sprintf("%s: the example does not validate: exit %d\n%s%s\n--- as validated:\n%s", ex.at, code, out, errs, src)
	}
	return ""
}

var docCommentRE = regexp.MustCompile(`#[^\n]*`)

// docCheckExcerpt says which top-level block of ex is not in the file it
// quotes, comments and spacing aside; "" when all are.
func docCheckExcerpt(t *testing.T, ex *docExample) string {
	t.Helper()
	norm := func(s string) string { return strings.Join(strings.Fields(docCommentRE.ReplaceAllString(s, "")), " ") }
	b, err := os.ReadFile(filepath.Join("../..", ex.want))
	if err != nil {
		return fmt.Sprintf("%s: the excerpt's file: %v", ex.at, err)
	}
	_, body := docBlockKeys(t, []byte(ex.src), ex.at)
	for _, blk := range body.Blocks {
		r := blk.Range()
		if q := norm(ex.src[r.Start.Byte:r.End.Byte]); !strings.Contains(norm(string(b)), q) {
			return fmt.Sprintf("%s: %s does not hold the block the page quotes from it:\n%s", ex.at, ex.want, q)
		}
	}
	return ""
}

// userDocs returns the user documentation's pages (docs/, docs/*/,
// README.md), sorted, and their text.
func userDocs(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	files, _ := filepath.Glob("../../docs/*.md")
	sub, _ := filepath.Glob("../../docs/*/*.md")
	files = append(append(files, sub...), "../../README.md")
	sort.Strings(files)
	text := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text[f] = string(b)
	}
	return files, text
}

// docQuoteRE finds a diagnostic quoted in the docs that points into a
// built-in recipe, and the source line it shows.
var docQuoteRE = regexp.MustCompile(`on builtin:([\w./-]+) line (\d+)[^\n]*\n\s*(\d+): ([^\n]*)`)

// TestDocsQuoteBuiltinLines: a diagnostic the docs quote from a built-in
// recipe shows the line that recipe has today, so a recipe edit that moves
// it fails here instead of leaving the page wrong.
func TestDocsQuoteBuiltinLines(t *testing.T) {
	files, text := userDocs(t)
	n := 0
	for _, file := range files {
		for _, m := range docQuoteRE.FindAllStringSubmatch(text[file], -1) {
			n++
			src, err := os.ReadFile(filepath.Join("../../recipes", m[1]))
			if err != nil {
				t.Errorf("%s: quotes builtin:%s: %v", file, m[1], err)
				continue
			}
			lines := strings.Split(string(src), "\n")
			var at int
			fmt.Sscan(m[2], &at)
			switch {
			case m[2] != m[3]:
				t.Errorf("%s: the quote says line %s but shows line %s", file, m[2], m[3])
			case at < 1 || at > len(lines) || strings.TrimSpace(lines[at-1]) != strings.TrimSpace(m[4]):
				t.Errorf("%s: builtin:%s line %d is not %q: the recipe changed, quote it again", file, m[1], at, strings.TrimSpace(m[4]))
			}
		}
	}
	if n < 2 {
		t.Fatalf("only %d quoted diagnostics of built-in recipes found", n)
	}
}

// TestDocsTranscripts: an indented block a page marks with
// <!-- transcript --> on the line before shows commands (`$ diffuser
// validate ...` or `$ diffuser plan ...`, run on a fresh workspace, no
// hosts needed) and what each prints, which is what they print today. The
// page may leave lines out: a line "..." stands for any number of lines, a
// line ending in "…" for any line that starts with what precedes it.
// (./mingluster's validate is TestWritingRecipesFromScratch's.)
func TestDocsTranscripts(t *testing.T) {
	files, text := userDocs(t)
	n := 0
	for _, file := range files {
		lines := strings.Split(text[file], "\n")
		for i := 0; i < len(lines); i++ {
			if lines[i] != "<!-- transcript -->" {
				continue
			}
			for _, c := range docTranscript(lines[i+1:]) {
				n++
				at := fmt.Sprintf("%s:%d", file, i+2+c.line)
				words := strings.Fields(c.cmd)
				if len(words) == 0 || (words[0] != "validate" && words[0] != "plan") {
					t.Errorf("%s: only validate and plan transcripts are checked (no hosts): %q", at, c.cmd)
					continue
				}
				_, out, errs := cliRun(t, append(words, "--data-dir", t.TempDir())...)
				if msg := docMatch(c.want, strings.Split(strings.TrimRight(errs+out, "\n"), "\n")); msg != "" {
					t.Errorf("%s: diffuser %s: %s", at, c.cmd, msg)
				}
			}
		}
	}
	if n < 2 {
		t.Fatalf("only %d transcripts found in the docs", n)
	}
}

// A docCommand is one `$ diffuser` line of a transcript and the lines the
// page shows it printing; line is its index in the block.
type docCommand struct {
	cmd  string
	line int
	want []string
}

// docTranscript reads the indented block at the start of lines.
func docTranscript(lines []string) []docCommand {
	var out []docCommand
	for i, l := range lines {
		if l != "" && !strings.HasPrefix(l, "    ") {
			break
		}
		l = strings.TrimRight(strings.TrimPrefix(l, "    "), " ")
		if cmd, ok := strings.CutPrefix(l, "$ diffuser "); ok {
			out = append(out, docCommand{cmd: cmd, line: i})
		} else if len(out) > 0 {
			out[len(out)-1].want = append(out[len(out)-1].want, l)
		}
	}
	for i := range out {
		w := out[i].want
		for len(w) > 0 && w[len(w)-1] == "" {
			w = w[:len(w)-1]
		}
		out[i].want = w
	}
	return out
}

// docMatch says where got differs from want, with want's elisions (see
// TestDocsTranscripts); "" when it matches.
func docMatch(want, got []string) string { return docMatchFrom(want, got, 0) }

// docMatchFrom is docMatch of want against got from line g on (messages
// count got's lines from its start).
func docMatchFrom(want, got []string, g int) string {
	for w := 0; w < len(want); w++ {
		if want[w] == "..." {
			if w+1 == len(want) {
				return ""
			}
			// The rest must match from some later line; the message is
			// the first try's, where the line after "..." matched.
			first := ""
			for ; g < len(got); g++ {
				if !docLineMatches(want[w+1], got[g]) {
					continue
				}
				msg := docMatchFrom(want[w+1:], got, g)
				if msg == "" {
					return ""
				}
				if first == "" {
					first = msg
				}
			}
			if first == "" {
				first = fmt.Sprintf("the page shows more than it prints, from %q", want[w+1])
			}
			return first
		}
		if g >= len(got) {
			return fmt.Sprintf("the page shows more than it prints, from %q", want[w])
		}
		if !docLineMatches(want[w], got[g]) {
			return fmt.Sprintf("line %d is\n%s\nnot, as the page says,\n%s", g+1, got[g], want[w])
		}
		g++
	}
	if g < len(got) {
		return fmt.Sprintf("it prints more than the page shows, from line %d: %q", g+1, got[g])
	}
	return ""
}

func docLineMatches(want, got string) bool {
	got = strings.TrimRight(got, " ")
	if p, cut := strings.CutSuffix(want, "…"); cut {
		return strings.HasPrefix(got, p)
	}
	return got == want
}

// TestDocMatch: a transcript's elisions match what they stand for and
// nothing else.
func TestDocMatch(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a|b", "a|b", true},
		{"a|b", "a|c", false},
		{"a", "a|b", false},
		{"a|b", "a", false},
		{"a|...|d", "a|b|c|d", true},
		{"a|...|d", "a|d", true},
		{"a|...|d", "a|b|c", false},
		{"a|...", "a|b|c", true},
		{"x…|b", "xyz|b", true},
		{"x…|b", "yx|b", false},
		// "..." gives up lines until the rest matches, not only until
		// the line after it does.
		{"a|...|b|c", "a|x|b|y|b|c", true},
		{"a|...||c", "a|x||y||c", true},
		{"a|...|b|c", "a|b|y|b|d", false},
	} {
		if msg := docMatch(strings.Split(c.want, "|"), strings.Split(c.got, "|")); (msg == "") != c.ok {
			t.Errorf("docMatch(%q, %q) = %q, want a match: %t", c.want, c.got, msg, c.ok)
		}
	}
	// A mismatch after "..." counts lines from the start of the output.
	if msg := docMatch([]string{"a", "...", "b", "c"}, []string{"a", "x", "b", "y"}); !strings.HasPrefix(msg, "line 4 is\ny\n") {
		t.Errorf("a mismatch after ... is reported as %q, want line 4", msg)
	}
}
