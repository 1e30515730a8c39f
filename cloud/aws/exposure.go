package aws

import "github.com/zclconf/go-cty/cty"

// Exposed: instances with a public address accept what their security
// group opens; associate_public_ip = false leaves them only a private one.
func (*Factory) Exposed(v cty.Value) (bool, string) {
	s, err := decodeSettings(v)
	if err != nil || s.Host.AssociatePublicIP == nil || *s.Host.AssociatePublicIP {
		return true, ""
	}
	return false, "have no public address (associate_public_ip = false), so only their own VPC reaches them"
}
