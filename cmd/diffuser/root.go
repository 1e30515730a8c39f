package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"strings"
	"time"

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
	stepTimeout time.Duration
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
	remembered  bool
	lockTimeout time.Duration
	keepRuns    int
	keepRunsSet bool
	// limits: -max-connects, -max-uploads, -max-sessions-per-host;
	// changed says which were given (the others come from the site file).
	maxConnects, maxUploads, maxSessions int
	changed                              func(name string) bool
	run                                  string
	ttl                                  string
	expired                              bool
	allWS                                bool
}

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stop           <-chan struct{}
	args           []string // the command line, for the run record
	flags          flags
	ttl            *time.Duration // --ttl, parsed
	// env is the workspace layer's environment; tests set its Factories
	// and Connector before running a command.
	env workspace.Env
	// logs carries provider log lines: to stderr, or above the live view.
	logs *views.LogRouter
	// getenv reads the process environment (os.Getenv, set by main); nil
	// is an empty environment, so a test states what it sets.
	getenv func(string) string
}

// lookupEnv is the value of an environment variable, "" when unset.
func (a *app) lookupEnv(key string) string {
	if a.getenv == nil {
		return ""
	}
	return a.getenv(key)
}

// execute runs one command line and returns the process exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	a.args = args
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
		fmt.Fprintf(a.stderr, "Error: %s\n", views.Printable(withTerraformHint(err).Error()))
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
	e.LockTimeout = a.flags.lockTimeout
	e.SiteFile = a.flags.site
	if a.flags.simulate {
		e.Sim = workspace.SimOptions{Enabled: true, Profile: a.flags.simProfile, Seed: a.flags.simSeed}
	}
	return e
}

// inputs are the recipe inputs this command line gives.
func (a *app) inputs(recipe string) workspace.Inputs {
	return workspace.Inputs{Recipe: recipe, Vars: a.flags.vars, VarFiles: a.flags.varFiles, Site: a.flags.site,
		Provider: a.flags.provider, Workspace: a.flags.workspace, IgnoreRemembered: !a.flags.remembered}
}

// remembered is what a loaded workspace took from its remembered inputs,
// for the views.
func remembered(ws *workspace.Workspace) views.Remembered {
	return views.Remembered{Workspace: ws.Name, Used: ws.Remembered}
}

// loadInputs loads a recipe's workspace and prints the load's warnings and, on
// stderr (graph's stdout is DOT), the remembered inputs it used.
func (a *app) loadInputs(in workspace.Inputs) (*workspace.Workspace, error) {
	ws, err := a.workspaceEnv().Load(in)
	if err != nil {
		return nil, err
	}
	a.printDiags(ws.Files, ws.Warnings)
	views.WriteRemembered(a.stderr, remembered(ws))
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
	color := !a.flags.noColor && a.lookupEnv("NO_COLOR") == "" && a.lookupEnv("TERM") != "dumb"
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
	shown, rest := diags, hcl.Diagnostics(nil)
	if len(diags) > maxShownDiags {
		shown, rest = diags[:maxShownDiags], diags[maxShownDiags:]
	}
	shown = printableDiags(views.ClipWithLines(shown))
	shown, files = printableFilenames(shown, printableSources(withVarSources(files, shown), shown))
	w := hcl.NewDiagnosticTextWriter(a.stderr, files, uint(width), color)
	_ = w.WriteDiagnostics(shown)
	if len(rest) > 0 {
		errs := len(rest.Errs())
		fmt.Fprintf(a.stderr, "\n%d more error(s) and %d warning(s) are not shown: fix the ones above and run again.\n", errs, len(rest)-errs)
	}
}

// printableDiags are copies of diags whose summary, detail and -var
// source name show control characters as escapes (views.Printable): a
// detail may quote a value or a host's output, and a -var's text is its
// source.
func printableDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Summary, c.Detail = views.Printable(d.Summary), views.Printable(d.Detail)
		if d.Subject != nil && strings.HasPrefix(d.Subject.Filename, "<-var ") {
			subj := *d.Subject
			subj.Filename = views.Printable(subj.Filename)
			c.Subject = &subj
		}
		out[i] = &c
	}
	return out
}

