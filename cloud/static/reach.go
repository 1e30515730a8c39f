package static

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"diffuser/cloud"
	"diffuser/remote"
	"diffuser/state"
)

// reach is how diffuser reaches one static host, resolved once at launch
// from the site file and the ssh config, with OpenSSH's precedence: a value
// the site file gives (in the address, `user@host:port`, or as the user,
// port, key_file or jump setting) wins over ~/.ssh/config, which wins over
// diffuser's defaults (root, 22, the workspace key). Host blocks match the
// host as the site file writes it, so an alias with a HostName works as an
// address.
type reach struct {
	ID            string // provider id: the host as the site file alone names it
	Alias         string // the host as written
	Address       string // the host dialed (HostName applied)
	Port          int
	User          string
	IdentityFiles []string // IdentityFile entries, expanded
	// Jump is the jump hosts as the site's jump (else ProxyJump) writes
	// them, each with the user and port diffuser resolved, for ssh -J:
	// "ops@bastion:22,...". ssh reads the config for each hop as diffuser did.
	Jump string
	Hops []cloud.Hop // the same, resolved, the one dialed first first
}

// maxJumpDepth bounds how deep first hops' own ProxyJump entries nest.
const maxJumpDepth = 8

// resolve works out how to reach the host at addr (an element of
// addresses) under settings s and ssh config c.
func resolve(c *sshConfig, s Settings, addr string) (reach, error) {
	aUser, aHost, aPort, err := ParseAddress(addr, "", 0)
	if err != nil {
		return reach{}, fmt.Errorf("static address %q: %w", addr, err)
	}
	if err := remote.CheckHost(aHost); err != nil {
		return reach{}, fmt.Errorf("static address %q: %w", addr, err)
	}
	if s.User != "" {
		if err := state.CheckUser(s.User); err != nil {
			return reach{}, fmt.Errorf("static provider setting user: %w", err)
		}
	}
	if s.Port < 0 || s.Port > 65535 {
		return reach{}, fmt.Errorf("static provider setting port: %d is not a TCP port (1-65535)", s.Port)
	}
	if aUser != "" {
		if err := state.CheckUser(aUser); err != nil {
			return reach{}, fmt.Errorf("static address %q: %w", addr, err)
		}
	}
	r := reach{Alias: aHost}
	// The provider id is what the site file alone says, with diffuser's
	// defaults: ~/.ssh/config changes how the host is reached, not which
	// host it is (so not what ran on it).
	r.ID = fmt.Sprintf("static:%s@%s:%d", firstOf(aUser, s.User, "root"), aHost, firstInt(aPort, s.Port, 22))

	h, err := c.host(aHost, firstOf(aUser, s.User), firstInt(aPort, s.Port))
	if err != nil {
		return reach{}, err
	}
	r.Address, r.Port, r.User, r.IdentityFiles = h.Address, h.Port, h.User, h.IdentityFiles

	jump, from := s.Jump, "the static provider's jump setting"
	if jump == "" {
		if jump, from, err = c.get(aHost, "ProxyJump"); err != nil {
			return reach{}, err
		}
	}
	if strings.EqualFold(jump, "none") {
		jump = ""
	}
	if jump == "" {
		if err := c.refuseProxyCommand(aHost); err != nil {
			return reach{}, err
		}
		return r, nil
	}
	var written []string
	if r.Hops, written, err = c.hops(jump, from, r.User, 0); err != nil {
		return reach{}, fmt.Errorf("reaching %s: %w", aHost, err)
	}
	r.Jump = strings.Join(written, ",")
	return r, nil
}

// host resolves one host name through the config: user and port when not
// given (""/0), HostName, IdentityFile. Defaults: root, 22.
func (c *sshConfig) host(alias, user string, port int) (cloud.Hop, error) {
	if user == "" {
		v, file, err := c.get(alias, "User")
		if err != nil {
			return cloud.Hop{}, err
		}
		if v != "" {
			if err := state.CheckUser(v); err != nil {
				return cloud.Hop{}, fromConfig(file, alias, "User", v, err, "user")
			}
		}
		user = firstOf(v, "root")
	}
	if port == 0 {
		v, file, err := c.get(alias, "Port")
		if err != nil {
			return cloud.Hop{}, err
		}
		if v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p <= 0 || p > 65535 {
				return cloud.Hop{}, fromConfig(file, alias, "Port", v, fmt.Errorf("not a TCP port (1-65535)"), "port")
			}
			port = p
		}
		port = firstInt(port, 22)
	}
	address := alias
	v, file, err := c.get(alias, "HostName")
	if err != nil {
		return cloud.Hop{}, err
	}
	if v != "" {
		name, err := expandTokens("HostName", v, tokens{'h': alias}, false)
		if err == nil {
			err = remote.CheckHost(name)
		}
		if err != nil {
			return cloud.Hop{}, fromConfig(file, alias, "HostName", v, err, "")
		}
		address = name
	}
	ids, err := c.identityFiles(alias, address, port, user)
	if err != nil {
		return cloud.Hop{}, err
	}
	return cloud.Hop{Address: address, Port: port, User: user, IdentityFiles: ids}, nil
}

