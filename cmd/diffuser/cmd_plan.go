package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"diffuser/cloud"
	"diffuser/engine"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

func (a *app) validateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "validate RECIPE",
		Short: "Check a recipe, its variables and site file without touching anything",
		Example: `  diffuser validate glusterfs
  diffuser validate ./my-recipe/ -var servers=4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.load(args[0])
			if err != nil {
				return err
			}
			// Provider settings are checked too: a typo in the site file
			// should not wait for the first plan.
			var diags hcl.Diagnostics
			for _, grp := range append([]string{""}, ws.loaded.Graph.Groups...) {
				_, d := ws.settingsFn()(grp)
				diags = append(diags, d...)
				if diags.HasErrors() {
					break // the provider-wide block's errors would repeat per group
				}
			}
			if diags.HasErrors() {
				a.printDiags(ws.files, diags)
				return &shownError{errorCount(diags)}
			}
			g := ws.loaded.Graph
			instances := 0
			for _, k := range g.Kind {
				if k == engine.VStep {
					instances++
				}
			}
			fmt.Fprintf(a.stdout, "The recipe %q is valid: %d host(s), %d step instance(s), %d graph edge(s).\n",
				ws.loaded.Recipe.Name, len(g.Hosts), instances, g.NumEdges())
			return nil
		},
	}
	a.recipeFlags(c)
	return c
}

// planned is a plan with what produced it.
type planned struct {
	ws       *workspace
	plan     *engine.Plan
	provider cloud.Provider
	conn     engine.Connector
	closers  []func()
}

func (pl *planned) close() {
	for _, f := range pl.closers {
		f()
	}
	pl.ws.close()
}

// makePlan loads, locks (when lock) and plans. The caller closes the result.
func (a *app) makePlan(ctx context.Context, recipeArg string, lock, destroy bool, command string) (*planned, error) {
	ws, err := a.load(recipeArg)
	if err != nil {
		return nil, err
	}
	if err := ws.openState(ctx, lock, command); err != nil {
		return nil, err
	}
	pl := &planned{ws: ws}
	needProvider := len(ws.st.Hosts) > 0 && (a.flags.refresh || destroy) || command != "plan"
	opt := engine.PlanOptions{State: ws.st, Provider: ws.provider, Settings: ws.settingsFn(), Replace: a.flags.replace,
		Targets: a.flags.targets, Destroy: destroy, Cluster: ws.cluster()}
	if needProvider {
		p, keys, err := ws.newProvider(ctx, a.providerLog())
		if err != nil {
			pl.close()
			return nil, err
		}
		pl.provider = p
		if s, _ := a.simulation(); s != nil {
			s.adopt(ws.cluster(), ws.st)
			pl.conn = s.connector()
		} else if a.testConnector != nil {
			pl.conn = a.testConnector
		} else {
			c := newConnector(keys.PrivateKeyFile)
			pl.conn = c
			pl.closers = append(pl.closers, c.close)
		}
		if a.flags.refresh && len(ws.st.Hosts) > 0 && !destroy {
			opt.Refresh = refresher{provider: p, conn: pl.conn}
		}
	}
	plan, diags := ws.loaded.Plan(ctx, opt)
	if diags.HasErrors() {
		a.printDiags(ws.files, diags)
		pl.close()
		return nil, &shownError{errorCount(diags)}
	}
	pl.plan = plan
	return pl, nil
}

func (a *app) planCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "plan RECIPE",
		Short: "Show what apply would change, touching nothing",
		Long: `plan loads the recipe (a path, or the name of a built-in recipe), diffs it against the
