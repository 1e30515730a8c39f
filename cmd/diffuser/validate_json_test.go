package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestValidateJSON: validate -json prints Terraform's validate -json shape
// on stdout and nothing on stderr, exits 1 when invalid, and each case
// matches its golden file (go test ./cmd/diffuser -run TestValidateJSON
// -update rewrites them).
func TestValidateJSON(t *testing.T) {
	dir := filepath.Join("testdata", "validate")
	for _, tc := range []struct {
		name  string
		args  []string
		valid bool
	}{
		{"valid", []string{filepath.Join(badDir, "ok.hcl")}, true},
		{"unquoted", []string{filepath.Join(dir, "unquoted.hcl")}, true}, // a warning only
		{"site", []string{"--site", filepath.Join(dir, "site.hcl"), filepath.Join(badDir, "ok.hcl")}, false},
		{"precondition", []string{filepath.Join(dir, "precondition.hcl")}, false},
		{"syntax", []string{filepath.Join(dir, "syntax.hcl")}, false},
		{"missing", []string{filepath.Join(dir, "missing")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := badRun(t, append([]string{"validate", "-json"}, tc.args...)...)
			want := exitError
			if tc.valid {
				want = exitOK
			}
			if res.code != want || res.stderr != "" {
				t.Errorf("exit %d, stderr %q; want exit %d and nothing on stderr", res.code, res.stderr, want)
			}
			var doc struct {
				FormatVersion string `json:"format_version"`
				Valid         bool   `json:"valid"`
				ErrorCount    int    `json:"error_count"`
				Diagnostics   []struct {
					Severity string          `json:"severity"`
					Range    json.RawMessage `json:"range"`
				} `json:"diagnostics"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
			}
			if doc.FormatVersion != "1.0" || doc.Valid != tc.valid || (doc.ErrorCount == 0) != tc.valid || doc.Diagnostics == nil {
				t.Errorf("document: %+v", doc)
			}
			golden(t, filepath.Join(dir, tc.name+".json"), res.stdout)
		})
	}
}
