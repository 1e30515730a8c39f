package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"diffuser/probe"

	"github.com/spf13/cobra"
)

func (a *app) verifyCmd() *cobra.Command {
	var size int
	c := &cobra.Command{
		Use:   "verify RECIPE",
		Short: "Write a random file on one client, read it on the others, compare checksums",
		Long: `verify runs the recipe's verify blocks against the applied cluster: a file of random bytes is
written through the mounted filesystem on one host, read back on the other hosts (or on the same
host after dropping caches), and compared by SHA-256. Recipes with replication also stop a
server's daemon and read again. Exit status 1 when any check fails.`,
		Example: "  diffuser verify glusterfs",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, conn, closeConn, err := a.openApplied(cmd.Context(), args[0], "verify")
			if err != nil {
				return err
			}
			defer closeConn()
			checks, err := probe.Verify(cmd.Context(), ws.loaded, ws.st, probe.VerifyOptions{Connector: conn, SizeMiB: size})
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERIFY\tCHECK\tHOST\tRESULT\tTIME\tDETAIL")
			failed := 0
			for _, c := range checks {
				res := "pass"
				if !c.OK {
					res = "FAIL"
					failed++
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Verify, c.Name, c.Host, res, c.Duration.Round(10*time.Millisecond), c.Detail)
			}
			_ = tw.Flush()
			if err != nil {
				return err
			}
			if failed > 0 || len(checks) == 0 {
				fmt.Fprintf(a.stderr, "%d of %d checks failed.\n", failed, len(checks))
				return &shownError{failed}
			}
			fmt.Fprintf(a.stdout, "All %d checks passed.\n", len(checks))
			return nil
		},
	}
	a.recipeFlags(c)
	c.Flags().IntVar(&size, "size-mib", 4, "size of the test file in MiB")
	return c
}