workspace's state and prints what apply would do: + create, ~ update, -/+ replace, - destroy.
When hosts exist it first asks them whether recorded work still holds (-refresh=false skips it).`,
		Example: `  diffuser plan glusterfs -var servers=4
  diffuser plan ceph -json
  diffuser plan ./recipes/mine -out plan.json && diffuser apply plan.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pl, err := a.makePlan(cmd.Context(), args[0], false, false, "plan")
			if err != nil {
				return err
			}
			defer pl.close()
			if a.flags.json {
				if err := writePlanJSON(a.stdout, pl.plan); err != nil {
					return err
				}
			} else {
				writePlan(a.stdout, pl.plan)
			}
			if a.flags.out != "" {
				if err := savePlan(a.flags.out, pl, a.flags); err != nil {
					return err
				}
				if !a.flags.json {
					fmt.Fprintf(a.stdout, "\nSaved the plan to %s. Apply exactly it with: diffuser apply %s\n", a.flags.out, a.flags.out)
				}
			}
			if a.flags.detailed && pl.plan.HasChanges() {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
	a.recipeFlags(c)
	a.planFlags(c)
	c.Flags().StringVar(&a.flags.out, "out", "", "save the plan to FILE for `diffuser apply FILE`")
	c.Flags().BoolVar(&a.flags.detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none, 1 on error")
	return c
}

func (a *app) graphCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "graph RECIPE",
		Short: "Draw the step graph (or the instance graph) in Graphviz DOT",
		Example: `  diffuser graph glusterfs | dot -Tsvg > graph.svg
  diffuser graph glusterfs -instances -var servers=3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.load(args[0])
			if err != nil {
				return err
			}
			if !a.flags.instances {
				return ws.loaded.StepGraph.DOT(a.stdout)
			}
			g := ws.loaded.Graph
			if g.NumVertices() > 5000 {
				return fmt.Errorf("the instance graph has %d vertices; draw it for a smaller cluster (fewer hosts via -var)", g.NumVertices())
			}
			fmt.Fprintln(a.stdout, "digraph instances {\n  rankdir=LR;")
			for v := int32(0); v < int32(g.NumVertices()); v++ {
				fmt.Fprintf(a.stdout, "  %q;\n", g.Addr(v))
				for _, w := range g.Out(v) {
					fmt.Fprintf(a.stdout, "  %q -> %q;\n", g.Addr(v), g.Addr(w))
				}
			}
			fmt.Fprintln(a.stdout, "}")
			return nil
		},
	}
	a.recipeFlags(c)
	c.Flags().BoolVar(&a.flags.instances, "instances", false, "draw the instance graph (one vertex per step instance)")
	return c
}

// savedPlan is what `plan -out` writes and `apply FILE` reads.
type savedPlan struct {
	Version   int               `json:"version"`
	Recipe    recipeRef         `json:"recipe"`
	Vars      []string          `json:"vars,omitempty"`
	VarFiles  []string          `json:"var_files,omitempty"`
	Site      string            `json:"site,omitempty"`
	Provider  string            `json:"provider"`
	Workspace string            `json:"workspace,omitempty"`
	Lineage   string            `json:"lineage"`
	Serial    uint64            `json:"serial"`
	Replace   []string          `json:"replace,omitempty"`
	Targets   []string          `json:"targets,omitempty"`
	Actions   map[string]string `json:"actions"`
	Simulate  bool              `json:"simulate,omitempty"`
	SimSeed   uint64            `json:"sim_seed,omitempty"`
	SimProf   string            `json:"sim_profile,omitempty"`
}

func savePlan(path string, pl *planned, f flags) error {
	sp := savedPlan{Version: 1, Recipe: pl.ws.source, Vars: f.vars, VarFiles: f.varFiles, Site: f.site,
		Provider: pl.ws.provider, Workspace: f.workspace, Lineage: pl.plan.Lineage, Serial: pl.plan.Serial,
		Replace: f.replace, Targets: f.targets, Actions: map[string]string{},
		Simulate: f.simulate, SimSeed: f.simSeed, SimProf: f.simProfile}
	for _, c := range append(append([]*engine.Change{}, pl.plan.Changes...), pl.plan.Destroys...) {
		sp.Actions[c.Addr] = c.Action.String()
	}
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readPlan(path string) (*savedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sp savedPlan
	if err := json.Unmarshal(b, &sp); err != nil || sp.Version != 1 || sp.Actions == nil {
		return nil, fmt.Errorf("%s is not a diffuser plan file (or was written by another version); make a new one with `diffuser plan RECIPE -out %s`", path, path)
	}
	return &sp, nil
}
