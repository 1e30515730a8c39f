package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"diffuser/cloud/docker"
)

// TestImageBar drives the terminal view of a node image build with a
// fake build: the title and log path, each phase with a check mark, the
// total; never the programs' output lines, which stay in the log. A
// failure shows the failed phase and the output's last lines.
func TestImageBar(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprint("fail=", fail), func(t *testing.T) {
			var out strings.Builder
			printf := func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }
			b := &imageBar{out: &out, width: 120, sum: docker.NewBuildSummary(printf)}
			b.BuildStart(docker.BuildInfo{Tag: "diffuser-node:test", Title: "building node image diffuser-node:test",
				Phases: []string{docker.PhaseDebootstrap, docker.PhaseNodeSetup, docker.PhaseImport}, LogPath: "/x/node-image.log"})
			b.BuildPhase(docker.PhaseDebootstrap)
			for i := range 900 {
				fmt.Fprintf(b, "debootstrap: I: Retrieving package%d\n", i)
			}
			b.BuildPhase(docker.PhaseNodeSetup)
			fmt.Fprintln(b, "setup: configuring")
			var err error
			if fail {
				err = errors.New("chroot: exit status 3")
			} else {
				b.BuildPhase(docker.PhaseImport)
			}
			b.BuildEnd(err)
			got := out.String()
			want := []string{"building node image diffuser-node:test\n", "full log: /x/node-image.log\n", "✓ debootstrap ("}
			if fail {
				want = append(want, "✗ node setup failed (", "diffuser-node:test: failed after", "  | setup: configuring\n")
			} else {
				want = append(want, "✓ node setup (", "✓ import (", "diffuser-node:test: done in ")
			}
			for _, s := range want {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %q:\n%s", s, got)
				}
			}
			if n := strings.Count(got, "Retrieving package"); n > 20 {
				t.Errorf("%d output lines of debootstrap reached the terminal:\n%s", n, got)
			}
			if !fail && strings.Contains(got, "Retrieving package") {
				t.Errorf("a successful build showed the programs' output:\n%s", got)
			}
		})
	}
}
