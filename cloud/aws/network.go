package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// clusterInfo is what every launch of a cluster shares.
type clusterInfo struct {
	groupID string // security group
	keyName string
}

// resourceName is the name of a cluster's security group and imported key pair.
func resourceName(cluster string) string { return "diffuser-" + cluster }

// clusterSetup makes sure the cluster's security group (in the VPC of the
// host's subnet) and key pair exist, once per provider however many group
// launches ask at the same time.
func (p *Provider) clusterSetup(ctx context.Context, cluster string, hc hostConfig) (clusterInfo, error) {
	vpc := ""
	if hc.SubnetID != "" {
		var err error
		vpc, err = p.vpcs.get(ctx, hc.SubnetID, func(ctx context.Context) (string, error) {
			out, err := p.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{hc.SubnetID}})
			if err != nil {
				return "", fmt.Errorf("describe subnet %s: %w", hc.SubnetID, err)
			}
			if len(out.Subnets) == 0 {
				return "", fmt.Errorf("subnet %s not found", hc.SubnetID)
			}
			return aws.ToString(out.Subnets[0].VpcId), nil
		})
		if err != nil {
			return clusterInfo{}, err
		}
	}
	var ci clusterInfo
	var err error
	ci.groupID, err = p.sgs.get(ctx, cluster+"\x00"+vpc, func(ctx context.Context) (string, error) {
		return p.ensureSecurityGroup(ctx, cluster, vpc)
	})
	if err != nil {
		return ci, err
	}
	ci.keyName, err = p.keyPairs.get(ctx, cluster+"\x00", func(ctx context.Context) (string, error) {
		return p.ensureKeyPair(ctx, cluster)
	})
	return ci, err
}

// ensureSecurityGroup creates or finds the cluster's security group
// diffuser-<cluster> in vpc ("" = the default VPC) and makes sure it has
// its two ingress rules:
//
//   - all protocols and ports from members of the same group (a
//     self-reference): Ceph, GlusterFS and the like open ports that are
//     hard to list, and a cloud firewall that blocks them is the classic
//     way such clusters fail;
//   - TCP 22 from ssh_cidr, for diffuser itself.
//
// Another process creating it at the same time is fine: InvalidGroup.Duplicate
// means "look it up". A group of that name not tagged for this cluster is
// an error: it is not diffuser's to change.
func (p *Provider) ensureSecurityGroup(ctx context.Context, cluster, vpc string) (string, error) {
	name := resourceName(cluster)
	sg, found, err := p.findSecurityGroup(ctx, name, vpc)
	if err != nil {
		return "", err
	}
	if !found {
		in := &ec2.CreateSecurityGroupInput{
			GroupName:   aws.String(name),
			Description: aws.String("diffuser cluster " + cluster + ": all traffic between members, SSH from the operator"),
			TagSpecifications: []types.TagSpecification{{
				ResourceType: types.ResourceTypeSecurityGroup,
				Tags:         tagList(p.clusterTags(cluster, name)),
			}},
		}
		if vpc != "" {
			in.VpcId = aws.String(vpc)
		}
		out, err := p.ec2.CreateSecurityGroup(ctx, in)
		switch {
		case err == nil:
			p.log("aws: created security group %s (%s)", name, aws.ToString(out.GroupId))
			sg = types.SecurityGroup{GroupId: out.GroupId, GroupName: aws.String(name), Tags: out.Tags}
		case errorCode(err) == codeGroupDuplicate:
			if sg, found, err = p.findSecurityGroup(ctx, name, vpc); err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("security group %s: EC2 says it exists but does not show it", name)
			}
		default:
			return "", fmt.Errorf("create security group %s: %w", name, err)
		}
	}
	if v, _ := tagValue(sg.Tags, tagCluster); v != cluster {
		return "", fmt.Errorf("security group %s (%s) exists but is not tagged %s=%s: diffuser did not make it; delete or rename it", name, aws.ToString(sg.GroupId), tagCluster, cluster)
	}
	id := aws.ToString(sg.GroupId)
	p.fw.mu.Lock() // against OpenToPeers (firewall.go)
	defer p.fw.mu.Unlock()
	return id, p.ensureIngress(ctx, sg, p.ingressRules(id, cluster))
}

// findSecurityGroup looks a group up by name: in the default VPC by
// GroupNames (EC2 resolves names there), elsewhere by filters.
func (p *Provider) findSecurityGroup(ctx context.Context, name, vpc string) (types.SecurityGroup, bool, error) {
	in := &ec2.DescribeSecurityGroupsInput{GroupNames: []string{name}}
	if vpc != "" {
		in = &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
			{Name: aws.String("group-name"), Values: []string{name}},
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
		}}
	}
	out, err := p.ec2.DescribeSecurityGroups(ctx, in)
	if errorCode(err) == codeGroupNotFound {
		return types.SecurityGroup{}, false, nil
	}
	if err != nil {
		return types.SecurityGroup{}, false, fmt.Errorf("describe security group %s: %w", name, err)
	}
	if len(out.SecurityGroups) == 0 {
		return types.SecurityGroup{}, false, nil
	}
	return out.SecurityGroups[0], true, nil
}

