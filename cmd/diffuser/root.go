package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"diffuser/cloud"
	"diffuser/cloud/static"
	"diffuser/engine"

	"github.com/spf13/cobra"
)

// flags are the options shared by most commands.
type flags struct {
	vars        []string
	varFiles    []string
	site        string
	provider    string
	workspace   string
	dataDir     string
	json        bool
	noColor     bool
	progress    string
	parallelism int
	autoApprove bool
	refresh     bool
	targets     []string
	replace     []string
	out         string
	detailed    bool
	instances   bool
	simulate    bool
	simProfile  string
	simSeed     uint64
}

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stop           <-chan struct{}
	flags          flags
	// extraFactories lets tests add providers.
	extraFactories map[string]cloud.Factory
	sim            *simulation
	// testConnector, when set, replaces SSH for every command (tests pair
	// it with a simulated provider in extraFactories and the real kinds).
	testConnector engine.Connector
	// logs carries provider log lines: to stderr, or above the live view.
	logs *logRouter
}

// execute runs one command line and returns the process exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(normalizeArgs(root, args))
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	var shown *shownError
	if !errors.As(err, &shown) {
		fmt.Fprintf(a.stderr, "Error: %v\n", err)
	}
	return exitError
}

func (a *app) factories() map[string]cloud.Factory {
	m := builtinFactories()
	m["static"] = static.Factory{}
	for k, v := range a.extraFactories {
		m[k] = v
	}
	if a.sim != nil {
		m["sim"] = a.sim.factory()
	}
	return m
}

func providerNames(m map[string]cloud.Factory) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "diffuser",
		Short: "Deploy distributed filesystems onto clusters and keep them as declared",
		Long: `diffuser deploys distributed filesystems (GlusterFS, Ceph, NFS, MooseFS, OrangeFS, or your
own recipe) onto machines: local containers (docker, the default), EC2-compatible clouds
(aws) or machines you already have (static). A recipe is a graph of steps; diffuser diffs it
against saved state and runs independent steps concurrently.`,
		Example: `  diffuser plan glusterfs                 # what would change, nothing touched
  diffuser apply glusterfs -auto-approve  # launch, install, format, start daemons, mount
  diffuser verify glusterfs               # write on one client, read on another
  diffuser destroy glusterfs              # everything it made is gone`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.dataDir, "data-dir", ".diffuser", "directory for state, keys and logs")
	pf.BoolVar(&a.flags.noColor, "no-color", false, "plain output without colors")
	root.DisableAutoGenTag = true // docs/commands stay byte-identical between runs
	root.AddCommand(a.validateCmd(), a.planCmd(), a.applyCmd(), a.destroyCmd(), a.graphCmd(), a.recipesCmd(),
		a.verifyCmd(), a.benchCmd(), a.outputCmd(), a.stateCmd(), a.hostsCmd(), a.logsCmd(), a.sshCmd(),
		a.versionCmd(), a.imageCmd())
	// Before the completion command: cobra binds its output when it is added.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	addCompletionCmd(root)
	a.completeArgs(root)
	return root
}

// recipeFlags adds the flags that select and parameterize a recipe.
func (a *app) recipeFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringArrayVar(&a.flags.vars, "var", nil, "set a recipe variable, NAME=VALUE (repeatable)")
	f.StringArrayVar(&a.flags.varFiles, "var-file", nil, "read variable values from an HCL file (repeatable)")
	f.StringVar(&a.flags.site, "site", "", "site file with provider settings (default: ./diffuser.hcl when present)")
	f.StringVar(&a.flags.provider, "provider", "", "where hosts come from: docker, aws or static (default: the site's default_provider, else docker)")
	f.StringVar(&a.flags.workspace, "workspace", "", "workspace name (default: the recipe's name)")
	f.BoolVar(&a.flags.simulate, "simulate", false, "simulated hosts and steps: nothing is launched or run (see --sim-profile)")
	f.StringVar(&a.flags.simProfile, "sim-profile", "", "JSON file of per-kind durations and failure rates for --simulate")
	f.Uint64Var(&a.flags.simSeed, "sim-seed", 0, "seed for --simulate's draws (same seed, same run)")
}

func (a *app) planFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&a.flags.json, "json", false, "print machine-readable JSON")
	f.BoolVar(&a.flags.refresh, "refresh", true, "ask hosts whether recorded work still holds (when hosts exist)")
	f.StringArrayVar(&a.flags.targets, "target", nil, "limit to an address (step.NAME, step.NAME[\"HOST\"], hosts.GROUP, HOST) and what it needs")
	f.StringArrayVar(&a.flags.replace, "replace", nil, "recreate a host (server[1]) or re-run a step instance (step.NAME[\"HOST\"])")
}
