package cloud

import (
	"testing"
)

func TestPeerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9": "203.0.113.9", " 10.0.0.4 ": "10.0.0.4", "2001:db8::1": "2001:db8::1", "::ffff:192.0.2.1": "192.0.2.1",
		"": "", "host.example": "", "127.0.0.1": "", "::1": "", "169.254.1.1": "", "0.0.0.0": "", "224.0.0.1": "",
		"10.0.0.1/32": "", "10.0.0.1; id": "",
	} {
		if got := PeerAddress(Host{PublicIP: in}); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