// ingressRules are the cluster group's rules. The self rule's description
// names the recipe's ports (setting `ports`) so a reader of the console
// knows what it is for.
func (p *Provider) ingressRules(groupID, cluster string) []types.IpPermission {
	desc := "all traffic between members of diffuser cluster " + cluster
	if len(p.set.Ports) > 0 {
		desc += ", for " + strings.Join(p.set.Ports, ", ")
	}
	return append([]types.IpPermission{
		{
			IpProtocol:       aws.String("-1"),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(groupID), Description: aws.String(ruleDescription(desc))}},
		},
		{
			IpProtocol: aws.String("tcp"),
			FromPort:   aws.Int32(sshPort),
			ToPort:     aws.Int32(sshPort),
			IpRanges:   []types.IpRange{{CidrIp: aws.String(p.set.SSHCIDR), Description: aws.String("SSH for diffuser")}},
		},
	}, p.fw.rules()...)
}

// ruleDescription keeps the characters EC2 accepts in a rule description
// (letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*) and its 255-character limit.
func ruleDescription(s string) string {
	const allowed = "._-:/()#,@[]+=&;{}!$* "
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(allowed, r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	out := b.String()
	if len(out) > 255 {
		out = out[:252] + "..."
	}
	return out
}

// ensureIngress makes the group's ingress rules what want says: it adds
// the rules the group lacks and revokes every other one (the group is
// diffuser's own, tagged for the cluster), so that narrowing ssh_cidr
// closes the old range instead of adding the new one beside it.
func (p *Provider) ensureIngress(ctx context.Context, sg types.SecurityGroup, want []types.IpPermission) error {
	if err := p.authorizeMissing(ctx, sg, want); err != nil {
		return err
	}
	return p.revokeUnwanted(ctx, sg, want)
}

// revokeUnwanted revokes, one source at a time, each rule of the group
// that want does not grant. A rule gone meanwhile (another process
// revoked it) is fine.
func (p *Provider) revokeUnwanted(ctx context.Context, sg types.SecurityGroup, want []types.IpPermission) error {
	id := aws.ToString(sg.GroupId)
	for _, extra := range unwantedRules(sg.IpPermissions, want) {
		_, err := p.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{extra}})
		if err != nil && errorCode(err) != codePermissionNotFound {
			return fmt.Errorf("revoke ingress %s on %s (no longer wanted by the settings): %w", describeRule(extra), id, err)
		}
		p.log("aws: security group %s: revoked %s (no longer wanted by the settings)", id, describeRule(extra))
	}
	return nil
}

// unwantedRules splits have into one permission per source (CIDR, IPv6
// range, group, prefix list) and returns those want does not grant.
func unwantedRules(have, want []types.IpPermission) []types.IpPermission {
	var out []types.IpPermission
	for _, h := range have {
		base := types.IpPermission{IpProtocol: h.IpProtocol, FromPort: h.FromPort, ToPort: h.ToPort}
		var singles []types.IpPermission
		for _, r := range h.IpRanges {
			one := base
			one.IpRanges = []types.IpRange{{CidrIp: r.CidrIp}}
			singles = append(singles, one)
		}
		for _, r := range h.Ipv6Ranges {
			one := base
			one.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: r.CidrIpv6}}
			singles = append(singles, one)
		}
		for _, g := range h.UserIdGroupPairs {
			one := base
			one.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: g.GroupId, UserId: g.UserId}}
			singles = append(singles, one)
		}
		for _, pl := range h.PrefixListIds {
			one := base
			one.PrefixListIds = []types.PrefixListId{{PrefixListId: pl.PrefixListId}}
			singles = append(singles, one)
		}
		for _, one := range singles {
			if len(one.PrefixListIds) > 0 || !hasRule(want, one) {
				out = append(out, one)
			}
		}
	}
	return out
}

// describeRule names a single-source permission for messages: "tcp 22-22
// from 0.0.0.0/0".
func describeRule(r types.IpPermission) string {
	ports := "all"
	if aws.ToString(r.IpProtocol) != "-1" {
		ports = fmt.Sprintf("%d-%d", aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort))
	}
	var from string
	switch {
	case len(r.IpRanges) > 0:
		from = aws.ToString(r.IpRanges[0].CidrIp)
	case len(r.Ipv6Ranges) > 0:
		from = aws.ToString(r.Ipv6Ranges[0].CidrIpv6)
	case len(r.UserIdGroupPairs) > 0:
		from = aws.ToString(r.UserIdGroupPairs[0].GroupId)
	case len(r.PrefixListIds) > 0:
		from = aws.ToString(r.PrefixListIds[0].PrefixListId)
	}
	return fmt.Sprintf("%s %s from %s", aws.ToString(r.IpProtocol), ports, from)
}

