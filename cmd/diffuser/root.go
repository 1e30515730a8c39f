package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"diffuser/views"
	"diffuser/workspace"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

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
	// env is the workspace layer's environment; tests set its Factories
	// and Connector before running a command.
	env workspace.Env
	// logs carries provider log lines: to stderr, or above the live view.
	logs *views.LogRouter
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
	var de *workspace.DiagError
	if errors.As(err, &de) {
		a.printDiags(de.Files, de.Diags)
		return exitError
	}
	var shown *shownError
	if !errors.As(err, &shown) {
		fmt.Fprintf(a.stderr, "Error: %v\n", err)
	}
	return exitError
}

// workspaceEnv is the workspace layer's environment with this command
// line's data directory, simulation settings and log routing.
func (a *app) workspaceEnv() *workspace.Env {
	e := &a.env
	e.DataDir = a.flags.dataDir
	e.Stop = a.stop
	e.Log = a.providerLog()
	if a.flags.simulate {
		e.Sim = workspace.SimOptions{Enabled: true, Profile: a.flags.simProfile, Seed: a.flags.simSeed}
	}
	return e
}

// inputs are the recipe inputs this command line gives.
func (a *app) inputs(recipe string) workspace.Inputs {
	return workspace.Inputs{Recipe: recipe, Vars: a.flags.vars, VarFiles: a.flags.varFiles, Site: a.flags.site,
		Provider: a.flags.provider, Workspace: a.flags.workspace}
}

// load loads a recipe's workspace and prints the load's warnings.
func (a *app) load(recipe string) (*workspace.Workspace, error) {
	ws, err := a.workspaceEnv().Load(a.inputs(recipe))
	if err != nil {
		return nil, err
	}
	a.printDiags(ws.Files, ws.Warnings)
	return ws, nil
}

// providerLog is the writer providers log to.
func (a *app) providerLog() *views.LogRouter {
	if a.logs == nil {
		a.logs = views.NewLogRouter(a.stderr)
	}
	return a.logs
}

// terminal describes stdout for the views: color unless -no-color,
// NO_COLOR (https://no-color.org) or TERM=dumb say otherwise.
func (a *app) terminal() views.Terminal {
	color := !a.flags.noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return views.Terminal{Out: a.stdout, Color: color}
}

// printDiags writes diagnostics with the offending source underlined.
func (a *app) printDiags(files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	width, color := 0, false
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, _ = term.GetSize(int(f.Fd()))
		color = a.terminal().Color
	}
	w := hcl.NewDiagnosticTextWriter(a.stderr, files, uint(width), color)
	_ = w.WriteDiagnostics(diags)
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
	pf.BoolVar(&a.flags.noColor, "no-color", false, "plain output without colors (also when NO_COLOR is set)")
	root.DisableAutoGenTag = true // docs/commands stay byte-identical between runs
	root.AddCommand(a.validateCmd(), a.planCmd(), a.applyCmd(), a.destroyCmd(), a.graphCmd(), a.recipesCmd(),
		a.verifyCmd(), a.benchCmd(), a.outputCmd(), a.stateCmd(), a.hostsCmd(), a.logsCmd(), a.sshCmd(),
		a.versionCmd(), a.imageCmd(), a.fmtCmd())
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
