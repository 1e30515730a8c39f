package static

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"diffuser/cloud"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

var _ cloud.SettingsChecker = Factory{}

// CheckSettings checks a group's settings offline: every address, the
// port, the user, the jump host and the volume devices are well formed,
// the group lists as many addresses as the recipe asks for hosts, and
// every volume the recipe declares for the group names its device.
func (Factory) CheckSettings(v cty.Value, group string, need cloud.GroupNeed) []cloud.SettingsProblem {
	s, err := Decode(v)
	if err != nil {
		if p, ok := err.(cloud.SettingsProblem); ok {
			return []cloud.SettingsProblem{p}
		}
		return []cloud.SettingsProblem{cloud.Problem(nil, "Invalid static setting", "%v", err)}
	}
	out := s.problems(group, need)
	// Decode leaves a setting the site does not give at its zero value (the
	// ssh config or the default fills it at launch); given as zero, it is
	// a mistake.
	if s.Port == 0 && isSet(v, "port") {
		out = append(out, cloud.Problem(cty.GetAttrPath("port"), "Invalid port", "port = 0: an SSH port is between 1 and 65535 (22 by default)."))
	}
	if s.User == "" && isSet(v, "user") {
		out = append(out, cloud.Problem(cty.GetAttrPath("user"), "Invalid user", "user = \"\" is not a login name: use letters, digits, \".\", \"_\" and \"-\" (default root)."))
	}
	if p := keyFileProblem(s.KeyFile); p != nil {
		out = append(out, *p)
	}
	return out
}

// keyFileProblem is the mistake in a key_file setting that can be seen on
// this machine before anything is dialled: a path that names no file (a
// typo there reached the hosts only at apply, as "permission denied" on
// every one), a warning since validate may run where the key is not, or
// the public half of a key pair, an error. Checked by validate and plan
// only: launch records the path, and the connection reads the key.
func keyFileProblem(key string) *cloud.SettingsProblem {
	if key == "" {
		return nil
	}
	path := key
	if rest, ok := strings.CutPrefix(key, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil // the connection says why it cannot expand it
		}
		path = filepath.Join(home, rest)
	}
	if strings.HasSuffix(path, ".pub") {
		p := cloud.Problem(cty.GetAttrPath("key_file"), "Public key as key_file",
			"key_file = %q is the public half of a key pair: name the private key (%s), whose .pub your machines list in authorized_keys.", key, strings.TrimSuffix(key, ".pub"))
		return &p
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		p := cloud.Problem(cty.GetAttrPath("key_file"), "Key file not found",
			"key_file = %q: there is no file %s on this machine, so apply could not log in with it. Fix the path (the private key your machines accept, as for ssh -i), "+
				"or leave key_file out to use the workspace key (<data-dir>/<workspace>/id_ed25519) and the ssh config's IdentityFile keys.", key, path)
		p.Warning = true // the machine that applies may have it
		return &p
	}
	return nil
}

// isSet says whether the settings object v gives attribute name.
func isSet(v cty.Value, name string) bool {
	return v != cty.NilVal && !v.IsNull() && v.Type().IsObjectType() && v.Type().HasAttribute(name) && !v.GetAttr(name).IsNull()
}