// printableSources is files with the text of each file a diagnostic
// quotes made safe for a terminal (views.PrintableSource): a recipe from
// elsewhere may hold escape sequences in a string or a comment, which the
// snippet printed raw. Files no diagnostic quotes are passed as they are.
func printableSources(files map[string]*hcl.File, diags hcl.Diagnostics) map[string]*hcl.File {
	out, done, cloned := files, map[string]bool{}, false
	fix := func(r *hcl.Range) {
		if r == nil || done[r.Filename] || files[r.Filename] == nil {
			return
		}
		done[r.Filename] = true
		f := files[r.Filename]
		b := views.PrintableSource(f.Bytes)
		if bytes.Equal(b, f.Bytes) {
			return
		}
		if !cloned {
			out, cloned = maps.Clone(files), true
		}
		out[r.Filename] = &hcl.File{Body: f.Body, Bytes: b, Nav: f.Nav}
	}
	for _, d := range diags {
		fix(d.Subject)
		fix(d.Context)
	}
	return out
}

// printableFilenames is diags with the file name of each subject and
// context shown as text (views.Printable), and files with each such file
// under that name too, so that its line is still quoted: a recipe from
// elsewhere may name a file or a module directory with terminal escapes,
// and the writer prints the name on every diagnostic's "on FILE line N".
func printableFilenames(diags hcl.Diagnostics, files map[string]*hcl.File) (hcl.Diagnostics, map[string]*hcl.File) {
	cloned := false
	rename := func(r *hcl.Range) *hcl.Range {
		if r == nil || views.Printable(r.Filename) == r.Filename {
			return r
		}
		c := *r
		c.Filename = views.Printable(r.Filename)
		if f := files[r.Filename]; f != nil {
			if !cloned {
				files, cloned = maps.Clone(files), true
			}
			files[c.Filename] = f
		}
		return &c
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Subject, c.Context = rename(d.Subject), rename(d.Context)
		out[i] = &c
	}
	return out, files
}

// maxShownDiags bounds the diagnostics printed at once: HCL's text writer
// reads the file from its start for each one's snippet, so a large file
// with thousands of mistakes (3,000 moved blocks to nowhere) took minutes
// to print, and no one reads past the first few.
const maxShownDiags = 25

