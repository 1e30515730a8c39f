// Package static is the provider for machines that already exist: hosts are
// listed by address in the site file and reached over SSH, with
// ~/.ssh/config honoured as OpenSSH would (reach.go). Launch only looks
// them up; destroy releases nothing.
package static

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"diffuser/cloud"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Settings of `provider "static" { ... hosts "GROUP" { addresses = [...] } }`.
// A zero User, Port, KeyFile or Jump is unset: ~/.ssh/config may give it,
// else diffuser's default applies (root, 22, the workspace key, none).
type Settings struct {
	Addresses  []string          `cty:"addresses"`   // "host", "host:port", "user@host:port"; index i is GROUP[i]
	PrivateIPs []string          `cty:"private_ips"` // addresses hosts use between each other (default: the SSH address)
	User       string            `cty:"user"`
	Port       int               `cty:"port"`
	KeyFile    string            `cty:"key_file"` // default: the workspace's generated key
	Jump       string            `cty:"jump"`     // "user@host:port" of a bastion, or a comma list of them
	Sudo       bool              `cty:"sudo"`
	Volumes    map[string]string `cty:"volumes"` // volume name -> device path on every host of the group
	// PackageCache is the http URL of a package cache (apt-cacher-ng) the
	// hosts fetch through, or "off" (the default: a static machine gets no
	// proxy it was not given). See cloud.CheckPackageCache.
	PackageCache string `cty:"package_cache"`
	// SSHConfig is the ssh client config to read: nil = ~/.ssh/config and
	// /etc/ssh/ssh_config as ssh reads them; "", "none" or "false" = none.
	SSHConfig *string
}

// Factory builds static providers.
type Factory struct{}

var (
	_ cloud.Factory       = Factory{}
	_ cloud.ReachSettings = Factory{}
)

// Spec describes the settings.
func (Factory) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{
		"addresses":     &hcldec.AttrSpec{Name: "addresses", Type: cty.List(cty.String)},
		"private_ips":   &hcldec.AttrSpec{Name: "private_ips", Type: cty.List(cty.String)},
		"user":          &hcldec.AttrSpec{Name: "user", Type: cty.String},
		"port":          &hcldec.AttrSpec{Name: "port", Type: cty.Number},
		"key_file":      &hcldec.AttrSpec{Name: "key_file", Type: cty.String},
		"jump":          &hcldec.AttrSpec{Name: "jump", Type: cty.String},
		"sudo":          &hcldec.AttrSpec{Name: "sudo", Type: cty.Bool},
		"volumes":       &hcldec.AttrSpec{Name: "volumes", Type: cty.Map(cty.String)},
		"ssh_config":    &hcldec.AttrSpec{Name: "ssh_config", Type: cty.String},
		"package_cache": &hcldec.AttrSpec{Name: "package_cache", Type: cty.String},
	}
}

// ReachSettings: ssh_config, key_file and jump say how hosts are reached,
// not which hosts they are (the machine's pinned host key proves that), so
// changing one never replaces a host: a typo in key_file, or a new
// bastion, planned every machine's replacement, its volumes' data with
// it. Refresh finds the hosts they move (Status says Rerouted or Moved)
// and apply records the new way. addresses, user and port too: the host
// a changed one names is Readdressed, and refresh asks the machine
// answering there for its host key (the same machine behind a new port is
// not replaced; another one is). package_cache says only where packages
// come from.
func (Factory) ReachSettings() []string {
	return []string{"ssh_config", "package_cache", "key_file", "jump", "addresses", "user", "port"}
}

var _ cloud.FormerReachSettings = Factory{}

// FormerReachSettings: all but ssh_config and package_cache were in
// launch digests before.
func (Factory) FormerReachSettings() []string {
	return []string{"key_file", "jump", "addresses", "user", "port"}
}

