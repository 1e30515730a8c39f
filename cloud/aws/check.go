package aws

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/state"
)

var _ cloud.SettingsChecker = (*Factory)(nil)

// CheckSettings reports every mistake New and Launch would refuse, each at
// its setting, without an API call. Settings only AWS can judge (does the
// AMI or the subnet exist, is the instance type offered in the region)
// wait for apply.
func (f *Factory) CheckSettings(v cty.Value, _ string, _ cloud.GroupNeed) []cloud.SettingsProblem {
	s, err := decodeSettings(v)
	if err != nil {
		return []cloud.SettingsProblem{cloud.Problem(nil, "Invalid aws setting", "aws provider: %v", err)}
	}
	return s.problems()
}

// instanceTypeRE is an EC2 instance type: family.size (t3.medium,
// u-6tb1.112xlarge).
var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// regionRE is a region name, which is one label of a host name
// (us-east-1; RegionOne for an EC2-compatible cloud).
var regionRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// problems are the settings' mistakes that need no API call: New refuses
// the first, validate and plan report them all.
func (s *settings) problems() []cloud.SettingsProblem {
	var out []cloud.SettingsProblem
	add := func(path cty.Path, format string, args ...any) {
		out = append(out, cloud.Problem(path, "Invalid aws setting", format, args...))
	}
	attr := cty.GetAttrPath
	if s.SSHCIDR != "" {
		if _, _, err := net.ParseCIDR(s.SSHCIDR); err != nil {
			add(attr("ssh_cidr"), "ssh_cidr %q is not a CIDR block: write an address and a prefix length of 0-32 (IPv4) or 0-128 (IPv6), e.g. \"198.51.100.7/32\".", s.SSHCIDR)
		}
	}
	if s.Region != "" && !regionRE.MatchString(s.Region) {
		// The region becomes part of the API's host name (ec2.REGION.amazonaws.com)
		// and of every request's signature scope.
		add(attr("region"), "region %q is not a region name: write it as AWS does, e.g. \"eu-west-1\" (letters, digits and '-')", s.Region)
	}
	switch s.DeviceNaming {
	case "", "auto", "nitro", "xen":
	default:
		add(attr("device_naming"), "device_naming %q: want auto, nitro or xen", s.DeviceNaming)
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(attr("endpoint"), "endpoint %q: want the URL of an EC2-compatible API, e.g. \"https://ec2.example.org:8773\".", s.Endpoint)
		}
	}
	for i, p := range s.Ports {
		// The recipe's ports format: the entries name what the
		// intra-cluster rule is for, so they must read as ports.
		if _, err := cloud.ParsePorts([]string{p}); err != nil {
			add(attr("ports").Index(cty.NumberIntVal(int64(i))), "%v", err)
		}
	}
	out = append(out, s.Host.problems(nil, "provider \"aws\"", s.Endpoint != "")...)
	keys := groupKeys()
	for _, group := range sortedKeys(s.Groups) {
		gp := attr("groups").Index(cty.StringVal(group))
		var own hostConfig // only what the entry sets: the rest was checked above
		for _, k := range sortedKeys(s.Groups[group]) {
			v := s.Groups[group][k]
			isBool, ok := keys[k]
			switch {
			case !ok:
				add(gp.Index(cty.StringVal(k)), "groups.%s.%s: not a per-group setting (allowed: %s)", group, k, strings.Join(sortedKeys(keys), ", "))
				continue
			case isBool:
				if _, err := strconv.ParseBool(v); err != nil {
					add(gp.Index(cty.StringVal(k)), "groups.%s.%s = %q: want true or false", group, k, v)
					continue
				}
			}
			own, _ = own.override(map[string]string{k: v})
		}
		out = append(out, own.problems(gp, "groups."+group, s.Endpoint != "")...)
	}
	return out
}

// problems checks what a host group may set; base is where hc's settings
// sit (nil: the provider block), where names it in messages. With a custom
// endpoint an instance type is only checked to be a name: clouds that
// speak EC2 name their flavours as they like.
func (hc hostConfig) problems(base cty.Path, where string, customEndpoint bool) []cloud.SettingsProblem {
	var out []cloud.SettingsProblem
	at := func(name string) cty.Path {
		if base == nil {
			return cty.GetAttrPath(name)
		}
		return base.Copy().Index(cty.StringVal(name))
	}
	if hc.Image != "" && !strings.HasPrefix(hc.Image, "ami-") {
		if _, ok := imageAlias(hc.Image); !ok {
			out = append(out, cloud.Problem(at("image"), "Invalid aws setting", "%s: image %q: want an AMI id (ami-...) or one of %s", where, hc.Image, strings.Join(imageAliasNames(), ", ")))
		}
	}
	if t := hc.InstanceType; t != "" {
		_, numErr := strconv.ParseFloat(t, 64)
		if numErr == nil || strings.TrimSpace(t) != t || strings.ContainsAny(t, " \t\n") || (!customEndpoint && !instanceTypeRE.MatchString(t)) {
			out = append(out, cloud.Problem(at("instance_type"), "Invalid aws setting", "%s: instance_type %q is not an instance type: write family.size, e.g. \"t3.medium\" or \"m5.large\".", where, t))
		}
	}
	if hc.SSHUser != "" {
		// The user goes into ssh's command line and state: refused here,
		// not after instances were launched for it.
		if err := state.CheckUser(hc.SSHUser); err != nil {
			out = append(out, cloud.Problem(at("ssh_user"), "Invalid aws setting", "%s: ssh_user %v", where, err))
		}
	}
	for _, k := range sortedKeys(hc.Tags) {
		if strings.HasPrefix(k, "diffuser:") || strings.HasPrefix(k, "aws:") {
			out = append(out, cloud.Problem(at("tags").Index(cty.StringVal(k)), "Invalid aws setting", "%s: tag %q: the diffuser: and aws: prefixes are reserved", where, k))
		}
	}
	return out
}
