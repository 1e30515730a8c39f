package views

import (
	"github.com/hashicorp/hcl/v2"
)

// ValidateJSON is `diffuser validate -json`, valid or not (Terraform's
// shape): counts when the recipe loads, every diagnostic either way.
type ValidateJSON struct {
	Valid         bool             `json:"valid"`
	Recipe        string           `json:"recipe,omitempty"`
	Hosts         int              `json:"hosts"`
	StepInstances int              `json:"step_instances"`
	Edges         int              `json:"edges"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []DiagnosticJSON `json:"diagnostics"`
}

// DiagnosticJSON is one problem with where it is.
type DiagnosticJSON struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *RangeJSON `json:"range,omitempty"`
}

// RangeJSON is a span of a file; lines and columns count from 1, bytes
// from 0.
type RangeJSON struct {
	Filename string  `json:"filename"`
	Start    PosJSON `json:"start"`
	End      PosJSON `json:"end"`
}

// PosJSON is a position in a file.
type PosJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// NewDiagnosticsJSON converts diagnostics (never null) and counts them.
func NewDiagnosticsJSON(diags hcl.Diagnostics) (out []DiagnosticJSON, errs, warns int) {
	out = []DiagnosticJSON{}
	for _, d := range diags {
		j := DiagnosticJSON{Severity: "warning", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			j.Severity = "error"
			errs++
		} else {
			warns++
		}
		if r := d.Subject; r != nil {
			j.Range = &RangeJSON{Filename: r.Filename, Start: PosJSON{r.Start.Line, r.Start.Column, r.Start.Byte},
				End: PosJSON{r.End.Line, r.End.Column, r.End.Byte}}
		}
		out = append(out, j)
	}
	return out, errs, warns
}
