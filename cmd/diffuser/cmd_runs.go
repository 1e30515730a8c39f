package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"diffuser/engine"
	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) runsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "runs [WORKSPACE]",
		Short: "List the applies and destroys kept in a workspace's history",
		Long: `runs lists the runs (applies and destroys that changed something) kept under
<data-dir>/<workspace>/runs/, newest first: id, operation, start, duration, result and
counts. Without WORKSPACE it lists every workspace's runs. A run whose process was killed
shows as interrupted. Each workspace keeps its last 20 runs unless -keep-runs or the site
file's keep_runs says otherwise.`,
		Example: "  diffuser runs glusterfs\n  diffuser runs\n  diffuser runs glusterfs -json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			runs, err := a.workspaceEnv().Runs(name)
			if err != nil {
				return err
			}
			if a.flags.json {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(append([]*workspace.Run{}, runs...)) // [] when empty, not null
			}
			if len(runs) == 0 {
				where := "under " + a.workspaceEnv().Layout().Root
				if name != "" {
					where = "in workspace " + name
				}
				fmt.Fprintf(a.stdout, "No runs %s: apply and destroy record one each time they change something.\n", where)
				return nil
			}
			infos := make([]views.RunInfo, 0, len(runs))
			for _, r := range runs {
				infos = append(infos, runInfo(r))
			}
			return views.WriteRuns(a.stdout, infos, name == "")
		},
	}
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON: the run records, newest first (without their actions)")
	return c
}

func (a *app) showCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "show RUN|PLANFILE",
		Short: "Render a past run, or a plan saved with plan -out",
		Long: `show renders a past apply or destroy — given its id or a unique prefix of it, from
diffuser runs — as its end was printed: the command, recipe and provider, the state serial
before and after, the actions planned, the counts, every failure with its log, and the
run's logs and timeline. Given a file written by plan -out (any name), it prints the plan's
inputs (sensitive variable values hidden), the state it was made against and its actions.`,
		Example: "  diffuser show 20261206T033012Z-4f2a\n  diffuser show 20261206T03\n  diffuser show plan.out\n  diffuser show 20261206T033012Z -json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err == nil && fi.Mode().IsRegular() {
				return a.showPlanFile(args[0])
			}
			r, err := a.workspaceEnv().FindRun(a.flags.workspace, args[0])
			if err != nil {
				return err
			}
			if a.flags.json {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*workspace.Run
					Dir      string                `json:"dir"`
					Timeline string                `json:"timeline,omitempty"`
					Actions  []engine.ActionRecord `json:"actions"`
				}{r, r.Dir(), r.Timeline(), r.Actions})
			}
			views.WriteRun(a.stdout, runInfo(r))
			return nil
		},
	}
	c.Flags().StringVar(&a.flags.workspace, "workspace", "", "look for the run in this workspace only")
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON: the run record, or the plan's summary")
	return c
}

func (a *app) showPlanFile(path string) error {
	sp, err := a.workspaceEnv().ReadPlanFile(path)
	if err != nil {
		return err
	}
	d := a.workspaceEnv().DescribePlanFile(sp)
	info := views.PlanFileInfo{Path: path, Workspace: sp.Workspace, Recipe: sp.Recipe.Arg, Digest: sp.Recipe.Digest,
		Provider: sp.Provider, Vars: d.Vars, VarFiles: sp.VarFiles, Site: sp.Site, Targets: sp.Targets, Replace: sp.Replace,
		Serial: sp.Serial, Lineage: sp.Lineage, Groups: d.Groups, Actions: d.Actions}
	if sp.Recipe.Builtin {
		info.Recipe = "builtin:" + sp.Recipe.Arg
	}
	if info.Workspace == "" {
		info.Workspace = "(the recipe's name)"
	}
	if sp.Simulate {
		info.Simulated = fmt.Sprintf("seed %d", sp.SimSeed)
		if sp.SimProf != "" {
			info.Simulated += ", profile " + sp.SimProf
		}
	}
	if d.RecipeErr != nil && len(sp.Vars) > 0 {
		info.Note = "variable values are hidden: the recipe does not load here to tell which are sensitive (" +
			firstLine(d.RecipeErr.Error()) + ")"
	}
	if a.flags.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Path      string   `json:"plan_file"`
			Recipe    any      `json:"recipe"`
			Workspace string   `json:"workspace,omitempty"`
			Provider  string   `json:"provider"`
			Vars      []string `json:"vars,omitempty"`
			VarFiles  []string `json:"var_files,omitempty"`
			Site      string   `json:"site,omitempty"`
			Targets   []string `json:"targets,omitempty"`
			Replace   []string `json:"replace,omitempty"`
			Lineage   string   `json:"lineage"`
			Serial    uint64   `json:"serial"`
			Actions   any      `json:"actions"`
			Simulate  bool     `json:"simulate,omitempty"`
		}{path, sp.Recipe, sp.Workspace, sp.Provider, d.Vars, sp.VarFiles, sp.Site, sp.Targets, sp.Replace,
			sp.Lineage, sp.Serial, d.Actions, sp.Simulate})
	}
	views.WritePlanFile(a.stdout, info)
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// runInfo is what the views show of a run.
func runInfo(r *workspace.Run) views.RunInfo {
	src := r.Source.Arg
	if r.Source.Builtin {
		src = "builtin:" + r.Source.Arg
	}
	info := views.RunInfo{ID: r.ID, Workspace: r.Workspace, Operation: r.Operation, Status: r.Status, Error: r.Error,
		Command: r.Command, PlanFile: r.PlanFile, Started: r.Started, Ended: r.Ended, Duration: r.Duration(),
		Recipe: r.Recipe, Source: src, Provider: r.Provider, Serials: [2]uint64{r.SerialBefore, r.SerialAfter},
		Actions: r.Actions, Outcome: r.Outcome, Timeline: r.Timeline()}
	if r.Holder.PID != 0 {
		info.Holder = fmt.Sprintf("pid %d (%s@%s)", r.Holder.PID, r.Holder.User, r.Holder.Hostname)
	}
	if fi, err := os.Stat(r.LogDir()); err == nil && fi.IsDir() {
		info.LogDir = r.LogDir()
	}
	return info
}