// RecordedReach is what the records of a group's hosts say the key_file,
// jump, user, port and addresses of the one at index may have been
// written as when it was launched: key_file and jump as launchHost
// records them (jump as written only when every hop names its user and
// port: it is recorded resolved), user and port from its provider id
// (static:USER@HOST:PORT, which the site file alone gives; root and 22 may
// have been diffuser's defaults, unset), and addresses from every
// recorded host's id (formerAddresses).
func (Factory) RecordedReach(group []cloud.Host, index int, present cty.Value) map[string][]cty.Value {
	out := map[string][]cty.Value{"key_file": {cty.NullVal(cty.String)}, "jump": {cty.NullVal(cty.String)}}
	if index < 0 || index >= len(group) {
		return out
	}
	h := group[index]
	if k := h.Attrs["ssh_key_file"]; k != "" {
		out["key_file"] = []cty.Value{cty.StringVal(k)}
	}
	if j := h.Attrs["ssh_jump"]; j != "" {
		out["jump"] = []cty.Value{cty.StringVal(j)}
	}
	user, _, port, ok := splitID(h.ProviderID)
	if !ok {
		return out
	}
	out["user"], out["port"] = []cty.Value{cty.StringVal(user)}, []cty.Value{cty.NumberIntVal(int64(port))}
	if user == "root" {
		out["user"] = append(out["user"], cty.NullVal(cty.String))
	}
	if port == 22 {
		out["port"] = append(out["port"], cty.NullVal(cty.Number))
	}
	out["addresses"] = formerAddresses(group, present)
	return out
}

// maxFormerLists bounds the lists formerAddresses tries.
const maxFormerLists = 64

// formerAddresses are the lists addresses may have been when the group's
// recorded hosts were launched: as long as the hosts recorded (the group
// may have grown or shrunk since), element k the present one where it
// still names what recorded host k's provider id says, else each way the
// site file may have written that id (host, user@host, host:port,
// user@host:port); the present one where no host is recorded at k. Then
// the same lists with one, two... of the present elements that still
// name their machine written another of those ways (the site file may
// have rewritten "10.0.0.1" as "10.0.0.1:22" since): first those closest
// to what the site says now, at most maxFormerLists in all.
func formerAddresses(group []cloud.Host, present cty.Value) []cty.Value {
	s, err := Decode(present)
	if err != nil {
		return nil
	}
	choices := make([][]string, len(group))
	others := make([][]string, len(group)) // other writings of a present element
	for k, h := range group {
		user, host, port, ok := splitID(h.ProviderID)
		now := ""
		if k < len(s.Addresses) {
			now = s.Addresses[k]
		}
		if !ok && now == "" {
			return nil // not a static host, and nothing to go by
		}
		if !ok {
			choices[k] = []string{now}
			continue
		}
		hp := net.JoinHostPort(host, strconv.Itoa(port))
		ways := []string{host, user + "@" + host, hp, user + "@" + hp}
		if now != "" && names(now, s, user, host, port) {
			choices[k] = []string{now}
			others[k] = slices.DeleteFunc(ways, func(w string) bool { return w == now })
		} else {
			choices[k] = ways
		}
	}
	lists := [][]string{{}} // every choice per element, the first ones first
	for _, c := range choices {
		var next [][]string
		for _, l := range lists {
			for _, a := range c {
				if len(next) < maxFormerLists {
					next = append(next, append(slices.Clip(l), a))
				}
			}
		}
		lists = next
	}
	lists = rewritten(lists, choices, others)
	var out []cty.Value
	for _, l := range lists {
		if len(l) > 0 {
			out = append(out, strList(l))
		}
	}
	return out
}

// rewritten is lists followed by lists with one more present element
// (choices[k] of one) written as one of others[k], level by level, up to
// maxFormerLists in all.
func rewritten(lists, choices, others [][]string) [][]string {
	seen := map[string]bool{}
	for _, l := range lists {
		seen[strings.Join(l, "\x00")] = true
	}
	for level := lists; len(level) > 0 && len(lists) < maxFormerLists; {
		var next [][]string
		for _, l := range level {
			for k, alts := range others {
				if len(l) <= k || l[k] != choices[k][0] {
					continue
				}
				for _, a := range alts {
					m := slices.Clone(l)
					m[k] = a
					if key := strings.Join(m, "\x00"); !seen[key] && len(lists) < maxFormerLists {
						seen[key] = true
						next, lists = append(next, m), append(lists, m)
					}
				}
			}
		}
		level = next
	}
	return lists
}

func strList(vs []string) cty.Value {
	out := make([]cty.Value, len(vs))
	for i, v := range vs {
		out[i] = cty.StringVal(v)
	}
	return cty.ListVal(out)
}

// names says whether address a, under settings s, names the provider id
// static:user@host:port.
func names(a string, s Settings, user, host string, port int) bool {
	u, h, p, err := ParseAddress(a, firstOf(s.User, "root"), firstInt(s.Port, 22))
	return err == nil && u == user && h == host && p == port
}