// identityFiles are the host's IdentityFile entries with ~, %-tokens and
// ${VAR} expanded, duplicates dropped.
func (c *sshConfig) identityFiles(alias, hostname string, port int, user string) ([]string, error) {
	vals, err := c.getAll(alias, "IdentityFile")
	if err != nil || len(vals) == 0 {
		return nil, err
	}
	t, err := identityTokens(alias, hostname, port, user)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vals {
		p, err := expandTilde(v)
		if err == nil {
			p, err = expandTokens("IdentityFile", p, t, true)
		}
		if err == nil {
			err = checkPath(p)
		}
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: IdentityFile for %s: %w: fix the file, or set ssh_config = \"\" to ignore it",
				strings.Join(c.names, ", "), alias, err)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// hops resolves a ProxyJump value ("[user@]host[:port],...", each maybe
// as an ssh:// URI) into hops, the one dialed first first. As with ssh -J,
// the first hop is reached as `ssh HOP` would reach it, so its own
// ProxyJump in the config puts more hops before it; the others' do not.
// written is spec's hops as "user@host:port" with the host as written.
func (c *sshConfig) hops(spec, from, defUser string, depth int) (out []cloud.Hop, written []string, err error) {
	if depth >= maxJumpDepth {
		return nil, nil, fmt.Errorf("ProxyJump %q: more than %d nested jump hosts (a loop in the ssh config?)", spec, maxJumpDepth)
	}
	for i, part := range strings.Split(spec, ",") {
		hop := strings.TrimPrefix(strings.TrimSpace(part), "ssh://")
		u, h, p, err := ParseAddress(hop, "", 0)
		if err == nil {
			err = remote.CheckHost(h)
		}
		if err == nil && u != "" {
			err = state.CheckUser(u)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("jump host %q (from %s): %w: fix it there, or set jump in the static provider's settings (it wins)", part, from, err)
		}
		// A hop's user defaults to the target's, as diffuser always did.
		if u == "" {
			v, _, err := c.get(h, "User")
			if err != nil {
				return nil, nil, err
			}
			if v == "" {
				u = defUser
			}
		}
		resolved, err := c.host(h, u, p)
		if err != nil {
			return nil, nil, fmt.Errorf("jump host %s: %w", h, err)
		}
		if i == 0 {
			pj, pjFrom, err := c.get(h, "ProxyJump")
			if err != nil {
				return nil, nil, err
			}
			if pj != "" && !strings.EqualFold(pj, "none") {
				before, _, err := c.hops(pj, pjFrom, defUser, depth+1)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, before...)
			} else if err := c.refuseProxyCommand(h); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, resolved)
		written = append(written, resolved.User+"@"+net.JoinHostPort(h, strconv.Itoa(resolved.Port)))
	}
	return out, written, nil
}

// refuseProxyCommand fails when the config gives host a ProxyCommand:
// diffuser runs no local commands to connect, and dialing directly would
// not be what ssh does.
func (c *sshConfig) refuseProxyCommand(host string) error {
	v, file, err := c.get(host, "ProxyCommand")
	if err != nil || v == "" || strings.EqualFold(v, "none") {
		return err
	}
	return fmt.Errorf("ssh config %s gives %s a ProxyCommand, which diffuser does not run: use ProxyJump there, "+
		"or set jump in the static provider's settings (it wins), or set ssh_config = \"\" to ignore the file", file, host)
}

// fromConfig is the error for a value of the ssh config that diffuser
// refuses, naming the file and, when there is one, the site setting that
// would win over it.
func fromConfig(file, host, keyword, value string, err error, setting string) error {
	hint := "fix the file"
	if setting != "" {
		hint += fmt.Sprintf(", or set %s in the static provider's settings (it wins)", setting)
	}
	return fmt.Errorf("ssh config %s gives %s %s %q: %v: %s, or set ssh_config = \"\" to ignore the file",
		file, host, keyword, value, err, hint)
}

// checkPath refuses key file paths with control characters (a newline
// would end an ssh option line).
func checkPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty key file path")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("key file path %q has a control character", p)
		}
	}
	return nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstInt(vs ...int) int {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}
