package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"diffuser/engine"
	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) applyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "apply RECIPE|PLANFILE",
		Short: "Make the cluster match the recipe: launch, install, format, start, mount",
		Long: `apply plans first (like plan), asks for confirmation unless -auto-approve, then runs every
change concurrently in dependency order. State is saved after every finished step instance,
so a killed or failed apply resumes where it stopped. Given a file written by plan -out,
it applies exactly that plan and refuses it if state changed since (naming the run that
changed it, when this machine keeps it), if the recipe or a -var-file changed, if a
variable is not the value the plan was made with (the site file changed, or the plan file
was edited), or if planning again does not make exactly its actions with the same
arguments (a file the recipe reads changed): it says what differs. When the plan's refresh
found drift, apply asks the hosts again and refuses the plan if they no longer answer so
(the drift was repaired, or there is more). A plan file keeps only a digest of each
sensitive -var: give those values again (apply PLANFILE -var NAME=VALUE). The plan file
fixes what shapes the plan: apply PLANFILE refuses the other -var, -var-file, -target,
-replace, -refresh, -site, -provider, -workspace, -remembered and --simulate (with
--sim-profile, --sim-seed); give them to plan -out. --ttl and the flags of the run
(-parallelism, the -max-* limits, -step-timeout, -keep-runs, -progress) apply as given.

apply records in state the inputs it runs with: the provider, the site file and every
variable set with -var or -var-file (a sensitive one only as a salted digest). Later
commands on the workspace use them for what they are not given; diffuser vars shows them.

Every apply that changes something is a run: its record, step logs and timeline go to
<data-dir>/<workspace>/runs/<id>/, and the workspace keeps the last 20 runs (-keep-runs, or
keep_runs in the site file). diffuser runs lists them, diffuser show RUN renders one and
diffuser logs reads their logs.

Every step instance whose prerequisites are done starts at once: by default nothing caps
how many run, since they mostly wait on their hosts, and an apply finishes close to its
critical path (docs/scale.md). What costs the controller and the hosts is bounded on its
own, and only around the work that needs it: -max-connects SSH connections being made at
once (key exchanges; keep it at or below 10 behind one bastion, whose sshd MaxStartups
refuses more), -max-uploads file uploads at once over all hosts, -max-sessions-per-host
commands and uploads at once on one host (sshd's MaxSessions is 10 by default). The site
file may set them too (max_connects, max_uploads, max_sessions_per_host); 0 is no limit.
-parallelism N caps the step instances running at once, for those who want a cap.

--ttl 4h (or ttl in the site file) gives the cluster a deadline, now plus the ttl: state records
it, launches mark it (docker label, aws tag; aws instances also terminate themselves then),
diffuser workspace list shows it and diffuser destroy --expired sweeps the cluster once it
has passed; on docker any later diffuser command on this machine removes it then. Every apply
given a ttl renews the deadline from now (that is how it is extended); --ttl 0 removes it.
See docs/expiry.md.`,
		Example: `  diffuser apply glusterfs -auto-approve
  diffuser apply glusterfs --ttl 4h
  diffuser apply glusterfs -var servers=3 -var replica=3
  diffuser apply plan.json
  diffuser apply glusterfs -keep-runs 50`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.flags.keepRunsSet = cmd.Flags().Changed("keep-runs")
			a.flags.changed = cmd.Flags().Changed
			if err := a.parseTTL(cmd); err != nil {
				return err
			}
			return a.runApply(cmd.Context(), args[0], false)
		},
	}
	a.recipeFlags(c)
	a.planFlags(c)
	a.applyFlags(c)
	c.Flags().StringVar(&a.flags.ttl, "ttl", "", "give the cluster a deadline, now plus this (90m, 4h, 7d; 0 removes it); default: the site file's ttl, else the deadline state has")
	c.Flags().DurationVar(&a.flags.stepTimeout, "step-timeout", engine.DefaultStepTimeout,
		"longest one attempt of a step without its own `timeout` may run before it fails (0 = no limit)")
	return c
}

