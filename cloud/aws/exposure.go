package aws

import (
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// Exposed: instances with a public address accept what their security
// group opens; associate_public_ip = false leaves them only a private one.
func (*Factory) Exposed(v cty.Value) (bool, string) {
	s, err := decodeSettings(v)
	if err != nil || s.Host.AssociatePublicIP == nil || *s.Host.AssociatePublicIP {
		return true, ""
	}
	return false, "have no public address (associate_public_ip = false), so only their own VPC reaches them"
}

var _ cloud.Egress = (*Factory)(nil)

// EgressFromPublicIP: an instance with a public address connects from it;
// one without leaves through the VPC's NAT, an address diffuser does not
// know.
func (f *Factory) EgressFromPublicIP(v cty.Value) bool {
	ok, _ := f.Exposed(v)
	return ok
}
