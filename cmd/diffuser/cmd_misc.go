package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"
	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) recipesCmd() *cobra.Command {
	c := &cobra.Command{Use: "recipes", Short: "List and show the built-in recipes",
		Example: "  diffuser recipes list\n  diffuser recipes show glusterfs"}
	c.AddCommand(&cobra.Command{
		Use: "list", Short: "List the built-in recipes", Example: "  diffuser recipes list", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION")
			for _, n := range recipes.Names() {
				r, diags := lang.Load(lang.Source{FS: recipes.FS(), Dir: n, Display: "builtin:" + n}, engine.KindSpecs(builtin.Kinds()))
				desc := "(does not load: run diffuser validate " + n + ")"
				if !diags.HasErrors() {
					desc = r.Description
				}
				fmt.Fprintf(tw, "%s\t%s\n", n, desc)
			}
			return tw.Flush()
		},
	})
	c.AddCommand(&cobra.Command{
		Use: "show NAME", Short: "Print a built-in recipe's source", Example: "  diffuser recipes show ceph > ceph.hcl",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !recipes.Has(args[0]) {
				return fmt.Errorf("no built-in recipe %q (built-in: %v)", args[0], recipes.Names())
			}
			return fs.WalkDir(recipes.FS(), args[0], func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := fs.ReadFile(recipes.FS(), p)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "# %s\n%s\n", p, b)
				return nil
			})
		},
	})
	return c
}

// readState loads a workspace's state without a recipe, by workspace name.
func (a *app) readState(name string) (*state.State, error) {
	return a.workspaceEnv().ReadState(name)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func (a *app) outputCmd() *cobra.Command {
	var showSensitive bool
	c := &cobra.Command{
		Use: "output WORKSPACE [NAME]", Short: "Print the recipe outputs of the last apply",
		Example: "  diffuser output glusterfs\n  diffuser output glusterfs mount",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			if len(args) == 2 {
				o, ok := st.Outputs[args[1]]
				if !ok {
					return fmt.Errorf("no output %q in workspace %s", args[1], args[0])
				}
				if o.Sensitive && !showSensitive {
					return fmt.Errorf("output %q is sensitive: pass --show-sensitive to print it", args[1])
				}
				fmt.Fprintln(a.stdout, o.Value)
				return nil
			}
			if a.flags.json {
				out := map[string]state.Output{}
				for k, o := range st.Outputs {
					if o.Sensitive && !showSensitive {
						o.Value = "(sensitive)"
					}
					out[k] = o
				}
				return json.NewEncoder(a.stdout).Encode(out)
			}
			views.WriteOutputs(a.stdout, st.Outputs, "", showSensitive)
			return nil
		},
	}
	c.Flags().BoolVar(&showSensitive, "show-sensitive", false, "print sensitive outputs' values")
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON")
	return c
}