func (a *app) logsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "logs STEP [HOST]",
		Short: "Print the logs of a step's instances (command, output, exit status)",
		Long: `logs prints what a run ran for a step on each host (or on HOST): every command with its
start time, its output and its exit status and duration, from the run's step log
<data-dir>/<workspace>/runs/<id>/logs/steps.log (one file per run, the records of every
instance interleaved; runs of versions before it have <step>/<host>.log files there, read
alike). By default it reads the latest run
that logged the step (in any workspace, or in --workspace's), and says so when that is not
the latest run; --run reads the run with that id (a unique prefix will do; see diffuser runs).
Sensitive steps log neither commands nor output. A command logs at most 64 MiB of output; its
footer says how many more bytes it printed. Control characters a host printed (terminal
escapes, a carriage return) are shown as escapes (\x1b, \r); -json prints one object per
host's log with the text as it is (docs/json.md).`,
		Args: cobra.RangeArgs(1, 2),
		Example: "  diffuser logs volume\n  diffuser logs glusterd 'server[1]'\n  diffuser logs --workspace gluster-test volume\n" +
			"  diffuser logs --run 20261206T0330 volume\n  diffuser logs mount --data-dir /srv/diffuser\n  diffuser logs volume -json",
		RunE: func(cmd *cobra.Command, args []string) error {
			req := workspace.LogsRequest{Workspace: a.flags.workspace, Run: a.flags.run, Step: args[0]}
			if len(args) == 2 {
				req.Host = args[1]
			}
			res, err := a.workspaceEnv().StepLogs(req)
			if err != nil {
				return err
			}
			if l := res.Latest; l != nil {
				on := ""
				if req.Host != "" {
					on = " on host " + req.Host
				}
				fmt.Fprintf(a.stderr, "Step %s did not log%s in the latest run, %s (%s of workspace %s); these logs are from run %s (%s of workspace %s, started %s).\n",
					req.Step, on, l.ID, l.Operation, l.Workspace, res.Run.ID, res.Run.Operation, res.Run.Workspace,
					res.Run.Started.Local().Format("2006-01-02 15:04:05"))
			}
			if a.flags.json {
				out := make([]views.LogJSON, 0, len(res.Files))
				for _, f := range res.Files {
					b, err := f.Read()
					if err != nil {
						return err
					}
					lj := views.LogJSON{Step: req.Step, Host: f.Host, Path: f.Path, Run: res.Run.ID, Log: string(b)}
					if fi, err := os.Stat(f.Path); err == nil {
						lj.Modified = fi.ModTime().UTC()
					}
					out = append(out, lj)
				}
				return views.WriteJSON(a.stdout, out)
			}
			for i, f := range res.Files {
				b, err := f.Read()
				if err != nil {
					return err
				}
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				fmt.Fprintf(a.stdout, "==> %s on %s (%s) <==\n%s", req.Step, f.Host, f.Path, views.Printable(string(b)))
			}
			return nil
		},
	}
	c.Flags().StringVar(&a.flags.workspace, "workspace", "", "read this workspace's runs only (default: every workspace's)")
	c.Flags().StringVar(&a.flags.run, "run", "", "read this run (an id from diffuser runs, or a unique prefix of one)")
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON (docs/json.md)")
	return c
}
