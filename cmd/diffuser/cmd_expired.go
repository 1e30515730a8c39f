package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"diffuser/views"
	"diffuser/workspace"
)

// parseTTL reads --ttl when given.
func (a *app) parseTTL(cmd *cobra.Command) error {
	a.ttl = nil
	if !cmd.Flags().Changed("ttl") {
		return nil
	}
	d, err := workspace.ParseTTL(a.flags.ttl)
	if err != nil {
		return fmt.Errorf("--ttl: %w", err)
	}
	a.ttl = &d
	return nil
}

// sweepExpired is destroy --expired: it destroys the named workspace (or,
// with --all-workspaces, every one) whose deadline has passed, one after
// the other, each as `diffuser destroy RECIPE -workspace NAME` with what
// its last apply ran with.
func (a *app) sweepExpired(ctx context.Context, args []string) error {
	if !a.flags.expired {
		return errors.New("--all-workspaces goes with --expired: diffuser destroy --expired --all-workspaces")
	}
	if len(a.flags.targets) > 0 {
		return errors.New("--expired destroys whole clusters: it does not take --target")
	}
	env := a.workspaceEnv()
	only := ""
	switch {
	case a.flags.allWS && (len(args) > 0 || a.flags.workspace != ""):
		return errors.New("--all-workspaces sweeps every workspace: give no RECIPE or --workspace with it")
	case a.flags.allWS:
	case a.flags.workspace != "":
		only = a.flags.workspace
	case len(args) == 1:
		name, err := env.WorkspaceName(workspace.Inputs{Recipe: args[0]})
		if err != nil {
			return err
		}
		only = name
	default:
		return errors.New("destroy --expired needs a RECIPE, --workspace NAME, or --all-workspaces")
	}
	jsonLines := a.flags.json || a.flags.progress == views.ProgressJSON
	if jsonLines && !a.flags.autoApprove {
		return errors.New("--progress=json (or --json) writes JSON lines and cannot ask for confirmation: pass --auto-approve")
	}
	due, unknown, err := env.Expired(only)
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range unknown {
		errs = append(errs, fmt.Errorf("workspace %s: its state cannot be read, so its deadline is not known and nothing of it was destroyed: %w", in.Name, in.Err))
	}
	if len(due) == 0 && len(unknown) > 0 {
		return errors.Join(errs...)
	}
	if len(due) == 0 {
		switch {
		case jsonLines: // no workspace, no line
		case only != "":
			fmt.Fprintf(a.stdout, "Workspace %s is not past a deadline: nothing to destroy.\n", only)
		default:
			fmt.Fprintln(a.stdout, "No workspace is past its deadline: nothing to destroy.")
		}
		return nil
	}
	site := a.flags.site
	for _, in := range due {
		if jsonLines {
			views.WriteExpiredJSON(a.stdout, true, in.Name, in.Expires)
		} else {
			fmt.Fprintf(a.stdout, "Workspace %s expired at %s: destroying it.\n", in.Name, in.Expires.Local().Format(time.RFC3339))
		}
		recipe := in.RecipeArg
		if recipe == "" {
			recipe = in.Recipe
		}
		a.flags.workspace = in.Name
		if a.flags.allWS {
			// -site is the bucket's, for the workspaces kept there; every
			// other one is destroyed with the site file it remembers.
			a.flags.site = site
			if in.Bucket == "" {
				a.flags.site = ""
			}
		}
		err := a.runApply(ctx, recipe, true)
		var ne *workspace.NotExpiredError
		if errors.As(err, &ne) {
			if jsonLines {
				views.WriteExpiredJSON(a.stdout, false, ne.Workspace, ne.Expires)
			} else {
				fmt.Fprintln(a.stdout, ne.Error())
			}
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("workspace %s: %w", in.Name, err))
		}
	}
	return errors.Join(errs...)
}