// withVarSources adds to files the text of each -var a diagnostic points
// at (its range is named "<-var NAME=VALUE>"), so the writer shows the
// value underlined as it does a file's line, not "(source code not
// available)". A sensitive -var's range is named by the variable only, and
// stays without source.
func withVarSources(files map[string]*hcl.File, diags hcl.Diagnostics) map[string]*hcl.File {
	var out map[string]*hcl.File
	for _, d := range diags {
		if d.Subject == nil {
			continue
		}
		name := d.Subject.Filename
		kv, ok := strings.CutPrefix(name, "<-var ")
		if !ok || !strings.HasSuffix(kv, ">") || files[name] != nil {
			continue
		}
		if out == nil {
			out = make(map[string]*hcl.File, len(files)+1)
			for k, f := range files {
				out[k] = f
			}
		}
		out[name] = &hcl.File{Bytes: []byte(strings.TrimSuffix(kv, ">"))}
	}
	if out == nil {
		return files
	}
	return out
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "diffuser",
		Short: "Deploy distributed filesystems onto clusters and keep them as declared",
		Long: `diffuser deploys distributed filesystems (GlusterFS, Ceph, NFS, MooseFS, OrangeFS, or your
own recipe) onto machines: local containers (docker, the default), EC2-compatible clouds
(aws) or machines you already have (static). A recipe is a graph of steps; diffuser diffs it
against saved state and runs independent steps concurrently.

DIFFUSER_STATE_KEY (or DIFFUSER_STATE_KEY_FILE, a 0600 file holding it) encrypts state, its
journal and backup and saved plans with AES-256-GCM: 64 hex digits (openssl rand -hex 32) or a
passphrase of at least 16 characters. Encrypted state is refused without its key (docs/secrets.md).

Every command that works on clusters or workspaces (all but validate, fmt, graph, recipes,
version, completion and help) first removes the docker clusters of this machine whose
deadline (apply --ttl) has passed, saying so on stderr; DIFFUSER_NO_SWEEP=1 turns that off
(docs/expiry.md).`,
		Example: `  diffuser plan glusterfs                 # what would change, nothing touched
  diffuser apply glusterfs -auto-approve  # launch, install, format, start daemons, mount
  diffuser verify glusterfs               # write on one client, read on another
  diffuser destroy glusterfs              # everything it made is gone`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       thisVersion().Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.flags.lockTimeout < 0 {
				return fmt.Errorf("--lock-timeout is %s: give how long to wait for the lock (30s, 5m), or 0 to fail at once", a.flags.lockTimeout)
			}
			if err := checkDataDir(a.flags.dataDir); err != nil {
				return err
			}
			if err := checkSimFlags(cmd); err != nil {
				return err
			}
			key, err := workspace.StateKeyFromEnv(a.lookupEnv)
			if err != nil {
				return err
			}
			a.env.StateKey = key
			if a.sweeps(cmd) {
				a.workspaceEnv().SweepExpired(cmd.Context(), a.stderr)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(flagError)
	root.SetVersionTemplate(views.VersionTemplate)
	root.InitDefaultVersionFlag() // now, so that -version is normalized and documented
	root.Flags().Lookup("version").Usage = "print diffuser's version, as diffuser version does"
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.dataDir, "data-dir", ".diffuser", "directory for state, keys and run history (logs, timelines)")
	pf.BoolVar(&a.flags.noColor, "no-color", false, "plain output without colors (also when NO_COLOR is set)")
	root.DisableAutoGenTag = true // docs/commands stay byte-identical between runs
	root.AddCommand(a.validateCmd(), a.planCmd(), a.applyCmd(), a.destroyCmd(), a.graphCmd(), a.recipesCmd(),
		a.verifyCmd(), a.benchCmd(), a.compareCmd(), a.outputCmd(), a.varsCmd(), a.stateCmd(), a.importCmd(), a.hostsCmd(), a.runsCmd(), a.showCmd(),
		a.logsCmd(), a.sshCmd(), a.workspaceCmd(), a.versionCmd(), a.imageCmd(), a.fmtCmd())
	// Before the completion command: cobra binds its output when it is added.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	addCompletionCmd(root)
	requireSubcommands(root)
	usageOnArgErrors(root)
	a.completeArgs(root)
	return root
}

// usageOnArgErrors makes a wrong number of arguments name the command's
// usage line: cobra's own message ("accepts 1 arg(s), received 2") says
// neither which arguments nor where to read about them.
func usageOnArgErrors(c *cobra.Command) {
	for _, sub := range c.Commands() {
		usageOnArgErrors(sub)
	}
	check := c.Args
	if check == nil || c.HasSubCommands() {
		return // no rule, or requireSubcommands' own message
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return fmt.Errorf("%w: usage: %s (see %s -h)", err, cmd.UseLine(), cmd.CommandPath())
		}
		return nil
	}
}

// requireSubcommands makes every command that only groups others (state,
// recipes, image, completion) print its help when called alone and fail
// with status 1 on an unknown subcommand: cobra would print the help and
// exit 0 for `diffuser state frobnicate`, as if it had worked. The root
// command already refuses unknown commands.
func requireSubcommands(root *cobra.Command) {
	for _, c := range root.Commands() {
		requireSubcommands(c)
		if !c.HasSubCommands() || c.Runnable() {
			continue
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if cmd.SuggestionsMinimumDistance <= 0 {
				cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, ", ") + "?"
			}
			var subs []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					subs = append(subs, sub.Name())
				}
			}
			return fmt.Errorf("%s (its commands: %s; see %s --help)", msg, strings.Join(subs, ", "), cmd.CommandPath())
		}
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	}
}

