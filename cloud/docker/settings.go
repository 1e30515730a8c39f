package docker

import (
	"cmp"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"

	"diffuser/cloud"
	"diffuser/state"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Build methods for the node image.
const (
	BuildAuto        = "auto"        // dockerfile if BaseImage is present locally, else debootstrap
	BuildDebootstrap = "debootstrap" // debootstrap from Mirror, then import
	BuildDockerfile  = "dockerfile"  // FROM BaseImage (pulled if missing)
)

// Settings is the decoded `provider "docker" { ... }` block. Every field has
// a default (see DecodeSettings); the zero value is not meant to be used
// directly.
type Settings struct {
	// Image, when set, is used as the node image as is: nothing is built.
	Image string
	// Build selects how the node image is made: auto, debootstrap, dockerfile.
	Build string
	// BaseImage is the FROM of the Dockerfile build (default debian:<suite>).
	BaseImage string
	// Mirror is the Debian mirror debootstrap and the image's apt use.
	Mirror string
	// SecurityMirror is the Debian security mirror written to the image's
	// apt sources; "none" leaves it out.
	SecurityMirror string
	// Suite is the Debian release, e.g. bookworm.
	Suite string
	// ExtraHosts are "name:ip" lines added to every container's /etc/hosts
	// (and to Dockerfile builds).
	ExtraHosts []string
	// NetworkCIDR is the subnet of the cluster network; "" lets Docker pick.
	NetworkCIDR string
	// Memory limits each container, e.g. "2g"; 0 means no limit.
	Memory int64
	// CPUs limits each container (fractions allowed); 0 means no limit.
	CPUs float64
	// VolumeDir holds the sparse files behind volumes (default WorkDir/volumes).
	VolumeDir string
	// PackageCache is where hosts fetch packages through (cloud's
	// package_cache): "controller" (the default: apt-cacher-ng on this
	// machine, reached at the cluster network's gateway), "off", or a URL.
	PackageCache string
	// Networks are existing Docker networks every container also joins
	// (shared.go): hosts of other providers on them reach the cluster.
	Networks []string
	// Packages are Debian packages installed into an image derived from
	// the node image (bake.go), which hosts then run; none: the node image.
	Packages []string
}

// Spec describes the `provider "docker"` block. Nothing is required.
func (Factory) Spec() hcldec.ObjectSpec {
	str := func(name string) hcldec.Spec { return &hcldec.AttrSpec{Name: name, Type: cty.String} }
	return hcldec.ObjectSpec{
		"image":           str("image"),
		"build":           str("build"),
		"base_image":      str("base_image"),
		"mirror":          str("mirror"),
		"security_mirror": str("security_mirror"),
		"suite":           str("suite"),
		"extra_hosts":     &hcldec.AttrSpec{Name: "extra_hosts", Type: cty.List(cty.String)},
		"network_cidr":    str("network_cidr"),
		"memory":          str("memory"),
		"cpus":            &hcldec.AttrSpec{Name: "cpus", Type: cty.Number},
		"volume_dir":      str("volume_dir"),
		"package_cache":   str("package_cache"),
		"networks":        &hcldec.AttrSpec{Name: "networks", Type: cty.List(cty.String)},
		"packages":        &hcldec.AttrSpec{Name: "packages", Type: cty.List(cty.String)},
	}
}

// DecodeSettings turns the provider block's value into Settings and fills in
// defaults: apt mirror and suite come from apt (the machine's own sources,
// see HostApt), volume_dir from workDir. v may be null or cty.NilVal (all
// defaults); attributes missing from v's type are treated as unset.
func DecodeSettings(v cty.Value, apt HostApt, workDir string) (Settings, error) {
	s, ps, err := decodeFields(v)
	if err != nil {
		return s, err
	}
	if len(ps) > 0 {
		return s, ps[0]
	}
	s.applyDefaults(apt, workDir)
	return s, s.validate()
}

// decodeFields reads the set attributes of v, defaults not applied. A
// value it cannot read is a problem at its setting, left unset, and the
// rest are read all the same, so that CheckSettings reports every mistake
// at once; err is for settings it cannot read at all.
func decodeFields(v cty.Value) (s Settings, ps []cloud.SettingsProblem, err error) {
	problem := func(name, format string, args ...any) {
		ps = append(ps, cloud.Problem(cty.GetAttrPath(name), "Invalid docker setting", format, args...))
	}
	if v != cty.NilVal && !v.IsNull() {
		if !v.IsWhollyKnown() {
			return s, nil, fmt.Errorf("docker provider settings are not known yet")
		}
		if !v.Type().IsObjectType() && !v.Type().IsMapType() {
			return s, nil, fmt.Errorf("docker provider settings: want an object, got %s", v.Type().FriendlyName())
		}
		get := func(name string) cty.Value { return cloud.Attr(v, name) }
		strs := map[string]*string{
			"image": &s.Image, "build": &s.Build, "base_image": &s.BaseImage, "mirror": &s.Mirror,
			"security_mirror": &s.SecurityMirror, "suite": &s.Suite, "network_cidr": &s.NetworkCIDR,
			"volume_dir": &s.VolumeDir, "package_cache": &s.PackageCache,
		}
		for name, dst := range strs {
			a := get(name)
			if a.IsNull() {
				continue
			}
			if a.Type() != cty.String {
				problem(name, "docker provider setting %s: want a string, got %s", name, a.Type().FriendlyName())
				continue
			}
			*dst = strings.TrimSpace(a.AsString())
		}
		if a := get("memory"); !a.IsNull() {
			s.Memory = decodeMemory(a, problem)
		}
		if a := get("cpus"); !a.IsNull() {
			s.CPUs = decodeCPUs(a, problem)
		}
		if a := get("extra_hosts"); !a.IsNull() {
			s.ExtraHosts = decodeStrings(a, "extra_hosts", `a list of "name:ip" strings`, problem)
			for i, h := range s.ExtraHosts {
				s.ExtraHosts[i] = strings.TrimSpace(h)
			}
		}
		if a := get("packages"); !a.IsNull() {
			if s.Packages = decodeStrings(a, "packages", "a list of Debian package names", problem); s.Packages == nil {
				s.Packages = []string{}
			}
		}
		nets, err := decodeNetworks(get("networks"))
		if p, ok := err.(cloud.SettingsProblem); ok {
			ps = append(ps, p)
		} else if err != nil {
			return s, ps, err
		}
		s.Networks = nets
	}
	return s, ps, nil
}

// decodeMemory reads memory ("2g", or a number of bytes); 0 (no limit)
// when unset or refused.
func decodeMemory(a cty.Value, problem func(name, format string, args ...any)) int64 {
	var mem string
	switch a.Type() {
	case cty.String:
		mem = strings.TrimSpace(a.AsString())
	case cty.Number:
		mem = a.AsBigFloat().Text('f', 0)
	default:
		problem("memory", "docker provider setting memory: want a string like \"2g\", got %s", a.Type().FriendlyName())
		return 0
	}
	if mem == "" || mem == "0" {
		return 0
	}
	n, err := units.RAMInBytes(mem)
	if err != nil || n <= 0 {
		problem("memory", "docker provider setting memory = %q: want a size like \"512m\" or \"2g\"", mem)
		return 0
	}
	if n < minMemory {
		problem("memory", "docker provider setting memory = %q is %s: Docker refuses a limit below 6MB (a bare number is bytes); want a size like \"512m\" or \"2g\"",
			mem, units.BytesSize(float64(n)))
		return 0
	}
	return n
}

// minMemory is the smallest memory limit Docker takes ("Minimum memory
// limit allowed is 6MB", refused at container create).
const minMemory = 6 << 20

// decodeCPUs reads cpus; 0 (no limit) when refused.
func decodeCPUs(a cty.Value, problem func(name, format string, args ...any)) float64 {
	if a.Type() != cty.Number {
		problem("cpus", "docker provider setting cpus: want a number, got %s", a.Type().FriendlyName())
		return 0
	}
	f, _ := a.AsBigFloat().Float64()
	if f < 0 {
		problem("cpus", "docker provider setting cpus = %v: must not be negative", f)
		return 0
	}
	// Docker takes at least a hundredth of a CPU; beyond maxCPUs (1e400
	// is +Inf) the engine's nano-CPU count overflows.
	if f > maxCPUs || f > 0 && f < 0.01 {
		problem("cpus", "docker provider setting cpus = %s: want a number of CPUs from 0.01 to %d, or 0 for no limit",
			a.AsBigFloat().Text('g', 6), maxCPUs)
		return 0
	}
	return f
}

// decodeStrings reads a list of strings; nil, and a problem saying it
// wants what, when a is not one.
func decodeStrings(a cty.Value, name, what string, problem func(name, format string, args ...any)) []string {
	bad := func() []string {
		problem(name, "docker provider setting %s: want %s", name, what)
		return nil
	}
	if !a.CanIterateElements() {
		return bad()
	}
	var out []string
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return bad()
		}
		out = append(out, e.AsString())
	}
	return out
}