func (a *app) applyFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&a.flags.autoApprove, "auto-approve", false, "do not ask for confirmation")
	f.IntVar(&a.flags.parallelism, "parallelism", 0, "most step instances running at once (0 = no limit: the limits below bound what is scarce)")
	f.IntVar(&a.flags.maxConnects, "max-connects", engine.DefaultConnects, "most SSH connections being made at once: key exchanges, and retries while hosts boot (0 = no limit; a site file's max_connects replaces the default)")
	f.IntVar(&a.flags.maxUploads, "max-uploads", engine.DefaultUploads, "most file uploads at once over all hosts (0 = no limit; a site file's max_uploads replaces the default)")
	f.IntVar(&a.flags.maxSessions, "max-sessions-per-host", engine.DefaultSessionsPerHost, "most commands and uploads at once on one host, each an SSH session; sshd refuses more than its MaxSessions, 10 by default (0 = no limit; a site file's max_sessions_per_host replaces the default)")
	f.StringVar(&a.flags.progress, "progress", "auto", "progress output: auto (tty on a terminal, else plain), tty, plain, json or quiet")
	a.lockFlag(c)
	f.IntVar(&a.flags.keepRuns, "keep-runs", 0, "runs (logs, timeline, record) the workspace keeps, this one included; 0 keeps all (default: the site file's keep_runs, else 20)")
}

func (a *app) destroyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "destroy RECIPE",
		Short: "Undo everything this workspace made (or what -target names): destroy commands, then hosts",
		Long: `destroy runs the destroy commands of applied steps (latest first), then releases every host
and the cluster's network or security group. It only touches what this workspace's state
says it made. It uses the variables, provider and site file of the last apply (diffuser vars)
for those not given, and leaves them remembered for a later apply. Like apply, it is recorded
as a run with its own logs and timeline; the runs of earlier applies stay (diffuser runs).

With -target (repeatable) it destroys only the hosts and step instances the targets name in
state, and everything that depends on them, as Terraform does: the step instances on a
targeted host, and every step instance that waits for something destroyed (through the
recipe's after, after_all and references, on any host). The plan gives each one's reason
("targeted", "its host server[1] is destroyed", "depends on step.volume[\"server[0]\"], which
is destroyed"). Outputs that read what is destroyed are forgotten; the next apply brings
everything back. Pass the -var values the cluster was applied with: dependents are found in
the recipe as loaded.

With --expired it destroys the workspace only if its deadline (apply --ttl) has passed; with
--all-workspaces too, every workspace under the data directory whose deadline has passed,
each with the recipe, provider, site file and variables of its last apply. Docker has no way
to end a container at a deadline: any diffuser command on the machine first removes the
expired docker clusters (DIFFUSER_NO_SWEEP=1 turns that off), and this sweep, run from cron
or a systemd timer, also covers the workspaces that one leaves (hosts on other providers,
state in a bucket); aws instances also end themselves. See docs/expiry.md.`,
		Example: `  diffuser destroy glusterfs -auto-approve
  diffuser destroy --expired --all-workspaces -auto-approve
  diffuser destroy glusterfs -target 'server[1]'
  diffuser destroy glusterfs -target 'step.mount["client[0]"]' -target hosts.client`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.flags.keepRunsSet = cmd.Flags().Changed("keep-runs")
			a.flags.changed = cmd.Flags().Changed
			if a.flags.expired || a.flags.allWS {
				return a.sweepExpired(cmd.Context(), args)
			}
			if len(args) != 1 {
				return fmt.Errorf("destroy takes one RECIPE (or --expired to sweep clusters past their deadline)")
			}
			return a.runApply(cmd.Context(), args[0], true)
		},
	}
	c.Flags().BoolVar(&a.flags.expired, "expired", false, "destroy only if the cluster's deadline (apply --ttl) has passed")
	c.Flags().BoolVar(&a.flags.allWS, "all-workspaces", false, "with --expired: every workspace under the data directory whose deadline has passed")
	a.recipeFlags(c)
	a.applyFlags(c)
	c.Flags().BoolVar(&a.flags.json, "json", false, "print machine-readable JSON lines: the plan, events, a summary (docs/json.md)")
	c.Flags().StringArrayVar(&a.flags.targets, "target", nil, "destroy only this address (HOST, hosts.GROUP, step.NAME, step.NAME[\"HOST\"], module.NAME, module.NAME.step.NAME) and what depends on it (repeatable)")
	return c
}

