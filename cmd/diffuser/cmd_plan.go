package main

import (
	"fmt"

	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

// planRequest is the plan request this command line makes.
func (a *app) planRequest(recipe, command string, destroy bool) workspace.PlanRequest {
	return workspace.PlanRequest{Inputs: a.inputs(recipe), Command: command, Lock: command != "plan", Destroy: destroy,
		Refresh: a.flags.refresh, Targets: a.flags.targets, Replace: a.flags.replace, TTL: a.ttl,
		OnlyExpired: destroy && a.flags.expired}
}

func (a *app) planCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "plan RECIPE",
		Short: "Show what apply would change, touching nothing",
		Long: `plan loads the recipe (a path, or the name of a built-in recipe: builtin/NAME when a
directory here has that name), diffs it against the workspace's state and prints what apply
would do: + create, ~ update, -/+ replace, - destroy.
It makes validate's checks first (recipe preconditions, provider settings against what the
recipe needs), before reading state. When hosts exist it asks them whether recorded work
still holds (-refresh=false skips it).

Variables, the provider and the site file that are not given take the values the workspace's
last apply ran with (diffuser vars WORKSPACE), above the site file and below -var-file and
-var; the plan first names the remembered values it used. -remembered=false ignores them.`,
		Example: `  diffuser plan glusterfs -var servers=4
  diffuser plan glusterfs                 # after that apply: servers is still 4
  diffuser plan ceph -json
  diffuser plan ./recipes/mine -out plan.json && diffuser apply plan.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pl, err := a.workspaceEnv().Plan(cmd.Context(), a.planRequest(args[0], "plan", false))
			if err != nil {
				return err
			}
			defer pl.Close()
			a.printDiags(pl.WS.Files, pl.WS.Warnings)
			if a.flags.json {
				if err := views.WritePlanJSON(a.stdout, pl.Plan, remembered(pl.WS)); err != nil {
					return err
				}
			} else {
				views.WriteRemembered(a.stdout, remembered(pl.WS))
				views.WritePlan(a.stdout, pl.Plan)
			}
			if a.flags.out != "" {
				if err := pl.Save(a.flags.out); err != nil {
					return err
				}
				if !a.flags.json {
					fmt.Fprintf(a.stdout, "\nSaved the plan to %s. Apply exactly it with: diffuser apply %s\n", a.flags.out, a.flags.out)
				}
			}
			if a.flags.detailed && pl.Plan.HasChanges() {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
	a.recipeFlags(c)
	a.planFlags(c)
	c.Flags().StringVar(&a.flags.out, "out", "", "save the plan to `FILE`, for diffuser apply FILE (a new file, or a saved plan it replaces)")
	c.Flags().BoolVar(&a.flags.detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none, 1 on error")
	return c
}

func (a *app) graphCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "graph RECIPE",
		Short: "Draw the step graph (or the instance graph) in Graphviz DOT",
		Long: `graph prints the step graph: one vertex per host group (a box) and per step, each edge
labelled with why the later one waits: on (the group a step runs on), reads (an expression reads
the group's hosts or the step's outputs), after, after_all, restart_on or reload_on. The steps of
a module call are a cluster named by its address; a call turned off (lifecycle { enabled = false })
is drawn dashed, its label saying where it is turned off. -instances draws one vertex per step
instance and launch, with the join vertices ("step.x (all)") of after's wait for every instance.`,
		Example: `  diffuser graph glusterfs | dot -Tsvg > graph.svg
  diffuser graph glusterfs -instances -var servers=3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := a.inputs(args[0])
			in.NoHosts = true
			ws, err := a.loadInputs(in)
			if err != nil {
				return err
			}
			if !a.flags.instances {
				return ws.Loaded.StepGraph.DOT(a.stdout)
			}
			g := ws.Loaded.Graph
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
