package main

import (
	"context"
	"fmt"

	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) statePushCmd() *cobra.Command {
	return a.stateMoveCmd("push", "Copy a workspace's state from the local data directory to the site file's backend",
		`push copies WORKSPACE's state (state.json with its journal replayed) from the local data
directory to the backend the site file names (backend "s3" { ... }), keeping its lineage and
serial, under both locks. It refuses a destination that holds another lineage, or a later
serial of the same one, unless -force (the replaced copy is kept as state.json.backup there).
The local copy is left as it was; once the site file names the backend, every command reads
and writes only there.`,
		"  diffuser state push glusterfs -site team.hcl", (*workspace.Env).Push)
}

func (a *app) statePullCmd() *cobra.Command {
	return a.stateMoveCmd("pull", "Copy a workspace's state from the site file's backend to the local data directory",
		`pull copies WORKSPACE's state from the backend the site file names to the local data
directory, keeping its lineage and serial, under both locks, with push's refusals (-force
overrides them; the replaced local state.json is kept as state.json.backup). Remove the
backend block afterwards to work from the local copy.`,
		"  diffuser state pull glusterfs -site team.hcl", (*workspace.Env).Pull)
}

func (a *app) stateMoveCmd(verb, short, long, example string, move func(*workspace.Env, context.Context, string, bool) (*workspace.Moved, error)) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: verb + " WORKSPACE", Short: short, Long: long, Example: example, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := move(a.workspaceEnv(), cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Copied workspace %s's state (lineage %s, serial %d) from %s to %s.\n", args[0], m.Lineage, m.Serial, m.From, m.To)
			if m.Replaced != nil {
				fmt.Fprintf(a.stdout, "It replaced lineage %s serial %d there, kept as %s.\n", m.Replaced.Lineage, m.Replaced.Serial, m.Backup)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "replace a destination that holds another lineage or a later serial")
	a.lockFlag(c)
	return c
}