func (a *app) stateCmd() *cobra.Command {
	c := &cobra.Command{Use: "state", Short: "Inspect and repair a workspace's state",
		Example: "  diffuser state list glusterfs\n  diffuser state show glusterfs server[0]"}
	c.AddCommand(&cobra.Command{
		Use: "list WORKSPACE", Short: "List hosts and step instances in state", Args: cobra.ExactArgs(1),
		Example: "  diffuser state list glusterfs",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			for _, h := range sortedKeys(st.Hosts) {
				fmt.Fprintln(a.stdout, engine.LaunchAddr(h))
			}
			for _, s := range sortedKeys(st.Steps) {
				fmt.Fprintf(a.stdout, "%s (%s)\n", s, st.Steps[s].Status)
			}
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use: "show WORKSPACE ADDRESS", Short: "Show one host or step instance as recorded", Args: cobra.ExactArgs(2),
		Example: "  diffuser state show glusterfs 'step.volume[\"server[0]\"]'\n  diffuser state show glusterfs server[0]",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			var v any
			if h, ok := st.Hosts[args[1]]; ok {
				v = h
			} else if i, ok := st.Steps[args[1]]; ok {
				cp := *i
				if cp.Sensitive {
					cp.Outputs = map[string]string{}
					for k := range i.Outputs {
						cp.Outputs[k] = "(sensitive)"
					}
					if cp.Destroy != "" {
						cp.Destroy = "(sensitive)"
					}
					cp.Args = nil
				}
				v = cp
			} else {
				return fmt.Errorf("nothing at %q in workspace %s (see diffuser state list %s)", args[1], args[0], args[0])
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	})
	c.AddCommand(&cobra.Command{
		Use: "unlock WORKSPACE", Short: "Break a stale lock left by a process that died", Args: cobra.ExactArgs(1),
		Long:    "unlock breaks the workspace lock only when its holder is no longer alive; a live holder's lock is never broken.",
		Example: "  diffuser state unlock glusterfs",
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.workspaceEnv().Unlock(args[0])
			if err != nil {
				return err
			}
			switch {
			case res.Broken != nil:
				fmt.Fprintf(a.stdout, "Broke the stale lock held by %s.\n", res.Broken)
			case res.Dead != nil:
				fmt.Fprintf(a.stdout, "The workspace is not locked: its last holder, %s, ended without releasing the lock, "+
					"and the lock ended with its process. Nothing to break.\n", res.Dead)
			default:
				fmt.Fprintln(a.stdout, "The workspace was not locked.")
			}
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use: "forget-hostkey WORKSPACE HOST", Short: "Forget a host's pinned SSH key so the next connection records the new one",
		Args: cobra.ExactArgs(2), Example: "  diffuser state forget-hostkey glusterfs server[1]",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.workspaceEnv().ForgetHostKey(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Forgot the host key of %s; the next connection trusts and records the key it offers.\n", args[1])
			return nil
		},
	})
	return c
}

func (a *app) hostsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "hosts WORKSPACE", Short: "Table of hosts: addresses, how diffuser reaches them, provider ids, volumes", Args: cobra.ExactArgs(1),
		Example: "  diffuser hosts glusterfs",
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tPRIVATE IP\tPUBLIC IP\tSSH\tPROVIDER\tID\tVOLUMES")
			for _, n := range sortedKeys(st.Hosts) {
				h := st.Hosts[n]
				vols := ""
				for _, vn := range sortedKeys(h.Volumes) {
					vols += fmt.Sprintf("%s=%s(%dG) ", vn, h.Volumes[vn].Device, h.Volumes[vn].SizeGB)
				}
				id := h.ProviderID
				if len(id) > 16 {
					id = id[:16]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n, h.PrivateIP, h.PublicIP, sshTarget(h.SSH), h.Provider, id, vols)
			}
			return tw.Flush()
		},
	}
}

// sshTarget is how diffuser reaches a host, as state records it:
// user@address:port, then " via " and the jump hosts, the one dialed first
// first.
func sshTarget(s state.SSH) string {
	port := s.Port
	if port == 0 {
		port = 22
	}
	out := s.User + "@" + net.JoinHostPort(s.Address, strconv.Itoa(port))
	var hops []string
	for j := s.Jump; j != nil; j = j.Jump {
		hops = append([]string{sshTarget(state.SSH{Address: j.Address, Port: j.Port, User: j.User})}, hops...)
	}
	if len(hops) > 0 {
		out += " via " + strings.Join(hops, ",")
	}
	return out
}