// applyDefaults fills every unset field.
func (s *Settings) applyDefaults(apt HostApt, workDir string) {
	if s.Build == "" {
		s.Build = BuildAuto
	}
	s.Suite = cmp.Or(s.Suite, apt.Suite, defaultSuite)
	s.Mirror = cmp.Or(s.Mirror, apt.Mirror, defaultMirror)
	s.SecurityMirror = cmp.Or(s.SecurityMirror, apt.SecurityMirror, defaultSecurityMirror)
	if s.BaseImage == "" {
		s.BaseImage = "debian:" + s.Suite
	}
	s.PackageCache = cmp.Or(s.PackageCache, cloud.PackageCacheController)
	if s.VolumeDir == "" && workDir != "" {
		s.VolumeDir = filepath.Join(workDir, "volumes")
	}
	s.Mirror = strings.TrimRight(s.Mirror, "/")
	s.SecurityMirror = strings.TrimRight(s.SecurityMirror, "/")
}

func (s *Settings) validate() error {
	if ps := s.problems(); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// problems are every mistake in the settings (defaults applied), each
// naming its setting: New refuses the first, validate and plan report
// them all (CheckSettings).
func (s *Settings) problems() []cloud.SettingsProblem {
	var out []cloud.SettingsProblem
	add := func(path cty.Path, format string, args ...any) {
		out = append(out, cloud.Problem(path, "Invalid docker setting", format, args...))
	}
	attr := cty.GetAttrPath
	switch s.Build {
	case BuildAuto, BuildDebootstrap, BuildDockerfile:
	default:
		add(attr("build"), "docker provider setting build = %q: want auto, debootstrap or dockerfile", s.Build)
	}
	// Mirrors and the suite are written into the image's apt sources and
	// given to debootstrap, image names into a Dockerfile's FROM line:
	// nothing that could end a line or read as an option passes.
	if !isMirrorURL(s.Mirror) {
		add(attr("mirror"), "docker provider setting mirror = %q: want an http(s) URL such as \"http://deb.debian.org/debian\"", s.Mirror)
	}
	if s.SecurityMirror != "none" && !isMirrorURL(s.SecurityMirror) {
		add(attr("security_mirror"), "docker provider setting security_mirror = %q: want an http(s) URL or \"none\"", s.SecurityMirror)
	}
	if !isSuite(s.Suite) {
		add(attr("suite"), "docker provider setting suite = %q: want a Debian release name like bookworm (lower case letters, digits, '.' and '-')", s.Suite)
	}
	for _, im := range []struct{ name, ref string }{{"image", s.Image}, {"base_image", s.BaseImage}} {
		if im.ref == "" || im.name == "base_image" && im.ref == "debian:"+s.Suite {
			continue // the default base image: a bad suite is reported once, above
		}
		if _, err := reference.ParseNormalizedNamed(im.ref); err != nil {
			add(attr(im.name), "docker provider setting %s = %q: %v; want an image reference such as \"debian:bookworm\" or \"registry.example.org/node:1\"", im.name, im.ref, err)
		}
	}
	for i, h := range s.ExtraHosts {
		path := attr("extra_hosts").Index(cty.NumberIntVal(int64(i)))
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" {
			add(path, "docker provider setting extra_hosts: %q is not \"name:ip\"", h)
			continue
		}
		if !isHostName(name) {
			add(path, "docker provider setting extra_hosts: %q: %q is not a host name (letters, digits, '.', '-' and '_', not starting with '-' or '.')", h, name)
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			add(path, "docker provider setting extra_hosts: %q: %q is not an IP address", h, ip)
		} else if err := state.CheckAddress(ip); err != nil {
			// netip takes any text after an IPv6 address's %.
			add(path, "docker provider setting extra_hosts: %q: %v", h, err)
		}
	}
	if s.NetworkCIDR != "" {
		p, err := netip.ParsePrefix(s.NetworkCIDR)
		switch {
		case err != nil:
			add(attr("network_cidr"), "docker provider setting network_cidr = %q: %v", s.NetworkCIDR, err)
		case p.Masked() != p:
			add(attr("network_cidr"), "docker provider setting network_cidr = %q: host bits set, did you mean %s?", s.NetworkCIDR, p.Masked())
		case !p.Addr().Is4() || p.Bits() > 29:
			// Hosts are pinned to the lower half (see address.go).
			add(attr("network_cidr"), "docker provider setting network_cidr = %q: want an IPv4 subnet of /29 or larger (hosts get fixed addresses from its lower half)", s.NetworkCIDR)
		}
	}
	if err := cloud.CheckPackageCache(s.PackageCache, true); err != nil {
		add(attr("package_cache"), "docker provider setting %v", err)
	}
	if s.VolumeDir != "" && !filepath.IsAbs(s.VolumeDir) {
		add(attr("volume_dir"), "docker provider setting volume_dir = %q: want an absolute path", s.VolumeDir)
	}
	for i, n := range s.Packages {
		if err := checkPackageName(n); err != nil {
			add(attr("packages").Index(cty.NumberIntVal(int64(i))), "docker provider setting packages: %v", err)
		}
	}
	out = append(out, networkProblems(s.Networks)...)
	return out
}

