package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// commandDocs is where the command reference lives, generated from the
// CLI's own help (make docs).
const commandDocs = "../../docs/commands"

// TestCommandDocs fails when docs/commands differs from what the CLI's
// help says now; `make docs` (this test with -update) regenerates it.
func TestCommandDocs(t *testing.T) {
	gen := t.TempDir()
	root := (&app{}).rootCmd()
	prepend := func(string) string {
		return "<!-- Generated from the CLI's help by `make docs`; edit cmd/diffuser, not this file. -->\n\n"
	}
	if err := doc.GenMarkdownTreeCustom(root, gen, prepend, func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	want := readDir(t, gen)
	if len(want) < 20 {
		t.Fatalf("only %d pages generated", len(want))
	}
	if *update {
		if err := os.MkdirAll(commandDocs, 0o755); err != nil {
			t.Fatal(err)
		}
		for name := range readDir(t, commandDocs) {
			if _, ok := want[name]; !ok {
				_ = os.Remove(filepath.Join(commandDocs, name))
			}
		}
		for name, body := range want {
			if err := os.WriteFile(filepath.Join(commandDocs, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have := readDir(t, commandDocs)
	var stale []string
	for name, body := range want {
		if have[name] != body {
			stale = append(stale, name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no such command any more)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("docs/commands is stale; run make docs. Differs: %s", strings.Join(stale, ", "))
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestHelpNamesModuleAddresses: every -target flag, state mv and rm say that
// they take module addresses, as they do (docs/state.md, writing-recipes.md).
func TestHelpNamesModuleAddresses(t *testing.T) {
	root := (&app{}).rootCmd()
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("target"); f != nil {
			n++
			if !strings.Contains(f.Usage, "module.NAME") {
				t.Errorf("%s --target: %q names no module address", c.CommandPath(), f.Usage)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if n < 3 {
		t.Errorf("only %d commands with --target", n)
	}
	mv, _, err := root.Find([]string{"state", "mv"})
	if err != nil || !strings.Contains(mv.Long, "module.a to module.b") {
		t.Errorf("state mv's help does not say it moves modules: %v", err)
	}
	rm, _, err := root.Find([]string{"state", "rm"})
	if err != nil || !strings.Contains(rm.Long, "module.NAME") {
		t.Errorf("state rm's help does not say it removes modules: %v", err)
	}
}
