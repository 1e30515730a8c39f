package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"diffuser/cloud/static"
	"diffuser/remote"
	"diffuser/state"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) sshCmd() *cobra.Command {
	var printOnly bool
	c := &cobra.Command{
		Use:   "ssh WORKSPACE HOST [-- COMMAND...]",
		Short: "Open a shell on a host (or run a command) with the workspace's key and pinned host key",
		Long: `ssh runs the system ssh client against a host of the workspace as diffuser reaches it: the
recorded address, port and user, the workspace's private key, and the host key pinned in state
(StrictHostKeyChecking=yes against a known_hosts file diffuser writes beside the state,
<data-dir>/<workspace>/known_hosts). A host whose key changed is refused, as diffuser itself
refuses it; see diffuser state forget-hostkey. With a COMMAND after --, ssh runs it and exits
with its status. A jump host (static provider's jump) is passed as ProxyJump; ssh checks the
jump host's own key against your ~/.ssh/known_hosts.`,
		Example: `  diffuser ssh glusterfs 'server[0]'
  diffuser ssh glusterfs 'client[0]' -- df -h /mnt/gluster
  diffuser ssh glusterfs 'server[1]' --print   # the ssh command line, to copy`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash >= 0 && dash != 2 {
				return errors.New("usage: diffuser ssh WORKSPACE HOST [-- COMMAND...]: put the command after --")
			} else if dash < 0 && len(args) > 2 {
				return errors.New("put the remote command after --: diffuser ssh WORKSPACE HOST -- COMMAND")
			}
			wsName, hostName, remoteCmd := args[0], args[1], args[2:]
			st, _, err := a.readState(wsName)
			if err != nil {
				return err
			}
			h, ok := st.Hosts[hostName]
			if !ok {
				return fmt.Errorf("no host %q in workspace %s; hosts: %s", hostName, wsName, strings.Join(sortedKeys(st.Hosts), ", "))
			}
			dir := filepath.Join(a.flags.dataDir, wsName)
			known := filepath.Join(dir, "known_hosts")
			if err := writeKnownHosts(known, wsName, st); err != nil {
				return err
			}
			argv, err := sshArgs(wsName, *h, filepath.Join(dir, remote.KeyName), known, remoteCmd)
			if err != nil {
				return err
			}
			if printOnly {
				fmt.Fprintln(a.stdout, shellJoin(argv))
				return nil
			}
			return a.execSSH(argv)
		},
	}
	c.Flags().BoolVar(&printOnly, "print", false, "print the ssh command line instead of running it")
	return c
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
	for _, name := range sortedKeys(st.Hosts) {
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

// execSSH hands the terminal to ssh: on a terminal it replaces this
// process (exit status and signals are ssh's own); otherwise it runs ssh
// as a child with this command's input and output and returns its exit
// status.
func (a *app) execSSH(argv []string) error {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("the ssh client is not installed (%v): install openssh-client", err)
	}
	if in, ok := a.stdin.(*os.File); ok && in == os.Stdin && term.IsTerminal(int(in.Fd())) && a.stdout == os.Stdout {
		return syscall.Exec(path, argv, os.Environ())
	}
	c := exec.Command(path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return exitCode(ee.ExitCode())
		}
		return err
	}
	return nil
}

// shellJoin quotes argv for a POSIX shell.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, s := range argv {
		out[i] = remote.ShellQuote(s)
	}
	return strings.Join(out, " ")
}
