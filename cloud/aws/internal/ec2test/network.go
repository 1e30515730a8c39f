package ec2test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Rule is one ingress rule: a protocol and port range from either a source
// security group or a CIDR.
type Rule struct {
	Protocol         string // "-1" for all
	FromPort, ToPort int    // -1 when Protocol is "-1"
	SourceGroup      string
	CIDR             string
	Description      string
}

func (r Rule) same(o Rule) bool {
	return r.Protocol == o.Protocol && r.FromPort == o.FromPort && r.ToPort == o.ToPort &&
		r.SourceGroup == o.SourceGroup && r.CIDR == o.CIDR
}

// SecurityGroup is a fake VPC security group.
type SecurityGroup struct {
	ID, Name, Description, VpcID string
	Tags                         map[string]string
	Ingress                      []Rule
}

func (g *SecurityGroup) snapshot() SecurityGroup {
	c := *g
	c.Tags = copyTags(g.Tags)
	c.Ingress = append([]Rule(nil), g.Ingress...)
	return c
}

// KeyPair is a fake imported key pair.
type KeyPair struct {
	ID, Name, PublicKey, Fingerprint string
	Tags                             map[string]string
}

// Subnet is a fake subnet.
type Subnet struct {
	ID, VpcID, CIDR string
	MapPublicIP     bool
}

func (s *Server) createSecurityGroup(f form) (any, error) {
	name, desc, vpc := f.get("GroupName"), f.get("GroupDescription"), f.get("VpcId")
	if name == "" || desc == "" {
		return nil, apiError{400, "MissingParameter", "GroupName and GroupDescription are required"}
	}
	if vpc == "" {
		vpc = DefaultVPC
	}
	for _, g := range s.groups {
		if g.Name == name && g.VpcID == vpc {
			return nil, apiError{400, "InvalidGroup.Duplicate", fmt.Sprintf("The security group '%s' already exists for VPC '%s'", name, vpc)}
		}
	}
	g := &SecurityGroup{ID: s.newID("sg"), Name: name, Description: desc, VpcID: vpc, Tags: f.tagSpecs("security-group")}
	s.groups[g.ID] = g
	return xCreateSecurityGroup{GroupID: g.ID, Tags: xTags(g.Tags)}, nil
}

type xCreateSecurityGroup struct {
	GroupID string `xml:"groupId"`
	Tags    []xTag `xml:"tagSet>item"`
}

type xDescribeSecurityGroups struct {
	Groups []xSecurityGroup `xml:"securityGroupInfo>item"`
}

