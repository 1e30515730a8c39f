package workspace

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoHostsCommandsAfterSimulate: after apply --simulate, validate and
// graph (which reach no host and no provider) work without --simulate, as
// the docs' "diffuser plan ./mingluster --simulate" then "diffuser
// validate ./mingluster" invite; they were refused ("was last applied
// with --simulate: pass --simulate again"). Plan still is: it would reach
// hosts that exist only in a simulation.
func TestNoHostsCommandsAfterSimulate(t *testing.T) {
	e, dir := runsEnv(t, "")
	applyTag(t, e, dir, "1", ApplyOptions{})
	real := &Env{DataDir: e.DataDir}
	in := Inputs{Recipe: filepath.Join(dir, "hist.hcl")}
	if v := real.Validate(in); v.Diags.HasErrors() || v.Recipe != "hist" {
		t.Errorf("validate: %v", v.Diags)
	}
	in.NoHosts = true
	if ws, err := real.Load(in); err != nil {
		t.Errorf("load for graph: %v", err)
	} else if ws.Loaded.Graph.NumVertices() == 0 {
		t.Errorf("load for graph: no graph")
	}
	in.NoHosts = false
	if _, err := real.Load(in); err == nil || !strings.Contains(err.Error(), "pass --simulate again") {
		t.Errorf("load for plan: %v, want the refusal", err)
	}
}
