package workspace

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"diffuser/cloud/static"
	"diffuser/remote"
	"diffuser/state"
)

// SSHCommand builds the system ssh command line (argv[0] is "ssh") that
// reaches host of workspace name as diffuser does: the recorded address,
// port and user, the workspace key, and the host key pinned in state,
// enforced through a known_hosts file written beside the state.
func (e *Env) SSHCommand(name, host string, remoteCmd []string) ([]string, error) {
	st, err := e.ReadState(name)
	if err != nil {
		return nil, err
	}
	h, ok := st.Hosts[host]
	if !ok {
		return nil, fmt.Errorf("no host %q in workspace %s; hosts: %s", host, name, strings.Join(sortedHosts(st), ", "))
	}
	if e.fromSimulation(h.Provider) {
		return nil, fmt.Errorf("host %s of workspace %s was made by a --simulate run: it exists only in state, there is no machine to log in to", host, name)
	}
	l := e.Layout()
	known := l.KnownHosts(name)
	if err := writeKnownHosts(known, name, st); err != nil {
		return nil, err
	}
	return sshArgs(name, *h, l.KeyFile(name), known, remoteCmd)
}

func sortedHosts(st *state.State) []string {
	out := make([]string, 0, len(st.Hosts))
	for n := range st.Hosts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// hostKeyAlias names a host in the known_hosts file diffuser writes, so
// that the entry does not depend on address and port.
func hostKeyAlias(ws, host string) string {
	return "diffuser." + safeName(ws) + "." + safeName(host)
}

// safeName keeps letters, digits, '-' and '_' and turns the rest into '-'.
func safeName(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s), "-")
}

// writeKnownHosts writes every pinned host key of the workspace, one line
// per host under its alias.
func writeKnownHosts(path, ws string, st *state.State) error {
	var b strings.Builder
	b.WriteString("# Written by diffuser ssh from the host keys pinned in this workspace's state.\n")
	for _, name := range sortedHosts(st) {
		key := strings.TrimSpace(st.Hosts[name].SSH.HostKey)
		if key == "" {
			continue
		}
		fields := strings.Fields(key)
		if len(fields) < 2 {
			continue
		}
		fmt.Fprintf(&b, "%s %s %s\n", hostKeyAlias(ws, name), fields[0], fields[1])
	}
	// A new temporary file (never one already there, which may be a link
	// elsewhere), renamed over the old file (a link there is replaced).
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// sshArgs builds the ssh command line (argv[0] is "ssh") for a recorded
// host, agreeing with how diffuser reaches it: the ssh config file diffuser
// read (-F when the site named one or none), the keys it offers (key_file
// or the workspace key, and the IdentityFile entries it found), the
// address it dials (-o HostName when the site names an alias, which stays
// the destination so that ssh matches the same Host blocks), port, user
// and jump hosts given explicitly so that they win over the config, the
// pinned host key enforced, and remoteCmd when given. Every value comes
// from state and is checked first: none may be read as an option.
func sshArgs(ws string, h state.Host, workspaceKey, knownHosts string, remoteCmd []string) ([]string, error) {
	if h.SSH.HostKey == "" {
		return nil, fmt.Errorf("host %s has no pinned host key yet: diffuser records it on the first connection (apply or plan)", h.Name)
	}
	addr := h.SSH.Address
	if addr == "" {
		return nil, fmt.Errorf("host %s has no SSH address in state", h.Name)
	}
	port := h.SSH.Port
	if port == 0 {
		port = 22
	}
	user := h.SSH.User
	if user == "" {
		user = "root"
	}
	dest := addr
	if alias := h.Attrs["ssh_host"]; alias != "" {
		dest = alias
	}
	for _, err := range []error{argSafe("address", addr), argSafe("alias", dest), state.CheckUser(user)} {
		if err != nil {
			return nil, fmt.Errorf("host %s in state: %w: fix the site file (or state) and apply again", h.Name, err)
		}
	}
	var argv []string
	if cfg := h.Attrs["ssh_config"]; cfg != "" {
		argv = append(argv, "-F", cfg)
	}
	keys, err := sshKeyArgs(h, workspaceKey)
	if err != nil {
		return nil, err
	}
	argv = append(argv, keys...)
	argv = append(argv,
		"-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile="+knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "HostKeyAlias="+hostKeyAlias(ws, h.Name),
	)
	if dest != addr {
		argv = append(argv, "-o", "HostName="+addr)
	}
	argv = append(argv, "-p", strconv.Itoa(port))
	if j := h.Attrs["ssh_jump"]; j != "" {
		jump, err := jumpArg(j, user)
		if err != nil {
			return nil, fmt.Errorf("host %s: jump host %q: %w", h.Name, j, err)
		}
		argv = append(argv, "-J", jump)
	}
	if len(remoteCmd) == 0 {
		argv = append(argv, "-t")
	}
	// "--" ends ssh's options before the destination: nothing after it
	// (destination or remote command) is read as an option, whatever the
	// checks above let through.
	argv = append(argv, "--", user+"@"+dest)
	argv = append(argv, remoteCmd...)
	return append([]string{"ssh"}, argv...), nil
}

// argSafe refuses a host name from state that ssh could read as an option,
// split into words or expand (%-tokens in HostName): the static provider
// checks what it records more strictly; this holds for every provider
// and for an edited state.
func argSafe(what, v string) error {
	if v == "" || v[0] == '-' || strings.ContainsAny(v, " \t\n\r\v\f\"'\\%@") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s %q cannot be passed to ssh (it starts with '-' or has spaces, quotes, '%%' or '@')", what, v)
	}
	return nil
}

// sshKeyArgs are the -i options: the keys the connector offers, in its
// order, the IdentityFile entries only where they exist. ssh expands %
// and ${VAR} in identity file paths: % is escaped, ${ refused.
func sshKeyArgs(h state.Host, workspaceKey string) ([]string, error) {
	key := h.SSH.KeyFile
	if key == "" {
		key = h.Attrs["ssh_key_file"]
	}
	var files []string
	if key != "" {
		files = append(files, key)
	}
	for _, f := range h.SSH.IdentityFiles {
		if _, err := os.Stat(f); err == nil && f != key {
			files = append(files, f)
		}
	}
	if key == "" {
		files = append(files, workspaceKey)
	}
	var argv []string
	for _, f := range files {
		if strings.Contains(f, "${") || strings.ContainsAny(f, "\n\r") {
			return nil, fmt.Errorf("host %s: key file %q cannot be passed to ssh (it would expand ${...} or break the line): rename the file", h.Name, f)
		}
		argv = append(argv, "-i", strings.ReplaceAll(f, "%", "%%"))
	}
	return argv, nil
}

// jumpArg is ssh's -J value for the jump hosts recorded in state (as
// written, "user@host:port,..."), each hop checked; a hop without user
// or port gets the host's user and 22, as diffuser reaches it.
func jumpArg(j, user string) (string, error) {
	var hops []string
	for _, hop := range strings.Split(j, ",") {
		ju, jh, jp, err := static.ParseAddress(strings.TrimPrefix(hop, "ssh://"), user, 22)
		if err == nil {
			err = remote.CheckHost(jh)
		}
		if err == nil {
			err = state.CheckUser(ju)
		}
		if err != nil {
			return "", err
		}
		hops = append(hops, ju+"@"+net.JoinHostPort(jh, strconv.Itoa(jp)))
	}
	return strings.Join(hops, ","), nil
}
