package aws

import (
	"fmt"
	"sort"
	"strconv"

	"diffuser/cloud"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Defaults for settings left out of the provider block.
const (
	DefaultImage        = "debian-12"
	DefaultInstanceType = "t3.medium"
	DefaultVolumeType   = "gp3"
	DefaultSSHCIDR      = "0.0.0.0/0"
	DefaultRegion       = "us-east-1" // only with an endpoint and no region anywhere else
)

// spec is the `provider "aws" { ... }` block. Nothing is required.
func spec() hcldec.ObjectSpec {
	str := func(name string) hcldec.Spec { return &hcldec.AttrSpec{Name: name, Type: cty.String} }
	boolean := func(name string) hcldec.Spec { return &hcldec.AttrSpec{Name: name, Type: cty.Bool} }
	return hcldec.ObjectSpec{
		"region":              str("region"),
		"endpoint":            str("endpoint"),
		"profile":             str("profile"),
		"image":               str("image"),
		"instance_type":       str("instance_type"),
		"subnet_id":           str("subnet_id"),
		"ssh_user":            str("ssh_user"),
		"ssh_cidr":            str("ssh_cidr"),
		"key_name":            str("key_name"),
		"associate_public_ip": boolean("associate_public_ip"),
		"use_private_ip":      boolean("use_private_ip"),
		"volume_type":         str("volume_type"),
		"device_naming":       str("device_naming"),
		"tags":                &hcldec.AttrSpec{Name: "tags", Type: cty.Map(cty.String)},
		"ports":               &hcldec.AttrSpec{Name: "ports", Type: cty.List(cty.String)},
		"groups":              &hcldec.AttrSpec{Name: "groups", Type: cty.Map(cty.Map(cty.String))},
	}
}

// groupKeys are the settings a `groups = { <group> = { ... } }` entry may
// override, with whether each is a bool.
func groupKeys() map[string]bool {
	return map[string]bool{
		"image": false, "instance_type": false, "subnet_id": false, "ssh_user": false,
		"volume_type": false, "associate_public_ip": true, "use_private_ip": true,
	}
}

// settings is the decoded provider block, defaults not yet applied.
type settings struct {
	Region, Endpoint, Profile string
	SSHCIDR, KeyName          string
	DeviceNaming              string
	Ports                     []string
	Groups                    map[string]map[string]string
	Host                      hostConfig
}

// hostConfig is what may differ between host groups.
type hostConfig struct {
	Image, InstanceType, SubnetID, SSHUser, VolumeType string
	AssociatePublicIP                                  *bool
	UsePrivateIP                                       bool
	Tags                                               map[string]string
}

func decodeSettings(v cty.Value) (settings, error) {
	var s settings
	if v.IsNull() {
		return s, nil
	}
	if !v.IsWhollyKnown() {
		return s, fmt.Errorf("provider %q settings must be known before apply", Name)
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		return s, fmt.Errorf("provider %q settings: want an object, got %s", Name, v.Type().FriendlyName())
	}
	get := func(name string) cty.Value { return cloud.Attr(v, name) }
	str := func(name string) string {
		a := get(name)
		if a.IsNull() || a.Type() != cty.String {
			return ""
		}
		return a.AsString()
	}
	s.Region, s.Endpoint, s.Profile = str("region"), str("endpoint"), str("profile")
	s.SSHCIDR, s.KeyName, s.DeviceNaming = str("ssh_cidr"), str("key_name"), str("device_naming")
	s.Host = hostConfig{
		Image: str("image"), InstanceType: str("instance_type"), SubnetID: str("subnet_id"),
		SSHUser: str("ssh_user"), VolumeType: str("volume_type"),
	}
	if a := get("associate_public_ip"); !a.IsNull() && a.Type() == cty.Bool {
		b := a.True()
		s.Host.AssociatePublicIP = &b
	}
	if a := get("use_private_ip"); !a.IsNull() && a.Type() == cty.Bool {
		s.Host.UsePrivateIP = a.True()
	}
	if a := get("tags"); !a.IsNull() && a.CanIterateElements() {
		s.Host.Tags = map[string]string{}
		for k, val := range a.AsValueMap() {
			if val.IsNull() || val.Type() != cty.String {
				return s, fmt.Errorf("tags[%q]: want a string", k)
			}
			s.Host.Tags[k] = val.AsString()
		}
	}
	if a := get("ports"); !a.IsNull() && a.CanIterateElements() {
		for i, p := range a.AsValueSlice() {
			if p.IsNull() || p.Type() != cty.String {
				return s, fmt.Errorf("ports[%d]: want a string such as \"6789/tcp ceph-mon\"", i)
			}
			s.Ports = append(s.Ports, p.AsString())
		}
	}
	if a := get("groups"); !a.IsNull() && a.CanIterateElements() {
		s.Groups = map[string]map[string]string{}
		for group, m := range a.AsValueMap() {
			s.Groups[group] = map[string]string{}
			if m.IsNull() || !m.CanIterateElements() {
				continue
			}
			for k, val := range m.AsValueMap() {
				if val.IsNull() || val.Type() != cty.String {
					return s, fmt.Errorf("groups.%s.%s: want a string", group, k)
				}
				s.Groups[group][k] = val.AsString()
			}
		}
	}
	return s, nil
}

// validate checks values that can be checked offline and fills in defaults
// for cluster-wide settings. warn receives what the operator should know.
// It refuses the first of problems, the rules validate and plan report.
func (s *settings) validate(warn func(string, ...any)) error {
	if ps := s.problems(); len(ps) > 0 {
		return ps[0]
	}
	if s.SSHCIDR == "" {
		s.SSHCIDR = DefaultSSHCIDR
		warn("aws: ssh_cidr not set: SSH (port 22) will be open to %s; set ssh_cidr = \"<your address>/32\" in provider \"aws\"", DefaultSSHCIDR)
	}
	if s.DeviceNaming == "" {
		s.DeviceNaming = "auto"
	}
	return nil
}

func (hc hostConfig) validate(where string, customEndpoint bool) error {
	if ps := hc.problems(nil, where, customEndpoint); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// withDefaults fills what the operator left out.
func (hc hostConfig) withDefaults() hostConfig {
	if hc.Image == "" {
		hc.Image = DefaultImage
	}
	if hc.InstanceType == "" {
		hc.InstanceType = DefaultInstanceType
	}
	if hc.VolumeType == "" {
		hc.VolumeType = DefaultVolumeType
	}
	return hc
}

// merge overlays the set fields of o on hc.
func (hc hostConfig) merge(o hostConfig) hostConfig {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&hc.Image, o.Image)
	set(&hc.InstanceType, o.InstanceType)
	set(&hc.SubnetID, o.SubnetID)
	set(&hc.SSHUser, o.SSHUser)
	set(&hc.VolumeType, o.VolumeType)
	if o.AssociatePublicIP != nil {
		hc.AssociatePublicIP = o.AssociatePublicIP
	}
	if o.UsePrivateIP {
		hc.UsePrivateIP = true
	}
	if len(o.Tags) > 0 {
		tags := map[string]string{}
		for k, v := range hc.Tags {
			tags[k] = v
		}
		for k, v := range o.Tags {
			tags[k] = v
		}
		hc.Tags = tags
	}
	return hc
}

// override applies one `groups` entry.
func (hc hostConfig) override(m map[string]string) (hostConfig, error) {
	for k, v := range m {
		switch k {
		case "image":
			hc.Image = v
		case "instance_type":
			hc.InstanceType = v
		case "subnet_id":
			hc.SubnetID = v
		case "ssh_user":
			hc.SSHUser = v
		case "volume_type":
			hc.VolumeType = v
		case "associate_public_ip", "use_private_ip":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return hc, fmt.Errorf("%s = %q: want true or false", k, v)
			}
			if k == "use_private_ip" {
				hc.UsePrivateIP = b
			} else {
				hc.AssociatePublicIP = &b
			}
		}
	}
	return hc, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
