package lang_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"
)

// TestSiteLimits: max_connects, max_uploads and max_sessions_per_host are
// whole numbers from 0 (no limit); anything else is an error at the
// attribute, saying what the setting is.
func TestSiteLimits(t *testing.T) {
	load := func(src string) (*lang.Site, string) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "diffuser.hcl")
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		site, diags := lang.LoadSite(p)
		return site, diagString(diags)
	}
	site, errs := load("max_connects = 8\nmax_uploads = 0\nmax_sessions_per_host = 10\n")
	if errs != "" {
		t.Fatalf("valid limits: %s", errs)
	}
	if site.MaxConnects == nil || *site.MaxConnects != 8 || site.MaxUploads == nil || *site.MaxUploads != 0 ||
		site.MaxSessionsPerHost == nil || *site.MaxSessionsPerHost != 10 {
		t.Errorf("limits read as %v %v %v", site.MaxConnects, site.MaxUploads, site.MaxSessionsPerHost)
	}
	site, errs = load("keep_runs = 3\n")
	if errs != "" || site.MaxConnects != nil || site.MaxUploads != nil || site.MaxSessionsPerHost != nil {
		t.Errorf("unset limits: %s %v %v %v", errs, site.MaxConnects, site.MaxUploads, site.MaxSessionsPerHost)
	}
	for _, bad := range []string{
		"max_connects = -1", "max_connects = 2.5", `max_uploads = "many"`, "max_sessions_per_host = 10000001",
		"max_sessions_per_host = null",
	} {
		_, errs := load(bad + "\n")
		name := strings.Fields(bad)[0]
		if !strings.Contains(errs, name) || !strings.Contains(errs, "diffuser.hcl:1") {
			t.Errorf("%s: want an error naming %s at line 1, got %q", bad, name, errs)
		}
	}
	if _, errs := load("max_connects = var.x\n"); !strings.Contains(errs, "Variables not allowed") {
		t.Errorf("max_connects = var.x: %q", errs)
	}
}
