// Package upgradedoc checks that a recipe's page says what a cluster applied
// with an older recipe plans. It is imported by tests only: the tests that
// apply an older recipe on the simulator and plan the current one
// (workspace/prerewrite_test.go, engine's pre* tests) name the commit their
// fixture is from, and the operator reads what it plans in an "Upgrading"
// section of docs/recipes/NAME.md, not in the test.
package upgradedoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mentions fails t unless an "Upgrading" section of
// root/docs/recipes/RECIPE.md (a heading with the word, to the next heading
// of its level or above) contains text. root is the repository's root
// relative to the test's package ("..").
func Mentions(t testing.TB, root, recipe, text string) {
	t.Helper()
	page := filepath.Join(root, "docs", "recipes", recipe+".md")
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	level := 0 // the open Upgrading section's heading level, 0 outside one
	fence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if h := len(line) - len(strings.TrimLeft(line, "#")); !fence && h > 0 && strings.HasPrefix(line[h:], " ") {
			if level == 0 || h <= level {
				level = 0
				if strings.Contains(line, "Upgrading") {
					level = h
				}
			}
			continue
		}
		if level > 0 && strings.Contains(line, text) {
			return
		}
	}
	t.Errorf("%s has no Upgrading section naming %q: say there what a cluster applied with that recipe plans", page, text)
}
