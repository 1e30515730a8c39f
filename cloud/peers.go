package cloud

import (
	"context"
	"net/netip"
	"strings"

	"diffuser/internal/ports"

	"github.com/zclconf/go-cty/cty"
)

// Peers across providers. A cluster over several providers has hosts
// that must reach hosts of another provider through that provider's
// firewall (lab clients mounting from aws servers, a second region's
// clients). A provider that manages a firewall (aws: the cluster's
// security group) implements Firewall and is told the cluster's peers —
// the hosts of other providers, by the address their traffic comes from —
// and the ports the recipe declares; it opens exactly those ports to
// exactly those addresses, and revokes what it opened for a peer that is
// gone.

// Peer is a host of another provider that reaches this provider's hosts.
type Peer struct {
	Name     string // host name, e.g. client[0]
	Provider string // its provider key
	Address  string // the IP address its connections come from
}

// PortRange is one entry of a recipe's `ports`: "24007-24008/tcp glusterd".
type PortRange = ports.Range

// Firewall is implemented by a Provider whose hosts sit behind a firewall
// it manages. SetPeers records what the firewall must admit from the
// cluster's other providers (no API call); the provider applies it to the
// firewalls it makes from then on. OpenToPeers applies it now to the
// cluster's firewalls that exist (none yet is fine).
type Firewall interface {
	SetPeers(peers []Peer, ports []PortRange)
	OpenToPeers(ctx context.Context, cluster string) error
}

// Egress is implemented by a Factory whose hosts' connections to other
// providers come from their public address (static machines, cloud
// instances with a public address), so that address is what a firewall
// admits. Docker containers leave through the machine's NAT: not peers.
type Egress interface {
	EgressFromPublicIP(settings cty.Value) bool
}

// PeerAddress is the address of h that a firewall admits, or "" when it
// has none usable (not an IP, loopback, link-local or unspecified).
func PeerAddress(h Host) string {
	a, err := netip.ParseAddr(strings.TrimSpace(h.PublicIP))
	if err != nil || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
		return ""
	}
	return a.Unmap().String()
}

// ParsePorts reads a recipe's `ports` entries: "PORT[-PORT]/PROTO[+PROTO]
// [what]", PROTO tcp or udp, e.g. "111/tcp+udp portmapper". One PortRange
// per protocol.
func ParsePorts(entries []string) ([]PortRange, error) { return ports.Parse(entries) }
