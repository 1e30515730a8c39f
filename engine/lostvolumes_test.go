package engine_test

import (
	"slices"
	"testing"

	"diffuser/engine"
)

// TestDestroyNamesLostVolumesNotOnStatic: a host that goes takes its
// volumes' data with it on a provider that makes machines (the plan names
// them), but not on the static provider, whose destroy forgets the
// machine and leaves its disks as they are.
func TestDestroyNamesLostVolumesNotOnStatic(t *testing.T) {
	recipe := func(n int) string {
		return `recipe "t" {}
hosts "server" {
  count = ` + string(rune('0'+n)) + `
  volume "brick" { size_gb = 1 }
  volume "log" { size_gb = 1 }
}
`
	}
	w := newWorld(t, recipe(2))
	applyOK(t, w, w.plan())
	w.src = recipe(1)
	for _, tc := range []struct {
		provider string
		want     []string
	}{{"sim", []string{"brick", "log"}}, {"static", nil}, {"static.lab", nil}} {
		w.st.Hosts["server[1]"].Provider = tc.provider
		var got *engine.Change
		for _, c := range w.plan().Destroys {
			if c.Addr == engine.LaunchAddr("server[1]") {
				got = c
			}
		}
		if got == nil {
			t.Fatalf("%s: server[1] is not destroyed", tc.provider)
		}
		if !slices.Equal(got.Data, tc.want) {
			t.Errorf("%s: the destroy names lost volumes %v, want %v", tc.provider, got.Data, tc.want)
		}
	}
}