func (a *app) confirm(question string) (bool, error) {
	if a.flags.autoApprove {
		return true, nil
	}
	if a.stdin == nil {
		return false, errors.New("no input to confirm from: pass --auto-approve")
	}
	fmt.Fprintf(a.stdout, "\n%s\n  Only 'yes' will be accepted.\n\n  Enter a value: ", question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, errors.New("no confirmation read: pass --auto-approve")
	}
	return strings.TrimSpace(line) == "yes", nil
}

// planShapingFlags are the flags of apply that a saved plan fixes when
// it is made (plan -out), with what it fixes: apply PLANFILE refuses them
// rather than run a plan other than the one they ask for. (-var is
// refused by SavedPlan.GiveSecrets but for the sensitive variables a
// plan file does not store.)
var planShapingFlags = []struct{ name, what string }{
	{"target", "its targets"},
	{"replace", "its replacements"},
	{"refresh", "whether it refreshes"},
	{"var-file", "its -var-files"},
	{"site", "its site file"},
	{"provider", "its provider"},
	{"workspace", "its workspace"},
	{"remembered", "whether it uses the workspace's remembered inputs"},
	// (--sim-profile and --sim-seed without --simulate are refused
	// before: checkSimFlags.)
	{"sim-profile", "its simulation profile"},
	{"sim-seed", "its simulation seed"},
	{"simulate", "whether it is simulated"},
}

// refusePlanShapingFlags refuses, for apply PLANFILE, a flag given on the
// command line that the plan file fixes: apply used to ignore it and run
// the saved plan as it was (apply plan.out -target X applied everything).
func (a *app) refusePlanShapingFlags() error {
	if a.flags.changed == nil {
		return nil
	}
	for _, f := range planShapingFlags {
		if a.flags.changed(f.name) {
			return fmt.Errorf("--%s cannot be given with a plan file: the plan file fixes %s when it is made; give --%s to plan -out instead (or apply the recipe)",
				f.name, f.what, f.name)
		}
	}
	return nil
}

