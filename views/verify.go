package views

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"diffuser/probe"
)

// WriteChecks prints verify's checks as a table and returns how many
// failed.
func WriteChecks(w io.Writer, checks []probe.Check) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
	return failed
}
