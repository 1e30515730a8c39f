package main

import (
	"fmt"
	"strings"

	"diffuser/workspace"

	"github.com/spf13/cobra"
)

// lockFlag adds -lock-timeout to a command that takes the workspace lock.
func (a *app) lockFlag(c *cobra.Command) {
	c.Flags().DurationVar(&a.flags.lockTimeout, "lock-timeout", 0,
		"wait up to this long (30s, 5m) for another command holding the workspace lock; 0 fails at once")
}

func (a *app) stateRmCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "rm WORKSPACE ADDRESS...",
		Short: "Forget hosts, steps or step instances without touching the machines",
		Long: `rm removes addresses from the workspace's state, under the workspace lock, and touches no
machine: the previous state is kept as state.json.backup. An ADDRESS is a step instance
(step.NAME["HOST"]), a whole step (step.NAME: every instance of it), a module's steps
(module.NAME, module.NAME.step.NAME) or a host (server[1], or launch["server[1]"]), which goes
with every step instance on it. Every address must be in
state, or nothing is removed; an unknown one is named with the addresses that look like it.

The next plan treats what was removed as never done: a removed step instance is created
(run) again, a removed host is launched again. The docker and aws providers find a machine
they made for that host and adopt it rather than make a second one; to stop managing a
machine for good, remove it from the recipe as well (or destroy it).`,
		Example: `  diffuser state rm glusterfs 'step.volume["server[0]"]'
  diffuser state rm glusterfs step.client_mount
  diffuser state rm glusterfs 'server[2]' -lock-timeout 1m`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ed, err := a.workspaceEnv().StateRm(cmd.Context(), args[0], args[1:])
			if err != nil {
				return err
			}
			for _, m := range ed.Hosts {
				fmt.Fprintf(a.stdout, "Removed %s\n", m.From)
			}
			for _, m := range ed.Instances {
				fmt.Fprintf(a.stdout, "Removed %s\n", m.From)
			}
			fmt.Fprintf(a.stdout, "\nRemoved %s from state; no machine was touched. The previous state is in %s.\n",
				counted(len(ed.Hosts), len(ed.Instances)), ed.Backup)
			if len(ed.Hosts) > 0 {
				fmt.Fprintln(a.stdout, "The next apply launches removed hosts again (a machine diffuser made for one is adopted, not made twice) and runs their steps.")
			}
			return nil
		},
	}
	a.lockFlag(c)
	return c
}

func (a *app) stateMvCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "mv WORKSPACE SRC DST",
		Short: "Rename a step instance, a step or a host in state after a recipe change",
		Long: `mv renames an address in the workspace's state, under the workspace lock, so that a recipe
whose step or host group was renamed finds its work done instead of destroying it under the
old name and doing it again under the new one. No machine is touched; the previous state is
kept as state.json.backup.

SRC and DST are of one kind: a step instance (step.old["server[0]"] to step.new["server[0]"];
an instance stays on its host), a whole step (step.old to step.new: every instance; also into
or out of a module, step.brick to module.data.step.format), a module (module.a to module.b:
every step under it) or a host (server[3] to storage[0]: the host and every step instance on
it). DST must not be in state.

Recorded digests are kept, so if the renamed step or host asks for the same work the next plan
is a no-op. A host's name is part of each instance's digest: mv recomputes those from the
arguments state recorded; a sensitive step records none, so it runs again on the next apply
(mv names such instances).

A moved block in the recipe does a step or module rename at the next plan for every workspace
(shown in the plan), and a module can carry its own (from = caller.…) for callers whose steps
it took over; mv is for one workspace, hosts, and single instances (docs/writing-recipes.md).`,
		Example: `  diffuser state mv glusterfs step.bricks step.brick
  diffuser state mv glusterfs 'server[3]' 'storage[0]'
  diffuser state mv glusterfs 'step.mount["client[0]"]' 'step.fuse_mount["client[0]"]'`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ed, err := a.workspaceEnv().StateMv(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			for _, m := range append(ed.Hosts, ed.Instances...) {
				fmt.Fprintf(a.stdout, "Moved %s to %s\n", m.From, m.To)
			}
			fmt.Fprintf(a.stdout, "\nMoved %s; no machine was touched. The previous state is in %s.\n",
				counted(len(ed.Hosts), len(ed.Instances)), ed.Backup)
			if len(ed.Redo) > 0 {
				fmt.Fprintf(a.stdout, "Sensitive steps record no arguments, so their digests cannot follow the new host name; the next apply runs them again: %s\n",
					strings.Join(ed.Redo, ", "))
			}
			return nil
		},
	}
	a.lockFlag(c)
	return c
}

