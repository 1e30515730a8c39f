package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestBuiltinLayoutPreconditions: a layout the filesystem would refuse is
// refused by validate and plan before anything is launched, with the
// recipe's own message once, at the precondition's line in the embedded
// recipe and the values it read; good layouts pass.
func TestBuiltinLayoutPreconditions(t *testing.T) {
	for _, tc := range []struct {
		recipe string
		vars   []string
		want   []string // messages, in order; none: valid
	}{
		{"glusterfs", []string{"servers=3", "replica=2"}, []string{
			"servers (3) must be a multiple of replica (2): GlusterFS groups consecutive bricks into sets of that size."}},
		{"glusterfs", []string{"servers=3", "replica=2", "disperse=3"}, []string{
			"A volume is replicated or dispersed, not both: set replica = 1 with disperse = 3."}},
		{"glusterfs", []string{"servers=4", "replica=1", "disperse=4", "disperse_redundancy=2"}, []string{
			"disperse_redundancy (2) must be less than half of disperse (4)."}},
		{"glusterfs", []string{"servers=6", "replica=3"}, nil},
		{"glusterfs", []string{"servers=3", "replica=1", "disperse=3"}, nil},
		{"moosefs", []string{"chunkservers=2", "goal=3"}, []string{
			"goal (3) is more than chunkservers (2): every chunk would stay undergoal. Raise chunkservers or lower goal."}},
		{"moosefs", []string{"chunkservers=3", "goal=3"}, nil},
	} {
		name := tc.recipe + " " + strings.Join(tc.vars, " ")
		for _, cmd := range []string{"validate", "plan"} {
			args := []string{cmd, tc.recipe}
			if cmd == "plan" {
				args = append(args, "--simulate", "--data-dir", t.TempDir())
			}
			res := badRun(t, withVars(args, tc.vars)...)
			if tc.want == nil {
				if res.code != exitOK {
					t.Errorf("%s %s: exit %d\n%s", cmd, name, res.code, res.stderr)
				}
				continue
			}
			checkFailed(t, res)
			if n := strings.Count(res.stderr, "Error: "); n != len(tc.want) {
				t.Errorf("%s %s: %d errors, want %d:\n%s", cmd, name, n, len(tc.want), res.stderr)
			}
			for _, msg := range tc.want {
				if strings.Count(res.stderr, msg) != 1 {
					t.Errorf("%s %s: stderr lacks %q once:\n%s", cmd, name, msg, res.stderr)
				}
			}
			at := regexp.MustCompile(`Error: Precondition of hosts "\w+" failed\n\n  on builtin:` + tc.recipe + `/main.hcl line \d+, in hosts "\w+":\n +\d+: +condition += `)
			if !at.MatchString(res.stderr) {
				t.Errorf("%s %s: the error does not point at the precondition's condition:\n%s", cmd, name, res.stderr)
			}
			if !regexp.MustCompile(`with (var|local)\.\w+ as `).MatchString(res.stderr) {
				t.Errorf("%s %s: the values the condition read are not shown:\n%s", cmd, name, res.stderr)
			}
			if strings.Contains(res.stderr, "cannot convert") {
				t.Errorf("%s %s: the old tonumber trick shows through:\n%s", cmd, name, res.stderr)
			}
		}
	}
}
