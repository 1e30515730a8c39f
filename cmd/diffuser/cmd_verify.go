package main

import (
	"fmt"

	"diffuser/probe"
	"diffuser/views"

	"github.com/spf13/cobra"
)

// maxVerifyMiB bounds verify's --size-mib: a check of the round trip, not
// a measure of throughput (bench's --size is that).
const maxVerifyMiB = 4096

func (a *app) verifyCmd() *cobra.Command {
	var size int
	c := &cobra.Command{
		Use:   "verify RECIPE",
		Short: "Write a random file on one client, read it on the others, compare checksums",
		Long: `verify runs the recipe's verify blocks against the applied cluster: a file of random bytes is
written through the mounted filesystem on one host, read back on the other hosts (or on the same
host after dropping caches), and compared by SHA-256. Recipes with replication also stop a
server's daemon and read again. Exit status 1 when any check fails, or when nothing was checked (no
verify block, or every one turned off). -json prints the checks as
JSON (docs/json.md).`,
		Example: "  diffuser verify glusterfs\n  diffuser verify glusterfs -json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The file is written whole on a client (and held in memory
			// here for an S3 check): 0 and negative sizes were taken as
			// 4 MiB without a word, a huge one filled the filesystem.
			if size < 1 || size > maxVerifyMiB {
				return fmt.Errorf("--size-mib is %d: give the test file's size in MiB, from 1 to %d (diffuser bench measures with larger files)", size, maxVerifyMiB)
			}
			ws, conn, closeConn, err := a.workspaceEnv().OpenApplied(cmd.Context(), a.inputs(args[0]), "verify")
			if err != nil {
				return err
			}
			defer closeConn()
			views.WriteRemembered(a.stdout, remembered(ws))
			checks, err := probe.Verify(cmd.Context(), ws.Loaded, ws.State, probe.VerifyOptions{Connector: conn, SizeMiB: size})
			if a.flags.json {
				res := views.NewVerifyJSON(ws.Loaded.Recipe.Name, checks)
				if werr := views.WriteJSON(a.stdout, res); werr != nil {
					return werr
				}
				if err != nil {
					return err
				}
				if len(checks) == 0 {
					fmt.Fprint(a.stderr, views.NothingVerified(len(ws.Loaded.Recipe.Verifies)))
				}
				if res.Failed > 0 || len(checks) == 0 {
					return &shownError{max(res.Failed, 1)}
				}
				return nil
			}
			if err == nil && len(checks) == 0 {
				fmt.Fprint(a.stderr, views.NothingVerified(len(ws.Loaded.Recipe.Verifies)))
				return &shownError{1}
			}
			failed := views.WriteChecks(a.stdout, checks)
			if err != nil {
				return err
			}
			if failed > 0 {
				fmt.Fprintf(a.stderr, "%d of %d checks failed.\n", failed, len(checks))
				return &shownError{failed}
			}
			fmt.Fprintf(a.stdout, "All %d checks passed.\n", len(checks))
			return nil
		},
	}
	a.recipeFlags(c)
	c.Flags().IntVar(&size, "size-mib", 4, fmt.Sprintf("size of the test file in MiB (1 to %d)", maxVerifyMiB))
	c.Flags().BoolVar(&a.flags.json, "json", false, "print the checks as JSON (docs/json.md)")
	return c
}
