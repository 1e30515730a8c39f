package lang_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/lang"
	"diffuser/recipes"
)

func glusterfsSource(t testing.TB) []byte {
	t.Helper()
	b, err := fs.ReadFile(recipes.FS(), "glusterfs/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNotText covers files refused before parsing: a NUL byte anywhere
// (binary garbage) and files over MaxFileSize.
func TestNotText(t *testing.T) {
	gluster := glusterfsSource(t)
	lines := bytes.SplitAfter(gluster, []byte("\n"))
	withNUL := bytes.Join(append(append(append([][]byte{}, lines[:11]...), []byte("  \x00\n")), lines[11:]...), nil)

	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	garbage[100] = 0 // at least one NUL
	firstNUL := bytes.IndexByte(garbage, 0)
	garbageLine := 1 + bytes.Count(garbage[:firstNUL], []byte("\n"))

	tooLarge := append(bytes.Repeat([]byte("# padding padding padding\n"), lang.MaxFileSize/26+1), gluster...)

	for _, tc := range []struct {
		name    string
		data    []byte
		summary string
		line    int
	}{
		{"nul_in_recipe", withNUL, "Binary file", 12},
		{"garbage", garbage, "Binary file", garbageLine},
		{"too_large", tooLarge, "File too large", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadFS(fstest.MapFS{"main.hcl": {Data: tc.data}})
			checkMarkers(t, diags, "t/main.hcl", []marker{{Line: tc.line, Summary: tc.summary}})
		})
	}
}

// TestNestedTooDeep: a file nested deeper than MaxNesting (which used to
// overflow the parser's stack, a fatal error) is refused before parsing,
// at the opening token one level too deep, in a recipe, a module and a
// module's variable default alike; MaxNesting levels load, and brackets in
// strings and comments do not count.
func TestNestedTooDeep(t *testing.T) {
	deep := lang.MaxNesting + 1
	nest := func(open, inner, close string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	head := "recipe \"t\" {}\nlocals {\n  x = "
	for _, tc := range []struct{ name, open, inner, close string }{
		{"parens", "(", "1", ")"},
		{"lists", "[", "1", "]"},
		{"objects", "{a = ", "1", "}"},
		{"for", "[for a in [1] : ", "1", "]"},
		{"templates", `"${`, "1", `}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := head + nest(tc.open, tc.inner, tc.close, 100_000) + "\n}\n"
			_, diags := loadString(t, src)
			checkMarkers(t, diags, "t/main.hcl", []marker{{Line: 3, Summary: "Nested too deep"}})
			// The subject is an opening token past the bound.
			at := diags[0].Subject.Start
			if at.Byte < len(head) || !strings.ContainsRune("([{\"$", rune(src[at.Byte])) || at.Column != at.Byte-len("recipe \"t\" {}\nlocals {\n")+1 {
				t.Errorf("subject %+v is not an opening token of line 3", at)
			}
			if tc.name == "parens" && at.Column != len("  x = ")+lang.MaxNesting {
				t.Errorf("column %d, want the paren at depth %d", at.Column, lang.MaxNesting+1)
			}
			_, diags = loadString(t, head+nest(tc.open, tc.inner, tc.close, deep)+"\n}\n")
			checkMarkers(t, diags, "t/main.hcl", []marker{{Line: 3, Summary: "Nested too deep"}})
		})
	}
	t.Run("at_the_bound", func(t *testing.T) {
		// The locals block's brace is one level.
		_, diags := loadString(t, head+nest("(", "1", ")", lang.MaxNesting-1)+"\n}\n")
		if diags.HasErrors() {
			t.Fatalf("MaxNesting levels:%s", diagString(diags))
		}
	})
	t.Run("strings_and_comments", func(t *testing.T) {
		src := head + `"` + strings.Repeat("(", 10*deep) + `"` + "\n}\n# " + strings.Repeat("[", 10*deep) + "\n"
		if _, diags := loadString(t, src); diags.HasErrors() {
			t.Fatalf("brackets in a string and a comment:%s", diagString(diags))
		}
	})
	t.Run("module", func(t *testing.T) {
		_, diags := loadFS(fstest.MapFS{
			"main.hcl":   {Data: []byte("recipe \"t\" {}\nhosts \"s\" {}\nmodule \"m\" {\n  source = \"./m\"\n  on = hosts.s\n}\n")},
			"m/main.hcl": {Data: []byte("variable \"v\" {\n  default = " + nest("[", "1", "]", 100_000) + "\n}\n")},
		})
		checkMarkers(t, diags, "t/m/main.hcl", []marker{{Line: 2, Summary: "Nested too deep"}})
	})
}

// TestMaxFileSizeBoundary: a file of exactly MaxFileSize bytes loads.
func TestMaxFileSizeBoundary(t *testing.T) {
	t.Parallel()
	src := []byte("recipe \"t\" {}\n")
	pad := lang.MaxFileSize - len(src)
	data := append(src, bytes.Repeat([]byte("#"), pad)...)
	if len(data) != lang.MaxFileSize {
		t.Fatalf("built %d bytes", len(data))
	}
	r, diags := loadFS(fstest.MapFS{"main.hcl": {Data: data}})
	if diags.HasErrors() || r.Name != "t" {
		t.Fatalf("a file of exactly MaxFileSize bytes:%s", diagString(diags))
	}
}

func TestLoadDirectory(t *testing.T) {
	// A recipe over several files: every *.hcl directly in the directory,
	// in name order; other files and subdirectories are ignored.
	fsys := fstest.MapFS{
		"r/main.hcl":       {Data: []byte("recipe \"multi\" {}\nhosts \"server\" { count = var.n }\n")},
		"r/variables.hcl":  {Data: []byte("variable \"n\" { default = 3 }\n")},
		"r/steps.hcl":      {Data: []byte("step \"a\" {\n  on  = hosts.server\n  run = \"true\"\n}\n")},
		"r/README.md":      {Data: []byte("not HCL {")},
		"r/sub/extra.hcl":  {Data: []byte("this is not read {")},
		"other/broken.hcl": {Data: []byte("{")},
	}
	r, diags := lang.Load(lang.Source{FS: fsys, Dir: "r", Display: "builtin:r"}, testKinds())
	if diags.HasErrors() {
		t.Fatalf("Load:%s", diagString(diags))
	}
	if r.Name != "multi" || len(r.Variables) != 1 || len(r.Groups) != 1 || r.Step("a") == nil {
		t.Fatalf("recipe = %q with %d variables, %d groups, step a %v", r.Name, len(r.Variables), len(r.Groups), r.Step("a"))
	}
	var files []string
	for n := range r.Files {
		files = append(files, n)
	}
	if strings.Join(sorted(files), " ") != "builtin:r/main.hcl builtin:r/steps.hcl builtin:r/variables.hcl" {
		t.Errorf("Files = %v", sorted(files))
	}

	// A duplicate across files points at the later file, in name order.
	fsys["r/zz.hcl"] = &fstest.MapFile{Data: []byte("\nstep \"a\" {\n  on  = hosts.server\n  run = \"false\"\n}\n")}
	_, diags = lang.Load(lang.Source{FS: fsys, Dir: "r", Display: "builtin:r"}, testKinds())
	checkMarkers(t, diags, "builtin:r/zz.hcl", []marker{{Line: 2, Summary: "Duplicate step"}})
}

func TestLoadNothing(t *testing.T) {
	_, diags := lang.Load(lang.Source{FS: fstest.MapFS{"r/README": {}}, Dir: "r", Display: "myrecipe"}, testKinds())
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Cannot read recipe" || !strings.Contains(errs[0].Detail, "myrecipe") {
		t.Errorf("directory without .hcl files:%s", diagString(diags))
	}
	_, diags = lang.Load(lang.Source{FS: fstest.MapFS{}, Dir: ".", File: "nope.hcl", Display: "."}, testKinds())
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Cannot read recipe file" || !strings.Contains(errs[0].Detail, "nope.hcl") {
		t.Errorf("missing file:%s", diagString(diags))
	}
	for _, src := range []string{"", "# only a comment\n", "variable \"n\" { default = 1 }\n"} {
		_, diags = loadString(t, src)
		if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != "Missing recipe block" || !strings.Contains(errs[0].Detail, "t") {
			t.Errorf("%q: want Missing recipe block,%s", src, diagString(diags))
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Terraform's depends_on, count and for_each and Ansible's notify, when,
// become and tags on a step say what a step takes instead (after, on,
// restart_on, -target), not only that the argument is unexpected.
func TestStepMetaArgumentHints(t *testing.T) {
	src, err := os.ReadFile("testdata/invalid/step_meta_arguments.hcl")
	if err != nil {
		t.Fatal(err)
	}
	_, diags := lang.Load(lang.Source{FS: fstest.MapFS{"main.hcl": {Data: src}}, Dir: ".", Display: "t"}, testKinds())
	want := map[string]string{"depends_on": "after = [step.NAME", "count": "once per host of its on", "for_each": "once per host of its on",
		"notify": "restart_on = [step.NAME] (or reload_on) on the service step", "when": "on = CONDITION ? hosts.server : []",
		"become": "Steps run as root", "tags": "-target step.NAME"}
	found := 0
	for _, d := range diags {
		for arg, w := range want {
			if strings.HasPrefix(d.Detail, "A step has no "+arg+".") && strings.Contains(d.Detail, w) {
				found++
			}
		}
	}
	if found != len(want) {
		t.Errorf("want the %d hints, found %d:%s", len(want), found, diags.Error())
	}
}

// A validation that reads a local points to preconditions, which read
// locals; one that reads an undeclared variable suggests the declared one.
func TestValidationRefHints(t *testing.T) {
	for file, want := range map[string]string{
		"validation_reads_local.hcl":      "A rule that reads locals is a precondition block",
		"validation_unknown_variable.hcl": `reads var.sevrers, which is not declared. There is no variable named "sevrers". Did you mean "servers"?`,
	} {
		src, err := os.ReadFile("testdata/invalid/" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, diags := lang.Load(lang.Source{FS: fstest.MapFS{"main.hcl": {Data: src}}, Dir: ".", Display: "t"}, testKinds())
		if !diags.HasErrors() || !strings.Contains(diags.Errs()[0].Error(), want) {
			t.Errorf("%s: want %q:%s", file, want, diags.Error())
		}
	}
}

// TestRecipeSizeBounds: a recipe directory of more than lang.MaxDirFiles
// .hcl files, or files of more than lang.MaxRecipeBytes in all (its
// modules' counted once each), is refused before it is parsed, naming the
// directory or the file that passes the bound. 60 files of 4 MB took 4
// minutes and 12 GB to validate; 50,000 empty ones 5.6 s and 640 MB.
func TestRecipeSizeBounds(t *testing.T) {
	head := "recipe \"t\" {}\nhosts \"h\" { count = 1 }\n"
	big := "# " + strings.Repeat("x", lang.MaxFileSize-1024) + "\n"
	t.Run("files", func(t *testing.T) {
		fsys := fstest.MapFS{"main.hcl": {Data: []byte(head)}}
		for i := range lang.MaxDirFiles {
			fsys[fmt.Sprintf("l%d.hcl", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("locals { l%d = 1 }\n", i))}
		}
		_, diags := loadFS(fsys)
		want := fmt.Sprintf("t holds %d .hcl files; a recipe or module directory may hold at most %d", lang.MaxDirFiles+1, lang.MaxDirFiles)
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, want) {
			t.Fatalf("want %q:%s", want, diagString(diags))
		}
		delete(fsys, "l0.hcl")
		if _, diags := loadFS(fsys); diags.HasErrors() {
			t.Fatalf("MaxDirFiles files:%s", diagString(diags))
		}
		mod := fstest.MapFS{"main.hcl": {Data: []byte(head + "module \"m\" {\n  source = \"./m\"\n  on     = hosts.h\n}\n")}}
		for i := range lang.MaxDirFiles + 1 {
			mod[fmt.Sprintf("m/l%d.hcl", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("locals { l%d = 1 }\n", i))}
		}
		_, diags = loadFS(mod)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), fmt.Sprintf("m holds %d .hcl files", lang.MaxDirFiles+1)) {
			t.Fatalf("module directory:%s", diagString(diags))
		}
	})
	t.Run("bytes", func(t *testing.T) {
		n := lang.MaxRecipeBytes / len(big)
		fsys := fstest.MapFS{"main.hcl": {Data: []byte(head)}}
		for i := range n {
			fsys[fmt.Sprintf("b%d.hcl", i)] = &fstest.MapFile{Data: []byte(big)}
		}
		if !testing.Short() {
			if _, diags := loadFS(fsys); diags.HasErrors() {
				t.Fatalf("%d bytes in all:%s", n*len(big)+len(head), diagString(diags))
			}
		}
		fsys[fmt.Sprintf("b%d.hcl", n)] = &fstest.MapFile{Data: []byte(big)}
		_, diags := loadFS(fsys)
		want := fmt.Sprintf("With t/b%d.hcl the recipe's files (its modules' included) come to", n)
		if len(diags) != 1 || diags[0].Summary != "Recipe too large" || !strings.Contains(diags[0].Detail, want) {
			t.Fatalf("want %q:%s", want, diagString(diags))
		}
		if testing.Short() {
			return // the rest parses 16 MB, twice
		}
		// A module's file counts once, however often it is called; the
		// file that passes the bound is named at the call that reads it.
		mod := fstest.MapFS{"m/main.hcl": {Data: []byte(big)}, "n/main.hcl": {Data: []byte(big)}}
		var calls strings.Builder
		for i := range 20 {
			fmt.Fprintf(&calls, "module \"m%d\" {\n  source = \"./m\"\n  on     = hosts.h\n}\n", i)
		}
		for i := range n - 1 {
			mod[fmt.Sprintf("b%d.hcl", i)] = &fstest.MapFile{Data: []byte(big)}
		}
		mod["main.hcl"] = &fstest.MapFile{Data: []byte(head + calls.String())}
		if _, diags := loadFS(mod); diags.HasErrors() {
			t.Fatalf("a module file counted once:%s", diagString(diags))
		}
		mod["main.hcl"] = &fstest.MapFile{Data: []byte(head + calls.String() + "module \"n\" {\n  source = \"./n\"\n  on     = hosts.h\n}\n")}
		_, diags = loadFS(mod)
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, "With t/n/main.hcl the recipe's files") || diags[0].Subject == nil || diags[0].Subject.Start.Line != 83 {
			t.Fatalf("want the file of module n, at its call:%s", diagString(diags))
		}
	})
}
