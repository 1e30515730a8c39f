package steps

import (
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
)

// Registry maps a kind's name (the block name in a recipe step) to the kind.
// It is built per engine (builtin.Kinds, builtin.WithClock), never shared
// as a global.
type Registry map[string]Kind

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
		specs[n] = k.Schema().Spec()
	}
	return specs
}
