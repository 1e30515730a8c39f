package main

import (
	"diffuser/views"

	"github.com/spf13/cobra"
)

func (a *app) validateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "validate RECIPE",
		Short: "Check a recipe, its variables and site file without touching anything",
		Long: `validate loads the recipe (a path, or the name of a built-in recipe) with its variables and
site file and checks everything that can be known before any host exists: syntax, references
(variables, locals, steps, host groups, volumes, captures), indexes against host counts, every
step argument against its kind's rules (docs/writing-recipes.md) for values written as
literals or computed from variables, locals and host names, failed variable validations and
recipe preconditions, two steps writing one file (or mounting at one target) on a host they
share, and provider settings the provider would refuse (a port out of range, a bad CIDR, a
static site listing fewer hosts than the recipe asks for). Each problem is printed
once, with its file, line and the offending expression, and validate exits 1. A variable, a
capture or a host fact pasted into a command neither inside shellquote(...) nor held by its
declaration to plain characters is a warning at its reference, naming where the value comes
from and the way it takes (docs/writing-recipes.md#variables-are-what-a-user-typed). It reads no
state, takes no lock and connects to nothing; plan makes the same checks again with what state
knows.

-json prints the result for editors and CI in the shape of Terraform's validate -json:
{"format_version": "1.0", "valid": ..., "error_count": ..., "warning_count": ...,
"diagnostics": [{"severity", "summary", "detail", "range": {"filename", "start", "end"},
"snippet"}]}, with positions as line, column (from 1) and byte (from 0). The exit status is
1 when the recipe is invalid, with or without -json.`,
		Example: `  diffuser validate glusterfs
  diffuser validate ./my-recipe/ -var servers=4
  diffuser validate glusterfs -provider static -site lab.hcl -json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := a.workspaceEnv().Validate(a.inputs(args[0]))
			if a.flags.json {
				if err := views.WriteValidateJSON(a.stdout, v.Files, v.Diags); err != nil {
					return err
				}
				if !v.Valid() {
					return exitCode(exitError)
				}
				return nil
			}
			a.printDiags(v.Files, v.Diags)
			if !v.Valid() {
				return &shownError{n: len(v.Diags.Errs())}
			}
			views.WriteValid(a.stdout, v.Recipe, v.Hosts, v.Instances, v.Edges, v.Off)
			return nil
		},
	}
	a.recipeFlags(c)
	c.Flags().BoolVar(&a.flags.json, "json", false, "print the diagnostics as JSON (Terraform's validate -json shape)")
	return c
}
