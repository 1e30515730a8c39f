package main

import (
	"strings"
	"testing"
)

func TestSingleDashLongFlags(t *testing.T) {
	a := &app{}
	root := a.rootCmd()
	cases := []struct{ in, want string }{
		{"plan glusterfs -var servers=3 -var-file=x.hcl", "plan glusterfs --var servers=3 --var-file=x.hcl"},
		{"apply glusterfs -auto-approve -parallelism=8", "apply glusterfs --auto-approve --parallelism=8"},
		{"plan x -h", "plan x -h"},                                  // short flags stay
		{"plan x --var a=1", "plan x --var a=1"},                    // already long
		{"plan x -notaflag", "plan x -notaflag"},                    // unknown: cobra reports it
		{"apply x -- -var", "apply x -- -var"},                      // after --, arguments are left alone
		{"plan x -detailed-exitcode", "plan x --detailed-exitcode"}, // Terraform's spelling
	}
	for _, c := range cases {
		got := strings.Join(normalizeArgs(root, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}
