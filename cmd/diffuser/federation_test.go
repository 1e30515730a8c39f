package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestFederationValidateGolden validates the built-in glusterfs recipe
// against site files that put its groups on several providers: the
// warnings name the pair of groups (and their providers) that cannot
// reach each other, and say nothing where they can.
func TestFederationValidateGolden(t *testing.T) {
	for _, c := range []struct {
		site string
		warn bool
	}{
		{"docker-static", true},
		{"aws-static-bastion", true},
		{"aws-static-ok", false},
		{"aws-two-regions", false},
	} {
		t.Run(c.site, func(t *testing.T) {
			var out bytes.Buffer
			site := filepath.Join("testdata", "federation", c.site+".hcl")
			code := run(context.Background(), nil, []string{"validate", "glusterfs", "--site", site, "--var", "clients=2",
				"--data-dir", t.TempDir(), "--no-color"}, strings.NewReader(""), &out, &out)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out.String())
			}
			got := out.String()
			if has := strings.Contains(got, "cannot reach"); has != c.warn {
				t.Errorf("warning printed: %v, want %v\n%s", has, c.warn, got)
			}
			golden(t, filepath.Join("testdata", "federation", c.site+".txt"), got)
		})
	}
}
