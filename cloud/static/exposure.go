package static

import (
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

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

var _ cloud.Egress = Factory{}

// EgressFromPublicIP: a static machine's connections come from its
// address (behind a NAT they do not, and opening its address is then
// useless but harmless).
func (Factory) EgressFromPublicIP(cty.Value) bool { return true }
