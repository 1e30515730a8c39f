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
		// A detail may be what a command printed on the host.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Verify, c.Name, c.Host, res, c.Duration.Round(10*time.Millisecond), Printable(c.Detail))
	}
	_ = tw.Flush()
	return failed
}

// VerifyJSON is `diffuser verify -json`.
type VerifyJSON struct {
	Recipe string      `json:"recipe"`
	Passed int         `json:"passed"`
	Failed int         `json:"failed"`
	Checks []CheckJSON `json:"checks"`
}

// CheckJSON is one check of VerifyJSON.
type CheckJSON struct {
	Verify    string  `json:"verify"` // the verify block
	Check     string  `json:"check"`
	Host      string  `json:"host"`
	OK        bool    `json:"ok"`
	DurationS float64 `json:"duration_s"`
	Detail    string  `json:"detail,omitempty"`
}

// NewVerifyJSON is verify's result in its JSON shape (checks never null).
func NewVerifyJSON(recipe string, checks []probe.Check) VerifyJSON {
	out := VerifyJSON{Recipe: recipe, Checks: []CheckJSON{}}
	for _, c := range checks {
		if c.OK {
			out.Passed++
		} else {
			out.Failed++
		}
		out.Checks = append(out.Checks, CheckJSON{Verify: c.Verify, Check: c.Name, Host: c.Host, OK: c.OK,
			DurationS: c.Duration.Seconds(), Detail: c.Detail})
	}
	return out
}

// verifyExample is the verify block NothingVerified suggests.
const verifyExample = `verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/data"
}
`

// NothingVerified says why verify checked nothing, for a recipe with
// blocks verify blocks (0: none at all; else every one is turned off).
func NothingVerified(blocks int) string {
	if blocks == 0 {
		return "Nothing to verify: the recipe has no verify block. Add one on the hosts that mount the filesystem\n" +
			"(docs/writing-recipes.md#verify), e.g.\n\n" + verifyExample + "\n"
	}
	return fmt.Sprintf("Nothing to verify: every one of the recipe's %d verify block(s) is turned off (enabled = false,\n"+
		"or lifecycle { enabled = false } on the module call that holds it).\n", blocks)
}
