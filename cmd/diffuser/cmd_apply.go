package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"diffuser/engine"

	"github.com/spf13/cobra"
)

func (a *app) applyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "apply RECIPE|PLANFILE",
		Short: "Make the cluster match the recipe: launch, install, format, start, mount",
		Long: `apply plans first (like plan), asks for confirmation unless -auto-approve, then runs every
change concurrently in dependency order. State is saved after every finished step instance,
so a killed or failed apply resumes where it stopped. Given a file written by plan -out,
it applies exactly that plan and refuses it if state changed since.`,
		Example: `  diffuser apply glusterfs -auto-approve
  diffuser apply glusterfs -var servers=3 -var replica=3
  diffuser apply plan.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runApply(cmd.Context(), args[0], false)
		},
	}
	a.recipeFlags(c)
	a.planFlags(c)
	a.applyFlags(c)
	return c
}

func (a *app) applyFlags(c *cobra.Command) {
	f := c.Flags()
	f.BoolVar(&a.flags.autoApprove, "auto-approve", false, "do not ask for confirmation")
	f.IntVar(&a.flags.parallelism, "parallelism", 64, "most step instances running at once (0 = no limit)")
	f.StringVar(&a.flags.progress, "progress", "auto", "progress output: auto (tty on a terminal, else plain), tty, plain, json or quiet")
}

func (a *app) destroyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "destroy RECIPE",
		Short: "Undo everything this workspace made: destroy commands, then hosts",
		Long: `destroy runs the destroy commands of applied steps (latest first), then releases every host
