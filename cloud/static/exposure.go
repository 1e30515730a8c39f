package static

import "github.com/zclconf/go-cty/cty"

// Exposed: a static host reached through a jump host sits on a network
// others cannot enter; one reached directly is assumed reachable at its
// address.
func (Factory) Exposed(v cty.Value) (bool, string) {
	s, err := Decode(v)
	if err != nil || s.Jump == "" {
		return true, ""
	}
	return false, "are reached through the jump host " + s.Jump + ", so they sit on a network hosts elsewhere cannot enter"
}
