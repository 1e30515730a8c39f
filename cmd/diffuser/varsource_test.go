package main

import (
	"strings"
	"testing"
)

// A -var that breaks a constraint is shown as a file's line is: the value
// under the location, not "(source code not available)".
func TestVarErrorShowsTheVar(t *testing.T) {
	code, out, errs := cliRun(t, "validate", "nfs", "--var", "clients=-1")
	if code != 1 || !strings.Contains(errs, "on <-var clients=-1> line 1:\n   1: clients=-1\n") || strings.Contains(errs, "source code not available") {
		t.Errorf("validate nfs --var clients=-1: exit %d\n%s%s", code, out, errs)
	}
}

// A -var given as a bare word for a list variable is told how a list is
// written on the command line.
func TestVarListWrittenAsString(t *testing.T) {
	code, out, errs := cliRun(t, "validate", "nfs", "--var", "export_to=10.0.0.0/24")
	if code != 1 || !strings.Contains(errs, `-var 'export_to=["10.0.0.0/24"]'`) {
		t.Errorf("validate nfs --var export_to=10.0.0.0/24: exit %d\n%s%s", code, out, errs)
	}
}
