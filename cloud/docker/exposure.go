package docker

import "github.com/zclconf/go-cty/cty"

// Exposed: containers sit on a bridge network of the machine that runs
// them; only that machine reaches their addresses, unless the group joins
// shared networks (`networks`), where the hosts of other providers on
// those networks reach them.
func (Factory) Exposed(v cty.Value) (bool, string) {
	if s, _, err := decodeFields(v); err == nil && len(s.Networks) > 0 {
		return true, ""
	}
	return false, "are containers on a bridge network private to the machine that runs them, which hosts elsewhere cannot reach (unless the group joins a network they share: the docker provider's networks setting)"
}