func (s *Server) describeSecurityGroups(f form) (any, error) {
	ids, names := f.list("GroupId"), f.list("GroupName")
	for _, id := range ids {
		if _, ok := s.groups[id]; !ok {
			return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	filters := f.filters()
	var out xDescribeSecurityGroups
	found := map[string]bool{}
	for _, id := range sortedKeys(s.groups) {
		g := s.groups[id]
		// GroupNames resolve in the default VPC only, as in EC2.
		if (len(ids) > 0 && !contains(ids, id)) || (len(names) > 0 && (!contains(names, g.Name) || g.VpcID != DefaultVPC)) {
			continue
		}
		ok, err := matchAll(filters, g.Tags, func(name string) (string, bool) {
			switch name {
			case "group-name":
				return g.Name, true
			case "group-id":
				return g.ID, true
			case "vpc-id":
				return g.VpcID, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		found[g.Name] = true
		x := xSecurityGroup{OwnerID: AccountID, GroupID: g.ID, GroupName: g.Name, Description: g.Description, VpcID: g.VpcID, Tags: xTags(g.Tags)}
		for _, r := range g.Ingress {
			p := xPermission{IPProtocol: r.Protocol}
			if r.Protocol != "-1" {
				p.FromPort, p.ToPort = &r.FromPort, &r.ToPort
			}
			if r.SourceGroup != "" {
				p.Groups = []xUserIDGroupPair{{r.SourceGroup, AccountID, r.Description}}
			} else {
				p.IPRanges = []xIPRange{{r.CIDR, r.Description}}
			}
			x.Ingress = append(x.Ingress, p)
		}
		out.Groups = append(out.Groups, x)
	}
	for _, n := range names {
		if !found[n] {
			return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", n)
		}
	}
	return out, nil
}

func (s *Server) authorizeIngress(f form) (any, error) {
	g, ok := s.groups[f.get("GroupId")]
	if !ok {
		return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", f.get("GroupId"))
	}
	rules, err := s.ingressRules(f)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if len(r.Description) > 255 {
			return nil, invalid("Description of length %d exceeds 255", len(r.Description))
		}
		for _, old := range g.Ingress {
			if old.same(r) {
				return nil, apiError{400, "InvalidPermission.Duplicate", fmt.Sprintf("the specified rule %q already exists", r.Protocol+" "+r.CIDR+r.SourceGroup)}
			}
		}
	}
	g.Ingress = append(g.Ingress, rules...)
	return xReturn{true}, nil
}

// revokeIngress removes the rules named, all or none: EC2 refuses the
// call (InvalidPermission.NotFound) when one of them is not in the group.
func (s *Server) revokeIngress(f form) (any, error) {
	g, ok := s.groups[f.get("GroupId")]
	if !ok {
		return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", f.get("GroupId"))
	}
	rules, err := s.ingressRules(f)
	if err != nil {
		return nil, err
	}
	keep := append([]Rule(nil), g.Ingress...)
	for _, r := range rules {
		i := -1
		for j, old := range keep {
			if old.same(r) {
				i = j
			}
		}
		if i < 0 {
			return nil, notFound("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
		keep = append(keep[:i], keep[i+1:]...)
	}
	g.Ingress = keep
	return xReturn{true}, nil
}

// ingressRules parses the IpPermissions of an Authorize or Revoke call.
func (s *Server) ingressRules(f form) ([]Rule, error) {
	var rules []Rule
	for _, p := range f.structs("IpPermissions") {
		proto := p.get("IpProtocol")
		from, err := p.integer("FromPort", -1)
		if err != nil {
			return nil, err
		}
		to, err := p.integer("ToPort", -1)
		if err != nil {
			return nil, err
		}
		if proto == "-1" || proto == "all" {
			proto, from, to = "-1", -1, -1
		} else if proto != "tcp" && proto != "udp" && proto != "icmp" {
			return nil, invalid("Invalid value '%s' for IP protocol.", proto)
		}
		for _, src := range p.structs("Groups") {
			if _, ok := s.groups[src.get("GroupId")]; !ok {
				return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", src.get("GroupId"))
			}
			rules = append(rules, Rule{proto, from, to, src.get("GroupId"), "", src.get("Description")})
		}
		for _, rng := range p.structs("IpRanges") {
			if !strings.Contains(rng.get("CidrIp"), "/") {
				return nil, invalid("CIDR block %s is malformed", rng.get("CidrIp"))
			}
			rules = append(rules, Rule{proto, from, to, "", rng.get("CidrIp"), rng.get("Description")})
		}
	}
	if len(rules) == 0 {
		return nil, apiError{400, "MissingParameter", "IpPermissions is required"}
	}
	return rules, nil
}

func (s *Server) deleteSecurityGroup(f form) (any, error) {
	id := f.get("GroupId")
	g, ok := s.groups[id]
	if !ok {
		return nil, notFound("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	for _, in := range s.instances {
		if in.alive() && contains(in.Groups, id) {
			return nil, apiError{400, "DependencyViolation", fmt.Sprintf("resource %s has a dependent object", id)}
		}
	}
	for _, other := range s.groups {
		if other.ID == id {
			continue
		}
		for _, r := range other.Ingress {
			if r.SourceGroup == id {
				return nil, apiError{400, "DependencyViolation", fmt.Sprintf("resource %s is referenced by %s", id, other.ID)}
			}
		}
	}
	delete(s.groups, g.ID)
	return xReturn{true}, nil
}

func (s *Server) importKeyPair(f form) (any, error) {
	name := f.get("KeyName")
	material, err := base64.StdEncoding.DecodeString(f.get("PublicKeyMaterial"))
	if err != nil || name == "" || len(material) == 0 {
		return nil, invalid("KeyName and base64 PublicKeyMaterial are required")
	}
	if s.keys[name] != nil {
		return nil, apiError{400, "InvalidKeyPair.Duplicate", fmt.Sprintf("The keypair '%s' already exists.", name)}
	}
	sum := sha256.Sum256(material)
	k := &KeyPair{ID: s.newID("key"), Name: name, PublicKey: strings.TrimSpace(string(material)),
		Fingerprint: base64.StdEncoding.EncodeToString(sum[:]), Tags: f.tagSpecs("key-pair")}
	s.keys[name] = k
	return xKeyPair{KeyPairID: k.ID, KeyName: k.Name, Fingerprint: k.Fingerprint, Tags: xTags(k.Tags)}, nil
}

type xDescribeKeyPairs struct {
	Keys []xKeyPair `xml:"keySet>item"`
}

func (s *Server) describeKeyPairs(f form) (any, error) {
	names, ids := f.list("KeyName"), f.list("KeyPairId")
	for _, n := range names {
		if s.keys[n] == nil {
			return nil, notFound("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", n)
		}
	}
	withPublic, _ := f.boolean("IncludePublicKey")
	filters := f.filters()
	var out xDescribeKeyPairs
	for _, n := range sortedKeys(s.keys) {
		k := s.keys[n]
		if (len(names) > 0 && !contains(names, n)) || (len(ids) > 0 && !contains(ids, k.ID)) {
			continue
		}
		ok, err := matchAll(filters, k.Tags, func(name string) (string, bool) {
			switch name {
			case "key-name":
				return k.Name, true
			case "key-pair-id":
				return k.ID, true
			}
			return "", false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		x := xKeyPair{KeyPairID: k.ID, KeyName: k.Name, Fingerprint: k.Fingerprint, Tags: xTags(k.Tags)}
		if withPublic {
			x.PublicKey = k.PublicKey
		}
		out.Keys = append(out.Keys, x)
	}
	return out, nil
}

func (s *Server) deleteKeyPair(f form) (any, error) {
	name, id := f.get("KeyName"), f.get("KeyPairId")
	for n, k := range s.keys {
		if n == name || (id != "" && k.ID == id) {
			delete(s.keys, n)
		}
	}
	return xReturn{true}, nil // EC2 answers true for a missing key too
}

type xDescribeSubnets struct {
	Subnets []xSubnet `xml:"subnetSet>item"`
}

func (s *Server) describeSubnets(f form) (any, error) {
	ids := f.list("SubnetId")
	var out xDescribeSubnets
	for _, id := range ids {
		sn, ok := s.subnets[id]
		if !ok {
			return nil, notFound("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		out.Subnets = append(out.Subnets, xSubnet{sn.ID, sn.VpcID, sn.CIDR, "available", sn.MapPublicIP})
	}
	if len(ids) == 0 {
		for _, id := range sortedKeys(s.subnets) {
			sn := s.subnets[id]
			out.Subnets = append(out.Subnets, xSubnet{sn.ID, sn.VpcID, sn.CIDR, "available", sn.MapPublicIP})
		}
	}
	return out, nil
}

// AddSubnet adds a subnet (and so its VPC).
func (s *Server) AddSubnet(sn Subnet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := sn
	s.subnets[sn.ID] = &c
}

// SecurityGroups returns a snapshot of every security group.
func (s *Server) SecurityGroups() []SecurityGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SecurityGroup
	for _, id := range sortedKeys(s.groups) {
		out = append(out, s.groups[id].snapshot())
	}
	return out
}

// KeyPairs returns a snapshot of every key pair.
func (s *Server) KeyPairs() []KeyPair {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KeyPair
	for _, n := range sortedKeys(s.keys) {
		k := *s.keys[n]
		k.Tags = copyTags(k.Tags)
		out = append(out, k)
	}
	return out
}

// String renders a rule as "tcp 22-22 from 0.0.0.0/0" or "-1 all from sg-...".
func (r Rule) String() string {
	src := r.CIDR
	if r.SourceGroup != "" {
		src = r.SourceGroup
	}
	ports := "all"
	if r.Protocol != "-1" {
		ports = strconv.Itoa(r.FromPort) + "-" + strconv.Itoa(r.ToPort)
	}
	return r.Protocol + " " + ports + " from " + src
}
