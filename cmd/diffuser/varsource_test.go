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