// authorizeMissing adds the rules of want the group lacks.
func (p *Provider) authorizeMissing(ctx context.Context, sg types.SecurityGroup, want []types.IpPermission) error {
	var missing []types.IpPermission
	for _, w := range want {
		if !hasRule(sg.IpPermissions, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	id := aws.ToString(sg.GroupId)
	_, err := p.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: missing})
	if errorCode(err) == codePermissionDup {
		// Someone added one of them meanwhile; EC2 refused the whole call.
		for _, m := range missing {
			_, err = p.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{m}})
			if err != nil && errorCode(err) != codePermissionDup {
				return fmt.Errorf("authorize ingress on %s: %w", id, err)
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("authorize ingress on %s: %w", id, err)
	}
	return nil
}

// hasRule reports whether have already grants w (protocol, ports and every
// source of w).
func hasRule(have []types.IpPermission, w types.IpPermission) bool {
	for _, h := range have {
		if aws.ToString(h.IpProtocol) != aws.ToString(w.IpProtocol) {
			continue
		}
		if aws.ToString(w.IpProtocol) != "-1" && (aws.ToInt32(h.FromPort) != aws.ToInt32(w.FromPort) || aws.ToInt32(h.ToPort) != aws.ToInt32(w.ToPort)) {
			continue
		}
		ok := true
		for _, g := range w.UserIdGroupPairs {
			found := false
			for _, hg := range h.UserIdGroupPairs {
				found = found || aws.ToString(hg.GroupId) == aws.ToString(g.GroupId)
			}
			ok = ok && found
		}
		for _, r := range w.IpRanges {
			found := false
			for _, hr := range h.IpRanges {
				found = found || aws.ToString(hr.CidrIp) == aws.ToString(r.CidrIp)
			}
			ok = ok && found
		}
		for _, r := range w.Ipv6Ranges {
			found := false
			for _, hr := range h.Ipv6Ranges {
				found = found || aws.ToString(hr.CidrIpv6) == aws.ToString(r.CidrIpv6)
			}
			ok = ok && found
		}
		if ok {
			return true
		}
	}
	return false
}

// ensureKeyPair returns the key pair instances are launched with: key_name
// if set, else diffuser-<cluster>, imported from the workspace's public key
// (once; a pair of that name with another key is an error, since the
// workspace key could not log in).
func (p *Provider) ensureKeyPair(ctx context.Context, cluster string) (string, error) {
	if p.set.KeyName != "" {
		return p.set.KeyName, nil
	}
	name := resourceName(cluster)
	check := func(k types.KeyPairInfo) (string, error) {
		if v, _ := tagValue(k.Tags, tagCluster); v != cluster {
			return "", fmt.Errorf("key pair %s exists but is not tagged %s=%s: diffuser did not import it; delete it or set key_name", name, tagCluster, cluster)
		}
		if got := aws.ToString(k.PublicKey); got != "" && !sameKey(got, p.keys.PublicKey) {
			return "", fmt.Errorf("key pair %s holds another public key than this workspace's: delete it (diffuser destroy) or set key_name", name)
		}
		return name, nil
	}
	out, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}, IncludePublicKey: aws.Bool(true)})
	switch {
	case err == nil && len(out.KeyPairs) > 0:
		return check(out.KeyPairs[0])
	case err != nil && errorCode(err) != codeKeyNotFound:
		return "", fmt.Errorf("describe key pair %s: %w", name, err)
	}
	_, err = p.ec2.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName:           aws.String(name),
		PublicKeyMaterial: []byte(strings.TrimSpace(p.keys.PublicKey)),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: tagList(p.clusterTags(cluster, name))}},
	})
	if errorCode(err) == codeKeyDuplicate {
		out, err := p.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}, IncludePublicKey: aws.Bool(true)})
		if err != nil || len(out.KeyPairs) == 0 {
			return "", fmt.Errorf("describe key pair %s after a concurrent import: %w", name, err)
		}
		return check(out.KeyPairs[0])
	}
	if err != nil {
		return "", fmt.Errorf("import key pair %s: %w", name, err)
	}
	p.log("aws: imported the workspace key as key pair %s", name)
	return name, nil
}

// sameKey compares two authorized_keys lines by type and key, ignoring comments.
func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}

// clusterTags are the tags of cluster-wide resources.
func (p *Provider) clusterTags(cluster, name string) map[string]string {
	tags := map[string]string{}
	for k, v := range p.set.Host.Tags {
		tags[k] = v
	}
	tags[tagCluster], tags["Name"] = cluster, name
	return tags
}
