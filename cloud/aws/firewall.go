package aws

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"diffuser/cloud"
)

// Rules for hosts of other providers. The cluster's security group admits
// everything from its own members and SSH from the operator; hosts of the
// cluster's other providers (static lab machines, another region's
// instances) get exactly the recipe's declared ports from exactly their
// addresses (/32, /128 for IPv6): one permission per port range, protocol
// and peer, described with the peer's name. A peer
// that leaves the cluster is revoked the next time the rules are applied
// (ensureIngress revokes what is not wanted).

var _ cloud.Firewall = (*Provider)(nil)

// firewall is what the provider's security groups admit from peers. mu is
// held while rules are computed and applied, so that a group being made
// and a change of peers do not apply stale lists over each other.
type firewall struct {
	mu    sync.Mutex
	peers []cloud.Peer
	ports []cloud.PortRange
}

// SetPeers implements cloud.Firewall.
func (p *Provider) SetPeers(peers []cloud.Peer, ports []cloud.PortRange) {
	p.fw.mu.Lock()
	defer p.fw.mu.Unlock()
	p.fw.peers = append([]cloud.Peer(nil), peers...)
	p.fw.ports = append([]cloud.PortRange(nil), ports...)
}

// OpenToPeers implements cloud.Firewall: every security group of the
// cluster on this endpoint gets the rules ingressRules says, peers
// included, and loses the rest.
func (p *Provider) OpenToPeers(ctx context.Context, cluster string) error {
	p.fw.mu.Lock()
	defer p.fw.mu.Unlock()
	if len(p.fw.peers) > 0 && len(p.fw.ports) == 0 {
		p.log("aws: the recipe declares no ports: nothing is opened to the hosts of other providers (%d)", len(p.fw.peers))
	}
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + tagCluster), Values: []string{cluster}},
		{Name: aws.String("group-name"), Values: []string{resourceName(cluster)}},
	}})
	if err != nil {
		return fmt.Errorf("describe the security groups of cluster %s: %w", cluster, err)
	}
	for _, sg := range out.SecurityGroups {
		id := aws.ToString(sg.GroupId)
		if err := p.ensureIngress(ctx, sg, p.ingressRules(id, cluster)); err != nil {
			return fmt.Errorf("open security group %s to the cluster's other providers: %w", id, err)
		}
	}
	return nil
}

// rules are the peer permissions (caller holds mu, or the list is only
// read once SetPeers is done). Sorted, so the same peers give the same
// requests.
func (f *firewall) rules() []types.IpPermission {
	var out []types.IpPermission
	peers := append([]cloud.Peer(nil), f.peers...)
	sort.Slice(peers, func(i, j int) bool { return peers[i].Name < peers[j].Name })
	for _, pr := range f.ports {
		seen := map[string]bool{}
		for _, peer := range peers {
			a, err := netip.ParseAddr(peer.Address)
			if err != nil || seen[a.String()] {
				continue
			}
			seen[a.String()] = true
			// One source per permission: EC2 refuses a whole authorization
			// when one of its sources is there already, so a permission that
			// added a new peer beside a known one would never land.
			perm := types.IpPermission{IpProtocol: aws.String(pr.Protocol), FromPort: aws.Int32(int32(pr.From)), ToPort: aws.Int32(int32(pr.To))}
			desc := aws.String(ruleDescription(fmt.Sprintf("%s (%s): %s", peer.Name, peer.Provider, pr.What)))
			if a.Is4() {
				perm.IpRanges = []types.IpRange{{CidrIp: aws.String(a.String() + "/32"), Description: desc}}
			} else {
				perm.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(a.String() + "/128"), Description: desc}}
			}
			out = append(out, perm)
		}
	}
	return out
}
