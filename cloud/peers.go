package cloud

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

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
type PortRange struct {
	Protocol string // tcp or udp
	From, To int
	What     string // the rest of the entry, e.g. glusterd
}

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
func ParsePorts(entries []string) ([]PortRange, error) {
	var out []PortRange
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 {
			return nil, fmt.Errorf("ports: empty entry: want \"PORT[-PORT]/tcp|udp [what]\"")
		}
		rng, protos, ok := strings.Cut(f[0], "/")
		if !ok {
			return nil, fmt.Errorf("ports: %q: want \"PORT[-PORT]/tcp|udp [what]\", such as \"24007-24008/tcp glusterd\"", e)
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		if !isRange {
			hi = lo
		}
		from, ok1 := portNumber(lo)
		to, ok2 := portNumber(hi)
		if !ok1 || !ok2 || from > to {
			return nil, fmt.Errorf("ports: %q: %q is not a port or a range of ports (1-65535)", e, rng)
		}
		for _, p := range strings.Split(protos, "+") {
			if p != "tcp" && p != "udp" {
				return nil, fmt.Errorf("ports: %q: protocol %q: want tcp, udp or tcp+udp", e, p)
			}
			out = append(out, PortRange{Protocol: p, From: from, To: to, What: strings.Join(f[1:], " ")})
		}
	}
	return out, nil
}

// portNumber reads a port: digits only, 1 to 65535.
func portNumber(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 65535
}