// splitID reads a provider id static:USER@HOST:PORT (HOST may be an IPv6
// address, written without brackets).
func splitID(id string) (user, host string, port int, ok bool) {
	rest, ok := strings.CutPrefix(id, "static:")
	if !ok {
		return "", "", 0, false
	}
	user, rest, ok = strings.Cut(rest, "@")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i <= 0 {
		return "", "", 0, false
	}
	port, err := strconv.Atoi(rest[i+1:])
	if err != nil {
		return "", "", 0, false
	}
	return user, rest[:i], port, true
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

// Decode reads settings from their cty object; unset ones stay zero.
func Decode(v cty.Value) (Settings, error) {
	var s Settings
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
		"port": &s.Port, "key_file": &s.KeyFile, "jump": &s.Jump, "sudo": &s.Sudo, "volumes": &s.Volumes,
		"package_cache": &s.PackageCache}
	for _, name := range sortedNames(fields) {
		if err := get(name, fields[name]); err != nil {
			return s, cloud.Problem(cty.GetAttrPath(name), "Invalid static setting", "static provider setting %s: %v", name, err)
		}
	}
	var cfg string
	if err := get("ssh_config", &cfg); err != nil {
		return s, fmt.Errorf("static provider setting ssh_config: %w", err)
	}
	if v.Type().HasAttribute("ssh_config") && !v.GetAttr("ssh_config").IsNull() {
		s.SSHConfig = &cfg
	}
	return s, nil
}

