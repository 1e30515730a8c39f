package main

import (
	"diffuser/views"

	"github.com/spf13/cobra"
)

func (a *app) varsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "vars WORKSPACE",
		Short: "Show the inputs a workspace remembers from its last apply: variables, provider, site file",
		Long: `vars prints what the workspace's last apply ran with: the provider, the site file, and every
variable set with -var or -var-file (or taken from the apply before). plan, apply, destroy,
verify, bench, validate and graph of the workspace use these for whatever they are not given
again, with this precedence, lowest first: the recipe's default, the site file, the remembered
value, a -var-file given now, a -var given now. They say which remembered values they used;
-remembered=false ignores them (and an apply then records only what it was given).

A sensitive variable is remembered only as a salted SHA-256 digest, never its value: commands
ask for it again (-var or -var-file).`,
		Example: `  diffuser vars glusterfs
  diffuser vars glusterfs -json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.readState(args[0])
			if err != nil {
				return err
			}
			if a.flags.json {
				return views.WriteVarsJSON(a.stdout, args[0], st.Inputs)
			}
			views.WriteVars(a.stdout, args[0], st.Inputs)
			return nil
		},
	}
	c.Flags().BoolVar(&a.flags.json, "json", false, "print JSON")
	return c
}
