package steps

import (
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
)

// serviceSettle is how long Default's service kind waits before confirming a
// started unit is still active.
const serviceSettle = time.Second

// Registry maps a kind's name (the block name in a recipe step) to the kind.
// It is built per engine (Default, WithClock), never shared as a global.
type Registry map[string]Kind

// Default returns every built-in kind on the real clock.
func Default() Registry { return WithClock(systemClock{}) }

// WithClock returns every built-in kind, with the kinds that poll or settle
// (wait, service) on clock. Tests pass a fake clock to make them instant.
func WithClock(clock Clock) Registry {
	r := Registry{}
	for _, k := range []Kind{
		RunKind{},
		PackageKind{},
		FileKind{},
		FormatKind{},
		MountKind{},
		ServiceKind{Clock: clock, Settle: serviceSettle},
		WaitKind{Clock: clock},
		DistributeKind{},
	} {
		r[k.Name()] = k
	}
	return r
}

// Lookup returns the kind called name.
func (r Registry) Lookup(name string) (Kind, bool) {
	k, ok := r[name]
	return k, ok
}

// Names returns the kinds' names in order.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Specs returns each kind's Spec by name: what the loader decodes a step's
// kind block with, without lang importing steps.
func (r Registry) Specs() map[string]hcldec.Spec {
	specs := make(map[string]hcldec.Spec, len(r))
	for n, k := range r {
		specs[n] = k.Spec()
	}
	return specs
}