// userRE is what a login name may look like (POSIX portable names, plus
// the trailing $ of machine accounts); nothing a shell would interpret.
var userRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// problems are the settings' mistakes for a group that needs need.
// Launch refuses a host with the first of them, validate and plan report
// them all.
func (s Settings) problems(group string, need cloud.GroupNeed) []cloud.SettingsProblem {
	var out []cloud.SettingsProblem
	add := func(path cty.Path, summary, format string, args ...any) {
		out = append(out, cloud.Problem(path, summary, format, args...))
	}
	if s.Port < 0 || s.Port > 65535 {
		add(cty.GetAttrPath("port"), "Invalid port", "port = %d: an SSH port is between 1 and 65535 (22 by default).", s.Port)
	}
	if s.PackageCache != "" {
		if err := cloud.CheckPackageCache(s.PackageCache, false); err != nil {
			add(cty.GetAttrPath("package_cache"), "Invalid package cache", "static provider setting %v", err)
		}
	}
	if s.User != "" && !userRE.MatchString(s.User) {
		add(cty.GetAttrPath("user"), "Invalid user", "user = %q is not a login name: use letters, digits, \".\", \"_\" and \"-\" (default root).", s.User)
	}
	seen := map[string]int{}
	for i, a := range s.Addresses {
		path := cty.GetAttrPath("addresses").Index(cty.NumberIntVal(int64(i)))
		user, host, _, err := ParseAddress(a, s.User, 22)
		explicitUser := strings.Contains(a, "@")
		if err != nil || (explicitUser && !userRE.MatchString(user)) || state.CheckAddress(host) != nil {
			add(path, "Invalid address", "%q is not an address: write host, host:port or user@host:port (an IPv6 address with a port as [addr]:port).", a)
			continue
		}
		key, _ := s.Machine(a) // parsed above
		if j, dup := seen[key]; dup {
			add(path, "Duplicate address", "%s[%d] and %s[%d] are the same machine (%s): every host of a group needs its own machine.", group, j, group, i, a)
			continue
		}
		seen[key] = i
	}
	if need.Count > len(s.Addresses) {
		var path cty.Path
		if s.Addresses != nil {
			path = cty.GetAttrPath("addresses")
		}
		at := ""
		if need.CountAt != "" {
			at = " (" + need.CountAt + ")"
		}
		add(path, "Too few hosts in the site file",
			"Host group %q needs %d host(s)%s but the static provider lists %d address(es) for it: list %d more in `hosts %q { addresses = [...] }`, or lower the recipe's count.",
			group, need.Count, at, len(s.Addresses), need.Count-len(s.Addresses), group)
	}
	for i, ip := range s.PrivateIPs {
		if err := state.CheckAddress(ip); err != nil {
			add(cty.GetAttrPath("private_ips").Index(cty.NumberIntVal(int64(i))), "Invalid private address",
				"%v: private_ips lists the address each host is reached at by the others, an IP address (fe80::1%%eth0 with an interface as zone) or a host name.", err)
		}
	}
	if s.Jump != "" {
		if err := checkJump(s.Jump, s.User); err != nil {
			add(cty.GetAttrPath("jump"), "Invalid jump host", "jump = %q: write the bastion as host, host:port or user@host:port.", s.Jump)
		}
	}
	for _, name := range sortedNames(s.Volumes) {
		dev := s.Volumes[name]
		if state.CheckDevice(dev) != nil {
			add(cty.GetAttrPath("volumes").Index(cty.StringVal(name)), "Invalid device",
				"volumes.%s = %q is not a device path: name the block device, e.g. \"/dev/sdb\" or \"/dev/disk/by-id/...\".", name, dev)
		}
	}
	for _, name := range need.Volumes {
		if _, ok := s.Volumes[name]; ok {
			continue
		}
		var path cty.Path
		if s.Volumes != nil {
			path = cty.GetAttrPath("volumes")
		}
		add(path, "Missing volume device",
			"The recipe declares volume %q for host group %q: name its device in the site file, `volumes = { %s = \"/dev/sdb\" }`%s.",
			name, group, name, listed(s.Volumes))
	}
	return out
}

func listed(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return " (it lists " + strings.Join(sortedNames(m), ", ") + ")"
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkJump checks every hop of a jump list ("user@host:port,...").
func checkJump(j, user string) error {
	for _, hop := range strings.Split(j, ",") {
		u, h, _, err := ParseAddress(strings.TrimPrefix(hop, "ssh://"), user, 22)
		if err != nil {
			return err
		}
		if err := state.CheckAddress(h); err != nil {
			return err
		}
		if u != "" {
			if err := state.CheckUser(u); err != nil {
				return err
			}
		}
	}
	return nil
}
