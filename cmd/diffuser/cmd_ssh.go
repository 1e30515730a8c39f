package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"diffuser/remote"

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
jump host's own key against your ~/.ssh/known_hosts.

For static hosts found through ~/.ssh/config, the command line agrees with what diffuser
recorded: -F when the site file's ssh_config named another file (-F none when it turned the
config off), the alias as the destination so that ssh applies the same Host blocks, and the
recorded address (-o HostName), port, user, keys (-i) and jump hosts (-J) given explicitly, so
that they win over the file. Values from state are checked first: none can be read as an
ssh option.`,
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
			argv, err := a.workspaceEnv().SSHCommand(args[0], args[1], args[2:])
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