// checkSimFlags refuses --sim-profile and --sim-seed without --simulate:
// they would be ignored and the command would launch and run for real.
func checkSimFlags(cmd *cobra.Command) error {
	f := cmd.Flags()
	if f.Lookup("simulate") == nil {
		return nil
	}
	if sim, _ := f.GetBool("simulate"); sim {
		return nil
	}
	for _, name := range []string{"sim-profile", "sim-seed"} {
		if f.Changed(name) {
			return fmt.Errorf("--%s is for simulated runs only: add --simulate (without it, this command launches and runs on real hosts)", name)
		}
	}
	return nil
}

// recipeFlags adds the flags that select and parameterize a recipe.
func (a *app) recipeFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringArrayVar(&a.flags.vars, "var", nil, "set a recipe variable, NAME=VALUE (repeatable)")
	f.StringArrayVar(&a.flags.varFiles, "var-file", nil, "read variable values from a file: HCL (NAME = VALUE lines), or JSON when its name ends in .json (repeatable)")
	f.StringVar(&a.flags.site, "site", "", "site file with provider settings (default: the last apply's, else ./diffuser.hcl when present)")
	f.StringVar(&a.flags.provider, "provider", "", "where hosts come from: docker, aws or static (default: the last apply's, else the site's default_provider, else docker)")
	f.StringVar(&a.flags.workspace, "workspace", "", "workspace name (default: the recipe's name)")
	f.BoolVar(&a.flags.remembered, "remembered", true, "use the variables, provider and site file the workspace's last apply ran with, for those not given (see diffuser vars)")
	f.BoolVar(&a.flags.simulate, "simulate", false, "simulated hosts and steps: nothing is launched or run (see --sim-profile)")
	f.StringVar(&a.flags.simProfile, "sim-profile", "", "JSON file of per-kind durations and failure rates for --simulate")
	f.Uint64Var(&a.flags.simSeed, "sim-seed", 0, "seed for --simulate's draws (same seed, same run)")
}

func (a *app) planFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&a.flags.json, "json", false, "print JSON: plan one document, apply JSON lines of the plan, events and a summary (docs/json.md)")
	f.BoolVar(&a.flags.refresh, "refresh", true, "ask hosts whether recorded work still holds (when hosts exist)")
	f.StringArrayVar(&a.flags.targets, "target", nil, "limit to an address (step.NAME, step.NAME[\"HOST\"], module.NAME, module.NAME.step.NAME, hosts.GROUP, HOST) and what it needs")
	f.StringArrayVar(&a.flags.replace, "replace", nil, "recreate a host (server[1]; a live one is drained first where the recipe has a drain) or re-run a step instance (step.NAME[\"HOST\"]; a service is restarted, a run step's command runs whatever its creates or unless say); an address the recipe does not have is an error")
}

// noSweepCommands are the commands that work on files or print, not on
// clusters: they never sweep expired clusters.
var noSweepCommands = map[string]bool{"validate": true, "fmt": true, "graph": true, "recipes": true, "version": true,
	"completion": true, "help": true, cobra.ShellCompRequestCmd: true, cobra.ShellCompNoDescRequestCmd: true}

// sweeps says whether cmd first sweeps the expired docker clusters of this
// machine: every command that works on clusters or workspaces, unless
// DIFFUSER_NO_SWEEP is set (to anything but 0) or the app has no sweeper
// (tests).
func (a *app) sweeps(cmd *cobra.Command) bool {
	if a.env.Sweeper == nil {
		return false
	}
	if v := a.lookupEnv("DIFFUSER_NO_SWEEP"); v != "" && v != "0" {
		return false
	}
	if cmd.HasSubCommands() {
		return false // a group alone (diffuser state) prints its help
	}
	top := cmd
	for top.HasParent() && top.Parent().HasParent() {
		top = top.Parent()
	}
	return top.HasParent() && !noSweepCommands[top.Name()]
}

// checkDataDir refuses a --data-dir that cannot hold workspaces: empty
// (an unset shell variable), a file, or below one. A missing directory is
// made when a command first writes.
func checkDataDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("--data-dir is empty: give a directory, or leave the flag out for .diffuser")
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("--data-dir %s is a file, not a directory: give a directory (diffuser makes it when it is missing)", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--data-dir %s: %w: give a directory (diffuser makes it when it is missing)", dir, err)
	}
	return nil
}
