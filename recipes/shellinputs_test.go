package recipes

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/steps/builtin"
)

// allHCL is every built-in recipe and module file at its path under
// recipes/: FS() holds the recipes and their own modules, Modules() the
// standard library (modules/NAME).
func allHCL(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	for _, src := range []fs.FS{files, modules} {
		err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(src, name)
			out[name] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// shellFlows loads each recipe directory of fsys named in dirs, with the
// standard library of modules and the real step kinds, and returns the
// analysis of its shell-read places (lang's Recipe.ShellFlow, whose
// warnings validate and plan print), and the built-in modules each calls.
func shellFlows(t *testing.T, fsys fs.FS, dirs []string) (map[string]*lang.ShellFlow, map[string]bool) {
	t.Helper()
	out, called := map[string]*lang.ShellFlow{}, map[string]bool{}
	for _, dir := range dirs {
		r, diags := lang.Load(lang.Source{FS: fsys, Dir: dir, Display: dir, Modules: Modules()}, engine.KindSpecs(builtin.Kinds()))
		if diags.HasErrors() || r.ShellFlow() == nil {
			t.Fatalf("%s: %s", dir, diags.Error())
		}
		out[dir] = r.ShellFlow()
		for _, m := range r.AllModules() {
			if name, ok := strings.CutPrefix(m.Source, lang.BuiltinPrefix); ok {
				called[name] = true
			}
		}
	}
	return out, called
}

// TestUserValuesQuotedInCommands: nothing a user types becomes shell code
// unless the recipe says so. Every value that reaches a place a shell
// (or systemd) reads in a built-in recipe or module — a variable, through
// locals, module inputs and outputs; a capture; a host fact — is inside
// shellquote(...) there, or its variable's declaration holds it to
// characters no shell reads specially (shell.Quote's plain set, less the
// % systemd expands). The analysis is lang's (shellflow.go): validate
// and plan warn of each such value in a user's recipe, and the built-in
// ones have none.
func TestUserValuesQuotedInCommands(t *testing.T) {
	flows, called := shellFlows(t, files, Names())
	var sinks, refs int
	var held []string
	for _, name := range Names() {
		f := flows[name]
		for _, d := range f.Warnings {
			t.Errorf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
		}
		// No warning (no user types it), but [ and ] make it a glob:
		// the built-in recipes write host.hostname.
		for _, r := range f.HostNames {
			t.Errorf("%s: host.name pasted unquoted into a command: write host.hostname", r)
		}
		sinks, refs = sinks+f.Sinks, refs+f.Refs
		for _, h := range f.Held {
			if !slices.Contains(held, h) {
				held = append(held, h)
			}
		}
	}
	// A module no built-in recipe calls is analysed nowhere.
	for _, m := range lang.ModuleNames(Modules()) {
		if !called[m] {
			t.Errorf("no built-in recipe calls builtin/%s: its commands are not analysed", m)
		}
	}
	if sinks < 120 || refs < 350 {
		t.Fatalf("only %d commands and %d references analysed: the walk is broken", sinks, refs)
	}
	slices.Sort(held)
	t.Logf("%d shell-read expressions, %d references followed; variables that reach them held by their declarations:\n%s",
		sinks, refs, strings.Join(held, "\n"))
}

// TestExampleRecipesQuoteUserValues: the recipes in examples/, which users
// copy to write their own, hold the same rule (with the standard library
// modules they call).
func TestExampleRecipesQuoteUserValues(t *testing.T) {
	ex := os.DirFS("../examples/recipes")
	ents, err := fs.ReadDir(ex, ".")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	flows, _ := shellFlows(t, ex, dirs)
	sinks := 0
	for _, d := range dirs {
		for _, w := range flows[d].Warnings {
			t.Errorf("examples/recipes/%s: %s: %s", w.Subject, w.Summary, w.Detail)
		}
		sinks += flows[d].Sinks
	}
	if len(dirs) < 5 || sinks < 20 {
		t.Fatalf("only %d commands of %d recipes analysed in examples/recipes: the walk is broken", sinks, len(dirs))
	}
}