// Machine is what tells the machine at address a apart from others: its
// host in lower case and its port (the address's, else s.Port, else 22;
// the ssh config may say otherwise at launch). Two addresses with one
// Machine are one machine, whatever users they log in as.
func (s Settings) Machine(a string) (string, error) {
	_, host, port, err := ParseAddress(a, s.User, cmp.Or(s.Port, 22))
	if err != nil {
		return "", err
	}
	return strings.ToLower(host) + ":" + strconv.Itoa(port), nil
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

// Launch finds the listed machine for spec and resolves how to reach it
// (reach.go).
func (Provider) Launch(_ context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	return launchHost(spec)
}

func launchHost(spec cloud.HostSpec) (cloud.Host, error) {
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
	cfg, err := loadSSHConfig(s.SSHConfig)
	if err != nil {
		return cloud.Host{}, err
	}
	r, err := resolve(cfg, s, s.Addresses[spec.Index])
	if err != nil {
		return cloud.Host{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	priv := r.Address
	if spec.Index < len(s.PrivateIPs) {
		priv = s.PrivateIPs[spec.Index]
	}
	h := cloud.Host{ProviderID: r.ID, PrivateIP: priv, PublicIP: r.Address, SSHAddress: r.Address, SSHPort: r.Port, SSHUser: r.User,
		SSHIdentityFiles: r.IdentityFiles, SSHJump: r.Hops, Volumes: map[string]cloud.Volume{}, Attrs: map[string]string{}}
	for _, v := range spec.Volumes {
		dev, ok := s.Volumes[v.Name]
		if !ok {
			return cloud.Host{}, fmt.Errorf("group %q declares volume %q: name its device in the site file, `volumes = { %s = \"/dev/sdb\" }`", spec.Group, v.Name, v.Name)
		}
		h.Volumes[v.Name] = cloud.Volume{Device: dev, SizeGB: v.SizeGB}
	}
	if s.KeyFile != "" {
		if err := checkPath(s.KeyFile); err != nil {
			return cloud.Host{}, fmt.Errorf("static provider setting key_file: %w", err)
		}
		h.Attrs["ssh_key_file"] = s.KeyFile
	}
	if r.Jump != "" {
		h.Attrs["ssh_jump"] = r.Jump
	}
	if r.Alias != r.Address {
		h.Attrs["ssh_host"] = r.Alias // what ssh matches Host blocks on
	}
	if cfg.Setting != "" {
		h.Attrs["ssh_config"] = cfg.Setting
	}
	h.Attrs[attrNamed] = r.ID
	if s.Sudo {
		h.Attrs["sudo"] = "true"
	}
	if s.PackageCache != "" && s.PackageCache != cloud.PackageCacheOff {
		h.Attrs[cloud.AttrAptProxy] = s.PackageCache
	}
	return h, nil
}

// Status says Running (a static host is never launched or stopped by
// diffuser), or, when the host would now be reached another way than
// recorded: Readdressed when the site file names it at another address,
// port or user (its provider id changes: only its host key can say
// whether the same machine answers there), else (~/.ssh/config,
// ssh_config, key_file or jump changed) Moved if its addresses change
// with it and Rerouted if they do not. A host rerouted or moved after it
// was readdressed keeps its recorded provider id: it is Running once its
// record says how the site file reaches it now.
func (Provider) Status(_ context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Status, error) {
	if spec.Settings == cty.NilVal {
		return cloud.Running, nil
	}
	want, err := launchHost(spec)
	if err != nil {
		return "", err
	}
	if len(h.SSHJump) == 0 && h.Attrs["ssh_jump"] != "" {
		// Recorded before jump chains were: the one hop the connector
		// parses from the attribute.
		if u, j, p, err := ParseAddress(h.Attrs["ssh_jump"], h.SSHUser, 22); err == nil {
			h.SSHJump = []cloud.Hop{{Address: j, Port: p, User: u}}
		}
	}
	named := h.ProviderID
	if n := h.Attrs[attrNamed]; n != "" {
		named = n // the same machine, named otherwise since it was first recorded
	}
	switch {
	case sameReach(want, h):
	case want.ProviderID != named:
		return cloud.Readdressed, nil
	case want.PrivateIP == h.PrivateIP && want.PublicIP == h.PublicIP:
		return cloud.Rerouted, nil
	default:
		return cloud.Moved, nil
	}
	return cloud.Running, nil
}

var _ cloud.Reacher = Provider{}

// Reach is the host as Launch reports it for spec now: how the site file
// and the ssh config say to reach it. Nothing on the machine changes.
func (Provider) Reach(_ context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	if spec.Settings == cty.NilVal {
		return h, nil
	}
	return launchHost(spec)
}

// attrNamed records the host as the site file named it at its last
// launch (static:USER@HOST:PORT): its provider id stays the one it was
// first recorded with when the same machine is named otherwise since, and
// naming it at another address, port or user again, the first one
// included, asks the machine answering there who it is (Readdressed).
// Hosts recorded before it are named as their provider id says.
const attrNamed = "site_named"

// sameReach says whether a and b are reached the same way at the same
// addresses (how the site file named them aside: attrNamed).
func sameReach(a, b cloud.Host) bool {
	return a.SSHAddress == b.SSHAddress && a.SSHPort == b.SSHPort && a.SSHUser == b.SSHUser &&
		a.PrivateIP == b.PrivateIP && a.PublicIP == b.PublicIP &&
		slices.Equal(a.SSHIdentityFiles, b.SSHIdentityFiles) &&
		slices.EqualFunc(a.SSHJump, b.SSHJump, func(x, y cloud.Hop) bool {
			return x.Address == y.Address && x.Port == y.Port && x.User == y.User && slices.Equal(x.IdentityFiles, y.IdentityFiles)
		}) &&
		maps.Equal(withoutNamed(a.Attrs), withoutNamed(b.Attrs))
}

// withoutNamed is attrs without attrNamed.
func withoutNamed(attrs map[string]string) map[string]string {
	out := maps.Clone(attrs)
	delete(out, attrNamed)
	return out
}

// Start returns the host as it is.
func (Provider) Start(_ context.Context, _ cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	return h, nil
}

var _ cloud.MachineKeeper = Provider{}

// KeepsMachines is true: Destroy leaves the machine as it is.
func (Provider) KeepsMachines() bool { return true }

// Destroy releases nothing: the machine is not diffuser's.
func (Provider) Destroy(context.Context, cloud.HostSpec, cloud.Host) error { return nil }

// Cleanup has nothing to clean.
func (Provider) Cleanup(context.Context, string) error { return nil }

var _ cloud.Importer = Provider{}

// Import records a machine the site file lists. Static hosts come from the
// site file, so there is nothing to find: id must name the machine the
// site lists for spec (its address, user@address, address:port,
// user@address:port, or the provider id static:user@address:port), and the
// host is what Launch reports for it. Nothing on the machine changes, and
// destroy will release nothing, as for every static host.
func (p Provider) Import(ctx context.Context, spec cloud.HostSpec, id string) (cloud.Host, error) {
	h, err := p.Launch(ctx, spec)
	if err != nil {
		return h, err
	}
	// A provider id is read as splitID reads it (an IPv6 host is written
	// there without brackets); anything else as the site file's addresses.
	user, host, port, ok := splitID(id)
	if !ok {
		user, host, port, err = ParseAddress(strings.TrimPrefix(id, "static:"), h.SSHUser, h.SSHPort)
	}
	if err != nil || user != h.SSHUser || host != h.SSHAddress || port != h.SSHPort {
		return cloud.Host{}, fmt.Errorf("the site file lists %s@%s:%d for %s, not %q: static hosts come from the site file (provider \"static\" { hosts %q { addresses = [...] } }); list the machine there and import it by that address",
			h.SSHUser, h.SSHAddress, h.SSHPort, spec.Name, id, spec.Group)
	}
	return h, nil
}
