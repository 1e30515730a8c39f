package recipes

import "testing"

// TestHasNamesRecipesOnly: Has is true for a built-in recipe's name and
// nothing else the embedded tree holds (its root, the standard library,
// a recipe's files or module directories), so that "." or
// "builtin/ceph/modules" is not taken for a built-in recipe.
func TestHasNamesRecipesOnly(t *testing.T) {
	for _, name := range Names() {
		if !Has(name) {
			t.Errorf("Has(%q) = false for a built-in recipe", name)
		}
	}
	for _, name := range []string{".", "", "modules", "modules/xfs-volume", "ceph/main.hcl", "ceph/modules", "ceph/modules/daemon", "./ceph", "ceph/", "../ceph", "nope"} {
		if Has(name) {
			t.Errorf("Has(%q) = true: not a built-in recipe", name)
		}
	}
	for name, want := range map[string]bool{
		"ceph/modules/daemon": true, "moosefs/modules/daemon": true, "ceph/modules/dropin": true,
		"ceph/modules": false, "ceph/modules/": false, "ceph/modules/daemon/main.hcl": false, "ceph/modules/nope": false,
		"nope/modules/daemon": false, "modules/xfs-volume": false, "ceph/modules/..": false, "ceph": false, ".": false,
	} {
		if got := HasRecipeModule(name); got != want {
			t.Errorf("HasRecipeModule(%q) = %v, want %v", name, got, want)
		}
	}
}