// maxCPUs bounds cpus: more than any machine Docker runs on.
const maxCPUs = 4096

// isMirrorURL reports whether u is an http(s) URL with a host and no
// space or control character.
func isMirrorURL(u string) bool {
	if strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// isSuite reports whether s is a Debian release name: lower case
// letters, digits, '.' and '-', starting with a letter or digit.
func isSuite(s string) bool {
	ok := s != "" && len(s) <= 64 && s[0] != '-' && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-'
	}
	return ok
}

// isHostName reports whether s can be a name in /etc/hosts: letters,
// digits, '.', '-' and '_', not starting with '-' or '.', at most 253.
func isHostName(s string) bool {
	ok := s != "" && len(s) <= 253 && s[0] != '-' && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
	}
	return ok
}

var (
	_ cloud.SettingsChecker = Factory{}
	_ cloud.ReachSettings   = Factory{}
)

// ReachSettings: package_cache says only where hosts fetch packages
// through; changing it re-launches (adopts) the containers to record the
// new cache, it never replaces them.
func (Factory) ReachSettings() []string { return []string{"package_cache"} }

// CheckSettings decodes the settings with defaults as New would (without
// reading the machine's apt sources, which only fill in what is unset) and
// reports every mistake, each at its setting.
func (Factory) CheckSettings(v cty.Value, _ string, _ cloud.GroupNeed) []cloud.SettingsProblem {
	s, ps, err := decodeFields(v)
	if err != nil {
		return []cloud.SettingsProblem{cloud.Problem(nil, "Invalid docker setting", "%v", err)}
	}
	s.applyDefaults(HostApt{}, "")
	return append(ps, s.problems()...)
}