and the cluster's network or security group. It only touches what this workspace's state
says it made.`,
		Example: `  diffuser destroy glusterfs -auto-approve`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runApply(cmd.Context(), args[0], true)
		},
	}
	a.recipeFlags(c)
	a.applyFlags(c)
	c.Flags().BoolVar(&a.flags.json, "json", false, "print machine-readable JSON events")
	return c
}

func (a *app) confirm(question string) (bool, error) {
	if a.flags.autoApprove {
		return true, nil
	}
	if a.stdin == nil {
		return false, errors.New("no input to confirm from: pass -auto-approve")
	}
	fmt.Fprintf(a.stdout, "\n%s\n  Only 'yes' will be accepted.\n\n  Enter a value: ", question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, errors.New("no confirmation read: pass -auto-approve")
	}
	return strings.TrimSpace(line) == "yes", nil
}

func (a *app) runApply(ctx context.Context, arg string, destroy bool) error {
	if a.flags.parallelism < 0 {
		return fmt.Errorf("--parallelism is %d: give a positive number, or 0 for no limit", a.flags.parallelism)
	}
	mode, err := a.progressMode()
	if err != nil {
		return err
	}
	var saved *savedPlan
	recipeArg := arg
	if !destroy && strings.HasSuffix(arg, ".json") {
		if _, err := os.Stat(arg); err == nil {
			sp, err := readPlan(arg)
			if err != nil {
				return err
			}
			saved = sp
			recipeArg = sp.Recipe.Arg
			a.flags.vars, a.flags.varFiles, a.flags.site = sp.Vars, sp.VarFiles, sp.Site
			a.flags.provider, a.flags.workspace, a.flags.replace, a.flags.targets = sp.Provider, sp.Workspace, sp.Replace, sp.Targets
			a.flags.simulate, a.flags.simSeed, a.flags.simProfile = sp.Simulate, sp.SimSeed, sp.SimProf
			a.flags.refresh = false
			a.flags.autoApprove = true
		}
	}
	command := "apply"
	if destroy {
		command = "destroy"
	}
	pl, err := a.makePlan(ctx, recipeArg, true, destroy, command)
	if err != nil {
		return err
	}
	defer pl.close()
	plan := pl.plan
	if saved != nil {
		if saved.Recipe.Digest != pl.ws.source.Digest {
			return fmt.Errorf("the saved plan is stale: the recipe changed since it was made; run plan again")
		}
		// A plan made on an empty workspace has no lineage to compare yet.
		fresh := saved.Serial == 0 && plan.Serial == 0
		if !fresh && (saved.Lineage != plan.Lineage || saved.Serial != plan.Serial) {
			return fmt.Errorf("the saved plan is stale: state changed since it was made (serial %d, now %d); run plan again", saved.Serial, plan.Serial)
		}
		if err := plan.Pin(saved.Actions); err != nil {
			return err
		}
	}
	if mode == progressJSON {
		if !a.flags.autoApprove && plan.HasChanges() {
			return errors.New("--progress=json (or -json) writes JSON lines and cannot ask for confirmation: pass -auto-approve")
		}
		_ = writePlanJSONLine(a.stdout, plan)
	} else {
		writePlan(a.stdout, plan)
	}
	if !plan.HasChanges() {
		return pl.ws.saveState(plan)
	}
	q := "Do you want to perform these actions?"
	if destroy {
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
	pl.ws.st.Recipe = pl.ws.loaded.Recipe.Name
	pl.ws.st.Provider = pl.ws.provider
	if pl.ws.st.Serial == 0 {
		// Nothing is on disk yet, not even the lineage the cluster name is
		// made of: write it before anything is launched, or an apply killed
		// before its first record would leave hosts under a name the next
		// apply never looks for.
		pl.ws.cluster()
		if err := pl.ws.saveState(plan); err != nil {
			return err
		}
	}
	prog, err := a.newProgress(plan)
	if err != nil {
		return err
	}
	res := plan.Apply(ctx, pl.ws.st, engine.ApplyOptions{Provider: pl.provider, Cluster: pl.ws.cluster(), Connector: pl.conn,
		Recorder: storeRecorder{pl.ws.store}, Parallelism: a.flags.parallelism, Stop: a.stop, OnEvent: prog.event,
		DataDir: a.flags.dataDir})
	prog.close()
	saveErr := pl.ws.saveState(plan)
	timeline, tlErr := writeTimeline(pl.ws.dir, command, plan, res)
	if mode == progressJSON {
		a.summarizeJSON(command, res, pl, timeline)
	} else {
		a.summarize(command, res, pl)
		if timeline != "" {
			fmt.Fprintf(a.stdout, "\nTimeline: %s\n", timeline)
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

// saveState compacts the journal into state.json.
func (ws *workspace) saveState(p *engine.Plan) error {
	if err := ws.store.Save(ws.st); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}

func (a *app) summarize(command string, res *engine.Result, pl *planned) {
	w := a.stdout
	wall := res.End.Sub(res.Start).Round(100 * time.Millisecond)
	var sum time.Duration
	for _, s := range res.Spans {
		sum += s.End.Sub(s.Start)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(a.stderr, "Warning: %s\n", warn)
	}
	if len(res.Failures) > 0 {
		fmt.Fprintf(a.stderr, "\n%d step instance(s) failed:\n", len(res.Failures))
		for _, f := range res.Failures {
			fmt.Fprintf(a.stderr, "\n  %s", f.Addr)
			if f.Host != "" {
				fmt.Fprintf(a.stderr, " on host %s", f.Host)
			}
			if f.Exit >= 0 {
				fmt.Fprintf(a.stderr, " exited with status %d", f.Exit)
			}
			fmt.Fprintf(a.stderr, "\n    %s\n", strings.ReplaceAll(f.Err.Error(), "\n", "\n    "))
			if f.Tail != "" {
				fmt.Fprintf(a.stderr, "    last output:\n      %s\n", strings.ReplaceAll(strings.TrimRight(f.Tail, "\n"), "\n", "\n      "))
			}
			if f.Log != "" {
				fmt.Fprintf(a.stderr, "    log: %s\n", f.Log)
			}
		}
		if res.Skipped > 0 {
			fmt.Fprintf(a.stderr, "\n%d dependent step instance(s) were skipped. Fix the cause and run apply again: finished work is not redone.\n", res.Skipped)
		}
	}
	fmt.Fprintf(w, "\n%s finished in %s: %d done, %d failed, %d skipped (step time %s, parallelism %.1f).\n",
		strings.ToUpper(command[:1])+command[1:], wall, res.Ran, len(res.Failures), res.Skipped, sum.Round(100*time.Millisecond), float64(sum)/float64(max(res.End.Sub(res.Start), 1)))
	if len(res.Failures) == 0 && len(pl.ws.st.Outputs) > 0 {
		fmt.Fprintln(w, "\nOutputs:")
		for _, k := range sortedKeys(pl.ws.st.Outputs) {
			o := pl.ws.st.Outputs[k]
			v := o.Value
			if o.Sensitive {
				v = "(sensitive)"
			}
			fmt.Fprintf(w, "  %s = %s\n", k, v)
		}
	}
}
