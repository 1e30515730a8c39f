package lang_test

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestRecipeDirSkipsSiteFile: a site file kept beside the recipe
// (diffuser.hcl, what `diffuser apply .` run there reads as the site) is
// not part of the recipe; a directory holding only it says so.
func TestRecipeDirSkipsSiteFile(t *testing.T) {
	site := `default_provider = "docker"
provider "docker" {
  extra_hosts = ["deb.debian.org:203.0.113.80"]
}
`
	recipe := `recipe "r" {}
hosts "h" { count = 1 }
step "s" {
  on  = hosts.h
  run = "true"
}
`
	r, diags := loadFS(fstest.MapFS{"main.hcl": {Data: []byte(recipe)}, "diffuser.hcl": {Data: []byte(site)}})
	if diags.HasErrors() {
		t.Fatalf("recipe with its site file beside it: %s", diags.Error())
	}
	if r.Step("s") == nil {
		t.Fatal("the recipe's step is missing")
	}
	_, diags = loadFS(fstest.MapFS{"diffuser.hcl": {Data: []byte(site)}})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "diffuser.hcl, which is a site file, never part of a recipe") {
		t.Fatalf("a directory with only the site file: %v", diags)
	}
}
