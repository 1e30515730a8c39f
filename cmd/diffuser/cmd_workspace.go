package main

import (
	"fmt"
	"strings"
	"time"

	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) workspaceCmd() *cobra.Command {
	c := &cobra.Command{Use: "workspace", Short: "List and delete the workspaces under the data directory",
		Long: `A workspace is one directory under the data directory (--data-dir, default .diffuser): the
state of one cluster, its journal and backup, its SSH key and known_hosts. Its name is the
recipe's unless -workspace gave another.`,
		Example: "  diffuser workspace list\n  diffuser workspace delete glusterfs"}
	c.AddCommand(a.workspaceListCmd(), a.workspaceDeleteCmd())
	return c
}

func (a *app) workspaceListCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "list", Short: "List workspaces: recipe, provider, hosts, step instances, serial, last change, deadline", Args: cobra.NoArgs,
		Long: `list prints every workspace under the data directory with the recipe and provider it was
last applied with (several joined by + for a cluster over several providers), how many hosts
and step instances its state holds, the state's serial, when it last changed, its deadline
when an apply gave it a ttl ("(due)" once passed: destroy --expired sweeps it), and who holds
its lock if a command runs in it now. A workspace whose state is in a bucket is read there
through the backend block of -site FILE (or ./diffuser.hcl); without it, it is listed as one
whose state cannot be read, naming the bucket.`,
		Example: "  diffuser workspace list\n  diffuser workspace list -json --data-dir /srv/diffuser",
		RunE: func(cmd *cobra.Command, args []string) error {
			env := a.workspaceEnv()
			list, err := env.List()
			if err != nil {
				return err
			}
			rows := workspaceRows(list, env.Time())
			if a.flags.json {
				return views.WriteJSON(a.stdout, rows)
			}
			views.WriteWorkspaces(a.stdout, rows, env.Layout().Root)
			return nil
		},
	}
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	c.Flags().StringVar(&a.flags.site, "site", "", "site file whose backend block says where state lives (default: ./diffuser.hcl when present)")
	return c
}

// workspaceRows is the workspace list in the views' shape.
func workspaceRows(list []workspace.Info, now time.Time) []views.WorkspaceJSON {
	out := make([]views.WorkspaceJSON, 0, len(list))
	for _, in := range list {
		j := views.WorkspaceJSON{Name: in.Name, Recipe: in.Recipe, Provider: in.Provider, Cluster: in.Cluster, Hosts: in.Hosts,
			Instances: in.Instances, Outputs: in.Outputs, Serial: in.Serial, Modified: in.Modified.UTC()}
		if h := in.LockedBy; h != nil {
			j.LockedBy = &views.LockJSON{PID: h.PID, User: h.User, Hostname: h.Hostname, Command: h.Command, Since: h.Since.UTC()}
		}
		if in.Err != nil {
			j.Error = in.Err.Error()
		}
		if !in.Expires.IsZero() {
			exp := in.Expires.UTC()
			j.Expires, j.Expired = &exp, !exp.After(now)
		}
		out = append(out, j)
	}
	return out
}

func (a *app) workspaceDeleteCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: "delete WORKSPACE", Short: "Delete a workspace whose cluster is destroyed: state, backups, keys, known_hosts",
		Args: cobra.ExactArgs(1),
		Long: `delete removes a workspace's directory: its state, journal and backup, SSH key, known_hosts and
runs (their logs and timelines). It takes the workspace lock, so it fails while a command
runs in the workspace. It refuses while state still records hosts or step instances: run
diffuser destroy first. -force deletes it anyway (or when its state cannot be read), leaving
whatever the workspace made running and no longer tracked.`,
		Example: "  diffuser destroy glusterfs -auto-approve && diffuser workspace delete glusterfs\n  diffuser workspace delete old-lab -force",
		RunE: func(cmd *cobra.Command, args []string) error {
			del, err := a.workspaceEnv().Delete(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Deleted workspace %s (%s).\n", del.Name, del.Dir)
			if len(del.Abandoned) > 0 {
				fmt.Fprintf(a.stderr, "Warning: its %d host(s) were not destroyed and nothing tracks them now: %s (provider %s, cluster %s). "+
					"Remove them with the provider's own tools.\n", len(del.Abandoned), strings.Join(del.Abandoned, ", "), del.Provider, del.Cluster)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "delete even when state still records hosts (they keep running, untracked) or cannot be read")
	return c
}