func (a *app) logsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logs STEP [HOST]",
		Short: "Print the logs of a step's instances (command, output, exit status)",
		Long: `logs prints what the last apply ran for a step on each host (or on HOST): every command
with its start time, its output and its exit status and duration, from
<data-dir>/logs/<step>/<host>.log. Sensitive steps log neither commands nor output.`,
		Args: cobra.RangeArgs(1, 2), Example: "  diffuser logs volume\n  diffuser logs glusterd 'server[1]'\n  diffuser logs mount --data-dir /srv/diffuser",
		RunE: func(cmd *cobra.Command, args []string) error {
			base := a.workspaceEnv().Layout().Logs()
			dir := a.workspaceEnv().Layout().StepLogs(args[0])
			ents, err := os.ReadDir(dir)
			if err != nil {
				steps, _ := os.ReadDir(base)
				var names []string
				for _, e := range steps {
					if e.IsDir() {
						names = append(names, e.Name())
					}
				}
				if len(names) == 0 {
					return fmt.Errorf("no logs under %s: nothing was applied with --data-dir %s", base, a.flags.dataDir)
				}
				return fmt.Errorf("no logs for step %q under %s; steps with logs: %s", args[0], base, strings.Join(names, ", "))
			}
			var hosts []string
			found := false
			for _, e := range ents {
				if e.IsDir() || !strings.HasSuffix(e.Name(), ".log") {
					continue
				}
				hosts = append(hosts, strings.TrimSuffix(e.Name(), ".log"))
				if len(args) == 2 && e.Name() != workspace.LogName(args[1])+".log" {
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					return err
				}
				if found {
					fmt.Fprintln(a.stdout)
				}
				found = true
				fmt.Fprintf(a.stdout, "==> %s <==\n%s", filepath.Join(dir, e.Name()), b)
			}
			if !found {
				return fmt.Errorf("no log of step %s on host %q; hosts with logs: %s", args[0], args[1], strings.Join(hosts, ", "))
			}
			return nil
		},
	}
}

// version is set by -ldflags at build time; else module info is used.
var version = ""

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print diffuser's version", Args: cobra.NoArgs, Example: "  diffuser version",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := version
			if v == "" {
				if bi, ok := debug.ReadBuildInfo(); ok {
					v = bi.Main.Version
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" && len(s.Value) >= 12 {
							v += " (" + s.Value[:12] + ")"
						}
					}
				}
			}
			fmt.Fprintf(a.stdout, "diffuser %s\n", v)
			return nil
		},
	}
}

func (a *app) imageCmd() *cobra.Command {
	c := &cobra.Command{Use: "image", Short: "Manage the docker provider's node image", Example: "  diffuser image build"}
	c.AddCommand(a.imageBuildCmd())
	return c
}

// addCompletionCmd adds cobra's `completion` command now (cobra would add
// it at execution), with examples, and teaches commands to complete their
// arguments: recipe names, workspace names, host names, --progress modes.
func addCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  source <(diffuser completion bash)                       # this shell
  diffuser completion bash > /etc/bash_completion.d/diffuser  # every new shell
  diffuser completion zsh > "${fpath[1]}/_diffuser"
  diffuser completion fish > ~/.config/fish/completions/diffuser.fish`
		for _, sh := range c.Commands() {
			sh.Example = "  diffuser completion " + sh.Name()
		}
	}
}

// completeArgs wires argument completion by the placeholders in each
// command's Use line. a supplies the data directory at completion time.
func (a *app) completeArgs(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Flags().Lookup("progress") != nil {
			_ = c.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions(views.ProgressModes, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.ValidArgsFunction != nil || !c.Runnable() {
			return
		}
		words := strings.Fields(c.Use)
		if len(words) < 2 {
			return
		}
		placeholders := words[1:]
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= len(placeholders) {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			switch strings.Trim(placeholders[len(args)], "[]") {
			case "RECIPE", "RECIPE|PLANFILE":
				return recipes.Names(), cobra.ShellCompDirectiveDefault // built-in names, or a path
			case "WORKSPACE":
				return a.workspaceNames(), cobra.ShellCompDirectiveNoFileComp
			case "HOST":
				if placeholders[0] == "STEP" && len(args) > 0 {
					ents, _ := os.ReadDir(a.workspaceEnv().Layout().StepLogs(args[0]))
					var out []string
					for _, e := range ents {
						out = append(out, strings.TrimSuffix(e.Name(), ".log"))
					}
					return out, cobra.ShellCompDirectiveNoFileComp
				}
				if len(args) > 0 {
					if st, err := a.readState(args[0]); err == nil {
						return sortedKeys(st.Hosts), cobra.ShellCompDirectiveNoFileComp
					}
				}
			case "STEP":
				ents, _ := os.ReadDir(a.workspaceEnv().Layout().Logs())
				var out []string
				for _, e := range ents {
					out = append(out, e.Name())
				}
				return out, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
	}
	walk(root)
}

// workspaceNames lists the workspaces under the data directory.
func (a *app) workspaceNames() []string { return a.workspaceEnv().Names() }
