package docker

import "github.com/zclconf/go-cty/cty"

// Exposed: containers sit on a bridge network of the machine that runs
// them; only that machine reaches their addresses.
func (Factory) Exposed(cty.Value) (bool, string) {
	return false, "are containers on a bridge network private to the machine that runs them, which hosts elsewhere cannot reach"
}
