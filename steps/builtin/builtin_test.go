package builtin_test

import (
	"maps"
	"slices"
	"testing"

	"diffuser/steps"
	"diffuser/steps/builtin"
)

// TestRegistry checks that Kinds lists every kind under its own name with
// a Spec, and the optional abilities the engine looks for.
func TestRegistry(t *testing.T) {
	reg := builtin.Kinds()
	want := []string{"distribute", "file", "format", "mount", "package", "run", "service", "wait"}
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		k, _ := reg.Lookup(n)
		if k.Name() != n || k.Schema() == nil || reg.Specs()[n] == nil {
			t.Errorf("kind %s: Name() %q, Spec %v", n, k.Name(), k.Schema())
		}
	}
	if _, ok := reg.Lookup("launch"); ok {
		t.Error("Lookup(launch) found a kind: launches belong to cloud")
	}
	locks := map[string]string{}
	for _, n := range want {
		k, _ := reg.Lookup(n)
		if l, ok := k.(steps.HostLocker); ok {
			locks[n] = l.HostLock()
		}
		if _, ok := k.(steps.Destroyer); ok != (n == "mount") {
			t.Errorf("kind %s: Destroyer = %v", n, ok)
		}
	}
	if !maps.Equal(locks, map[string]string{"package": "pkg", "mount": "fstab"}) {
		t.Errorf("host locks = %v", locks)
	}
}
