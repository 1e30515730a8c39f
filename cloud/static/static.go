// Package static is the provider for machines that already exist: hosts are
// listed by address in the site file and reached over SSH. Launch only looks
// them up; destroy releases nothing.
package static

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"diffuser/cloud"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Settings of `provider "static" { ... hosts "GROUP" { addresses = [...] } }`.
type Settings struct {
	Addresses  []string          `cty:"addresses"`   // "host", "host:port", "user@host:port"; index i is GROUP[i]
	PrivateIPs []string          `cty:"private_ips"` // addresses hosts use between each other (default: the SSH address)
	User       string            `cty:"user"`
	Port       int               `cty:"port"`
	KeyFile    string            `cty:"key_file"` // default: the workspace's generated key
	Jump       string            `cty:"jump"`     // "user@host:port" of a bastion
	Sudo       bool              `cty:"sudo"`
	Volumes    map[string]string `cty:"volumes"` // volume name -> device path on every host of the group
}

// Factory builds static providers.
type Factory struct{}

var _ cloud.Factory = Factory{}

// Spec describes the settings.
func (Factory) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"addresses":   &hcldec.AttrSpec{Name: "addresses", Type: cty.List(cty.String)},
		"private_ips": &hcldec.AttrSpec{Name: "private_ips", Type: cty.List(cty.String)},
		"user":        &hcldec.AttrSpec{Name: "user", Type: cty.String},
		"port":        &hcldec.AttrSpec{Name: "port", Type: cty.Number},
		"key_file":    &hcldec.AttrSpec{Name: "key_file", Type: cty.String},
		"jump":        &hcldec.AttrSpec{Name: "jump", Type: cty.String},
		"sudo":        &hcldec.AttrSpec{Name: "sudo", Type: cty.Bool},
		"volumes":     &hcldec.AttrSpec{Name: "volumes", Type: cty.Map(cty.String)},
	}
}

// New returns the provider.
func (Factory) New(_ context.Context, _ cty.Value, _ cloud.Env) (cloud.Provider, error) {
	return Provider{}, nil
}

// Provider hands out listed machines.
type Provider struct{}

var _ cloud.Provider = Provider{}

// Name is "static".
func (Provider) Name() string { return "static" }

// Decode reads settings from their cty object, applying defaults.
func Decode(v cty.Value) (Settings, error) {
	s := Settings{User: "root", Port: 22}
	if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() {
		return s, nil
	}
	get := func(name string, dst any) error {
		if !v.Type().HasAttribute(name) {
			return nil
		}
		a := v.GetAttr(name)
		if a.IsNull() {
			return nil
		}
		return gocty.FromCtyValue(a, dst)
	}
	fields := map[string]any{"addresses": &s.Addresses, "private_ips": &s.PrivateIPs, "user": &s.User,
		"port": &s.Port, "key_file": &s.KeyFile, "jump": &s.Jump, "sudo": &s.Sudo, "volumes": &s.Volumes}
	for _, name := range sortedNames(fields) {
		if err := get(name, fields[name]); err != nil {
			return s, cloud.Problem(cty.GetAttrPath(name), "Invalid static setting", "static provider setting %s: %v", name, err)
		}
	}
	return s, nil
}

// ParseAddress splits "user@host:port" with defaults.
func ParseAddress(a, defUser string, defPort int) (user, host string, port int, err error) {
	user, host, port = defUser, a, defPort
	if u, h, ok := strings.Cut(a, "@"); ok {
		user, host = u, h
	}
	if h, p, e := net.SplitHostPort(host); e == nil {
		host = h
		port, err = strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			return "", "", 0, fmt.Errorf("bad port in %q", a)
		}
	}
	if host == "" {
		return "", "", 0, fmt.Errorf("no host in %q", a)
	}
	return user, host, port, nil
}

// Launch finds the listed machine for spec.
func (Provider) Launch(_ context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	s, err := Decode(spec.Settings)
	if err != nil {
		return cloud.Host{}, err
	}
	// The rules validate and plan applied, for this host: they cannot disagree.
	need := cloud.GroupNeed{Count: spec.Index + 1}
	for _, v := range spec.Volumes {
		need.Volumes = append(need.Volumes, v.Name)
	}
	if ps := s.problems(spec.Group, need); len(ps) > 0 {
		return cloud.Host{}, ps[0]
	}
	user, host, port, err := ParseAddress(s.Addresses[spec.Index], s.User, s.Port)
	if err != nil {
		return cloud.Host{}, err
	}
	priv := host
	if spec.Index < len(s.PrivateIPs) {
		priv = s.PrivateIPs[spec.Index]
	}
	h := cloud.Host{ProviderID: fmt.Sprintf("static:%s@%s:%d", user, host, port), PrivateIP: priv, PublicIP: host,
		SSHAddress: host, SSHPort: port, SSHUser: user, Volumes: map[string]cloud.Volume{}, Attrs: map[string]string{}}
	for _, v := range spec.Volumes {
		dev, ok := s.Volumes[v.Name]
		if !ok {
			return cloud.Host{}, fmt.Errorf("group %q declares volume %q: name its device in the site file, `volumes = { %s = \"/dev/sdb\" }`", spec.Group, v.Name, v.Name)
		}
		h.Volumes[v.Name] = cloud.Volume{Device: dev, SizeGB: v.SizeGB}
	}
	if s.KeyFile != "" {
		h.Attrs["ssh_key_file"] = s.KeyFile
	}
	if s.Jump != "" {
		h.Attrs["ssh_jump"] = s.Jump
	}
	if s.Sudo {
		h.Attrs["sudo"] = "true"
	}
	return h, nil
}

// Status says Running: a static host is never launched or stopped by diffuser.
func (Provider) Status(context.Context, cloud.HostSpec, cloud.Host) (cloud.Status, error) {
	return cloud.Running, nil
}

// Start returns the host as it is.
func (Provider) Start(_ context.Context, _ cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	return h, nil
}

// Destroy releases nothing: the machine is not diffuser's.
func (Provider) Destroy(context.Context, cloud.HostSpec, cloud.Host) error { return nil }

// Cleanup has nothing to clean.
func (Provider) Cleanup(context.Context, string) error { return nil }
