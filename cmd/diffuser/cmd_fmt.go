package main

import (
	"errors"
	"fmt"

	"diffuser/views"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

// exitNotFormatted is fmt -check's status when a file's layout would
// change: 3, as terraform fmt -check, so CI scripts written for one work
// for the other.
const exitNotFormatted = 3

// fmtFlags are fmt's own options.
type fmtFlags struct {
	check, diff, recursive bool
}

func (a *app) fmtCmd() *cobra.Command {
	var ff fmtFlags
	c := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Lay out recipes and site files in the canonical HCL style",
		Long: `fmt rewrites recipes and site files (*.hcl) in HCL's canonical layout, as terraform fmt
does for Terraform files: two-space indentation, aligned equals signs, consistent spacing. It
changes layout only, never meaning, and names each file it rewrote.

A PATH is a .hcl file or a directory (its *.hcl files; with -recursive, its subdirectories'
too, hidden ones skipped); none means the working directory. "-" reads stdin and prints the
result on stdout. Anything else is refused, and a file that does not parse is reported and
left as it was. Rewrites are atomic and keep each file's permissions.

-check writes nothing: it lists the files whose layout would change and exits 3 if there
are any (0 if none, 1 on an error), for CI. -diff prints what changes as a unified diff.`,
		Example: `  diffuser fmt                          # every .hcl file here
  diffuser fmt -recursive recipes/
  diffuser fmt -check -diff -recursive .  # CI: exit 3 and show why when a file is not laid out
  cat main.hcl | diffuser fmt -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := workspace.Format(workspace.FormatRequest{Paths: args, Recursive: ff.recursive,
				Write: !ff.check, Stdin: a.stdin})
			changed := 0
			for _, f := range files {
				if !f.Changed() && f.Name != "-" {
					continue
				}
				if f.Changed() {
					changed++
				}
				switch {
				case ff.diff:
					if err := views.WriteUnifiedDiff(a.stdout, f.Name, f.Before, f.After); err != nil {
						return err
					}
				case f.Name == "-":
					if !ff.check {
						if _, err := a.stdout.Write(f.After); err != nil {
							return err
						}
					}
				default:
					fmt.Fprintln(a.stdout, views.Printable(f.Name))
				}
			}
			var de *workspace.DiagError
			if errors.As(err, &de) {
				a.printDiags(de.Files, de.Diags)
				return &shownError{n: len(de.Diags.Errs())}
			}
			if err != nil {
				return err
			}
			if ff.check && changed > 0 {
				return exitCode(exitNotFormatted)
			}
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&ff.check, "check", false, "write nothing; list the files whose layout would change and exit 3 if any")
	f.BoolVar(&ff.diff, "diff", false, "print the changes as a unified diff")
	f.BoolVar(&ff.recursive, "recursive", false, "also format the .hcl files in subdirectories")
	return c
}