func (a *app) runApply(ctx context.Context, arg string, destroy bool) error {
	if a.flags.parallelism < 0 {
		return fmt.Errorf("--parallelism is %d: give a positive number, or 0 for no limit", a.flags.parallelism)
	}
	for _, l := range []struct {
		name string
		v    int
	}{{"max-connects", a.flags.maxConnects}, {"max-uploads", a.flags.maxUploads}, {"max-sessions-per-host", a.flags.maxSessions}} {
		if l.v < 0 {
			return fmt.Errorf("--%s is %d: give a positive number, or 0 for no limit", l.name, l.v)
		}
	}
	if a.flags.stepTimeout < 0 {
		return fmt.Errorf("--step-timeout is %s: give a positive duration such as 45m, or 0 for no limit", a.flags.stepTimeout)
	}
	if a.flags.keepRunsSet && a.flags.keepRuns < 0 {
		return fmt.Errorf("--keep-runs is %d: give how many runs to keep, or 0 to keep them all", a.flags.keepRuns)
	}
	mode := a.flags.progress
	if a.flags.json {
		mode = views.ProgressJSON
	}
	mode, err := views.ProgressMode(mode, a.terminal())
	if err != nil {
		return err
	}
	env := a.workspaceEnv()
	command := "apply"
	if destroy {
		command = "destroy"
	}
	var pl *workspace.Planned
	planFile := ""
	if !destroy && workspace.IsPlanFile(arg) {
		planFile = arg
		if err := a.refusePlanShapingFlags(); err != nil {
			return err
		}
		sp, err := env.ReadPlanFile(arg)
		if err != nil {
			return err
		}
		if err := sp.GiveSecrets(a.flags.vars); err != nil {
			return err
		}
		a.flags.autoApprove = true // the plan was reviewed when it was made
		pl, err = env.PlanSaved(ctx, sp)
		if err != nil {
			return err
		}
		// --ttl shapes no plan: the deadline is set when apply starts.
		pl.Request.TTL = a.ttl
	} else {
		pl, err = env.Plan(ctx, a.planRequest(arg, command, destroy))
		if err != nil {
			return err
		}
	}
	defer pl.Close()
	a.printDiags(pl.WS.Files, pl.WS.Warnings)
	plan := pl.Plan
	if mode == views.ProgressJSON {
		if !a.flags.autoApprove && plan.HasChanges() {
			return errors.New("--progress=json (or --json) writes JSON lines and cannot ask for confirmation: pass --auto-approve")
		}
		_ = views.WritePlanJSONLine(a.stdout, plan, remembered(pl.WS))
	} else {
		views.WriteRemembered(a.stdout, remembered(pl.WS))
		views.WritePlan(a.stdout, plan)
		if ttl, ok := pl.TTLAhead(); ok {
			views.WriteDeadlineAhead(a.stdout, ttl, time.Now())
		}
	}
	if !plan.HasChanges() {
		return pl.SaveUnchanged()
	}
	if err := pl.CheckDeadline(); err != nil {
		return err
	}
	q := "Do you want to perform these actions?"
	switch {
	case destroy && len(plan.Targets) > 0:
		q = fmt.Sprintf("Do you really want to destroy these %d hosts and step instances?", len(plan.Destroys))
	case destroy:
		q = "Do you really want to destroy everything this workspace made?"
	}
	ok, err := a.confirm(q)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(a.stdout, "Cancelled: nothing was changed.")
		return nil
	}
	prog := views.NewProgress(a.terminal(), mode, plan, a.providerLog())
	opt := workspace.ApplyOptions{Parallelism: a.flags.parallelism, OnEvent: prog.Event, StepTimeout: stepTimeoutOpt(a.flags.stepTimeout),
		Command: append([]string{"diffuser"}, a.args...), PlanFile: planFile}
	if a.flags.keepRunsSet {
		opt.KeepRuns = &a.flags.keepRuns
	}
	if a.flags.changed != nil {
		for _, l := range []struct {
			name string
			v    *int
			dst  **int
		}{{"max-connects", &a.flags.maxConnects, &opt.MaxConnects}, {"max-uploads", &a.flags.maxUploads, &opt.MaxUploads},
			{"max-sessions-per-host", &a.flags.maxSessions, &opt.MaxSessionsPerHost}} {
			if a.flags.changed(l.name) {
				*l.dst = l.v
			}
		}
	}
	res, saveErr := pl.Apply(ctx, opt)
	prog.Close()
	if res == nil {
		return saveErr
	}
	run := pl.Run
	timeline, tlErr := views.WriteTimeline(run.TimelinePath(), command, plan, res)
	if mode == views.ProgressJSON {
		views.SummaryJSON(a.stdout, a.stderr, command, res.Outcome(), pl.WS.State.Outputs, run.ID, timeline)
	} else {
		views.Summary(a.stdout, a.stderr, command, res.Outcome(), pl.WS.State.Outputs)
		fmt.Fprintf(a.stdout, "\nRun: %s (diffuser show %s)\n", run.ID, run.ID)
		if timeline != "" {
			fmt.Fprintf(a.stdout, "Timeline: %s\n", timeline)
		}
	}
	if tlErr != nil {
		fmt.Fprintf(a.stderr, "Warning: writing the timeline: %v\n", tlErr)
	}
	if saveErr != nil {
		return saveErr
	}
	if len(res.Failures) > 0 {
		return &shownError{len(res.Failures)}
	}
	if ctx.Err() != nil || res.Skipped > 0 {
		return &shownError{1}
	}
	return nil
}

// stepTimeoutOpt maps the -step-timeout flag (0 = no limit) to
// workspace.ApplyOptions.StepTimeout (0 = the default, negative = none).
func stepTimeoutOpt(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
