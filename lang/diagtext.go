package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DiagText joins the errors of diags on one line, each after its source
// range, for an error message or a check's detail that must be one line.
func DiagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
		if d.Subject != nil {
			s = d.Subject.String() + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
