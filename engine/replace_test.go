package engine_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/engine"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestReplaceUnknownAddress: -replace of an address that names no host
// and no step instance is an error, as -target's is; a host and a step
// instance of the recipe are accepted.
func TestReplaceUnknownAddress(t *testing.T) {
	l := mustLoad(t, twoGroups)
	plan := func(r ...string) hcl.Diagnostics {
		_, d := l.Plan(context.Background(), engine.PlanOptions{Provider: "sim", Cluster: "test", Replace: r,
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		return d
	}
	for _, ok := range []string{"a[1]", "b[2]", `step.a1["a[0]"]`} {
		if d := plan(ok); d.HasErrors() {
			t.Errorf("-replace %s: %s", ok, d.Error())
		}
	}
	for _, bad := range []string{"a[2]", "c[0]", "step.a1", `step.a1["b[0]"]`, `step.nope["a[0]"]`, "", "server[0]; rm -rf /"} {
		d := plan("a[0]", bad)
		summary := "Unknown replace address"
		if bad == "step.a1" { // a whole step: there, but more than one instance
			summary = "Replace address names more than one instance"
		}
		if !d.HasErrors() || len(d) != 1 || d[0].Summary != summary || !strings.Contains(d[0].Detail, `"`+strings.ReplaceAll(bad, `"`, `\"`)+`"`) {
			t.Errorf("-replace %q: %v", bad, d)
		}
	}
}