// counted reads "1 host and 3 step instances".
func counted(hosts, instances int) string {
	var parts []string
	if hosts > 0 {
		parts = append(parts, plural(hosts, "host"))
	}
	if instances > 0 || hosts == 0 {
		parts = append(parts, plural(instances, "step instance"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (a *app) importCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "import RECIPE ADDRESS [ID]",
		Short: "Take an existing machine, or work already done on a host, into state",
		Long: `import records in the workspace's state what exists without diffuser having made it, under
the workspace lock, as Terraform's import does.

A host (server[0], with the machine's ID as its provider knows it): the provider finds the
machine and makes it reachable, diffuser connects to it over SSH and pins its host key, and
records it as launched, so the next plan launches nothing for it and runs the steps state does
not record on it. The IDs: docker, a running container's id or name (it joins the cluster's
network and the workspace key is added to root's authorized_keys; a volume the group declares
must be one diffuser made it with); aws, an instance id (i-...; it gets the cluster's tags, so
destroy terminates it); static, the machine the site file lists for that host (its address):
static hosts already come from the site file, import only records one without an apply.
From then on the machine is the workspace's: destroy releases it.

A step instance (step.NAME["HOST"], no ID): the step's kind checks the host, as plan -refresh
does (package installed, file content, mount present, service running, filesystem made; a run
step through its creates or unless guard; a run step without one cannot be imported). If the
check holds, the instance is recorded as applied with the inputs the recipe gives now, so the
next plan leaves it alone; if not, nothing is recorded and import says what is missing. Its
host must be in state first, and its arguments must not wait on work not yet applied.`,
		Example: `  diffuser import glusterfs 'server[0]' 3f2a9c0d1e7b
  diffuser import glusterfs 'server[1]' i-0123456789abcdef0 -provider aws
  diffuser import glusterfs 'step.packages["server[0]"]'
  diffuser import nfs 'client[0]' 10.0.0.21 -site lab.hcl -provider static`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := workspace.ImportRequest{Inputs: a.inputs(args[0]), Address: args[1]}
			if len(args) == 3 {
				req.ID = args[2]
			}
			got, err := a.workspaceEnv().Import(cmd.Context(), req)
			if err != nil {
				return err
			}
			if h := got.Host; h != nil {
				fmt.Fprintf(a.stdout, "Imported %s: machine %s (%s), private address %s, SSH %s@%s:%d.\n",
					got.Addr, h.ProviderID, h.Provider, h.PrivateIP, h.SSH.User, h.SSH.Address, h.SSH.Port)
				if got.KeyPinned {
					fmt.Fprintf(a.stdout, "Pinned its SSH host key: %s\n", h.SSH.HostKey)
				}
				fmt.Fprintf(a.stdout, "The next plan launches nothing for %s; steps on it that state does not record run on the next apply (or import them: diffuser import %s 'step.NAME[\"%s\"]').\n",
					got.Addr, args[0], got.Addr)
				return nil
			}
			fmt.Fprintf(a.stdout, "Imported %s: its check holds on %s, recorded as applied. The next plan leaves it alone.\n",
				got.Addr, got.Instance.Host)
			return nil
		},
	}
	a.recipeFlags(c)
	a.lockFlag(c)
	return c
}
