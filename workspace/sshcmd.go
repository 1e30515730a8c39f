package workspace

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"diffuser/cloud/static"
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sshArgs builds the ssh command line (argv[0] is "ssh") for a recorded
// host: its key file (the host's own, else the workspace's), the pinned
// host key enforced, and remoteCmd when given.
func sshArgs(ws string, h state.Host, workspaceKey, knownHosts string, remoteCmd []string) ([]string, error) {
	if h.SSH.HostKey == "" {
		return nil, fmt.Errorf("host %s has no pinned host key yet: diffuser records it on the first connection (apply or plan)", h.Name)
	}
	addr := h.SSH.Address
	if addr == "" {
		return nil, fmt.Errorf("host %s has no SSH address in state", h.Name)
	}
	key := h.SSH.KeyFile
	if key == "" {
		key = h.Attrs["ssh_key_file"]
	}
	if key == "" {
		key = workspaceKey
	}
	port := h.SSH.Port
	if port == 0 {
		port = 22
	}
	user := h.SSH.User
	if user == "" {
		user = "root"
	}
	argv := []string{"ssh",
		"-i", key,
		"-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "HostKeyAlias=" + hostKeyAlias(ws, h.Name),
		"-p", strconv.Itoa(port),
	}
	if j := h.Attrs["ssh_jump"]; j != "" {
		ju, jh, jp, err := static.ParseAddress(j, user, 22)
		if err != nil {
			return nil, fmt.Errorf("host %s: jump host %q: %w", h.Name, j, err)
		}
		argv = append(argv, "-J", fmt.Sprintf("%s@%s:%d", ju, jh, jp))
	}
	if len(remoteCmd) == 0 {
		argv = append(argv, "-t")
	}
	argv = append(argv, user+"@"+addr)
	if len(remoteCmd) > 0 {
		argv = append(argv, "--")
		argv = append(argv, remoteCmd...)
	}
	return argv, nil
}
