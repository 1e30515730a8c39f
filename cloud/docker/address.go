package docker

import (
	"context"
	"fmt"
	"net/netip"

	"diffuser/cloud"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Fixed addresses. A cluster network created by this version carries
// labelAddressing = "fixed" and an explicit subnet whose upper half is the
// engine's IPRange: addresses the engine hands out by itself (a container
// connected by hand, say) come from there. diffuser pins every host it
// creates to an address of the lower half (EndpointIPAMConfig), so the
// engine gives a container the same address on every start — after
// `docker restart`, a daemon restart or a host reboot — and never hands a
// stopped host's address to anyone else. A host launched again (replaced,
// or its container removed) asks for the address state recorded for it
// (cloud.HostSpec.Address) and gets it while it is free.
//
// Networks made before (no label) keep the engine's dynamic addresses:
// their hosts are not replaced for it, and a new host on such a network is
// not pinned either (a user-configured subnet is what pinning needs, and a
// network's subnet cannot change). Destroying and applying the cluster
// again moves it to fixed addresses.
const (
	labelAddressing = "diffuser.addressing"
	addressingFixed = "fixed"
)

// addressPlan is how a cluster network hands out addresses. The zero value
// (no fixed range) means dynamic addresses.
type addressPlan struct {
	static  netip.Prefix // lower half of the subnet: diffuser's to pin
	gateway netip.Addr
}

func (a addressPlan) fixed() bool { return a.static.IsValid() }

// splitSubnet returns the lower half of subnet (pinned addresses) and the
// upper half (the engine's IPRange). A subnet too small to halve usefully
// (fewer than 8 addresses) is refused.
func splitSubnet(subnet netip.Prefix) (static, dynamic netip.Prefix, err error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() || subnet.Bits() > 29 {
		return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("subnet %s: fixed addresses need an IPv4 subnet of /29 or larger", subnet)
	}
	bits := subnet.Bits() + 1
	static = netip.PrefixFrom(subnet.Addr(), bits)
	b := subnet.Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1 << (32 - bits)
	dynamic = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), bits)
	return static, dynamic, nil
}

// planOf reads the address plan of a network from its inspection.
func planOf(n network.Inspect) addressPlan {
	if n.Labels[labelAddressing] != addressingFixed {
		return addressPlan{}
	}
	for _, c := range n.IPAM.Config {
		if !c.Subnet.Addr().Is4() {
			continue
		}
		static, _, err := splitSubnet(c.Subnet)
		if err != nil {
			return addressPlan{}
		}
		return addressPlan{static: static, gateway: c.Gateway}
	}
	return addressPlan{}
}

// pickAddress returns preferred when it lies in the static range and is
// free, else the lowest free address of the range. The range's first
// address (the subnet's) and the gateway are never handed out.
func pickAddress(plan addressPlan, used map[netip.Addr]bool, preferred netip.Addr) (netip.Addr, error) {
	free := func(a netip.Addr) bool {
		return plan.static.Contains(a) && a != plan.static.Addr() && a != plan.gateway && !used[a]
	}
	if preferred.IsValid() && free(preferred) {
		return preferred, nil
	}
	for a := plan.static.Addr().Next(); plan.static.Contains(a); a = a.Next() {
		if free(a) {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s (the pinned half of the cluster network): destroy hosts or use a larger network_cidr", plan.static)
}

// networkPlan returns the address plan of the cluster network netID,
// inspected once per process.
func (p *Provider) networkPlan(ctx context.Context, cluster, netID string) (addressPlan, error) {
	p.netMu.Lock()
	defer p.netMu.Unlock()
	if plan, ok := p.plans[netID]; ok {
		return plan, nil
	}
	res, err := p.cli.NetworkInspect(ctx, netID, client.NetworkInspectOptions{})
	if err != nil {
		return addressPlan{}, fmt.Errorf("inspect network %s: %w", NetworkName(cluster), err)
	}
	plan := planOf(res.Network)
	p.plans[netID] = plan
	return plan, nil
}

// reserveAddress picks the address a new container of spec is pinned to
// and holds it for this process until release is called (once the
// container exists, the engine holds it). Addresses of the cluster's
// containers, running or stopped, and of anything on the network are
// taken.
func (p *Provider) reserveAddress(ctx context.Context, spec cloud.HostSpec, plan addressPlan, netID string) (addr netip.Addr, release func(), err error) {
	p.addrMu.Lock()
	defer p.addrMu.Unlock()
	used := map[netip.Addr]bool{}
	for a := range p.pending {
		used[a] = true
	}
	list, err := p.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: clusterFilter(spec.Cluster)})
	if err != nil {
		return netip.Addr{}, nil, fmt.Errorf("%s: list the cluster's containers: %w", spec.Name, err)
	}
	for _, c := range list.Items {
		markUsed(used, c.NetworkSettings)
	}
	if res, err := p.cli.NetworkInspect(ctx, netID, client.NetworkInspectOptions{}); err == nil {
		for _, ep := range res.Network.Containers {
			if ep.IPv4Address.IsValid() {
				used[ep.IPv4Address.Addr()] = true
			}
		}
	}
	preferred, _ := netip.ParseAddr(spec.Address)
	if addr, err = pickAddress(plan, used, preferred); err != nil {
		return netip.Addr{}, nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	if preferred.IsValid() && addr != preferred && plan.static.Contains(preferred) { // not a shared network's (shared.go)
		p.env.Log("docker: %s: its recorded address %s is not free: pinned to %s", spec.Name, preferred, addr)
	}
	p.pending[addr] = true
	return addr, func() {
		p.addrMu.Lock()
		delete(p.pending, addr)
		p.addrMu.Unlock()
	}, nil
}

// markUsed records every address a container has, or is pinned to, on any
// network.
func markUsed(used map[netip.Addr]bool, ns *container.NetworkSettingsSummary) {
	if ns == nil {
		return
	}
	for _, ep := range ns.Networks {
		if ep == nil {
			continue
		}
		if ep.IPAddress.IsValid() {
			used[ep.IPAddress] = true
		}
		if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
			used[ep.IPAMConfig.IPv4Address] = true
		}
	}
}
