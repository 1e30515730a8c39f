package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"diffuser/engine"

	"github.com/hashicorp/hcl/v2"
)

// TestTooManyStepInstances: a plan has at most engine.MaxStepInstances
// step instances. 40 steps on 100,000 hosts (4 million) took 6.5 s and
// 700 MB to validate, and 20,000 steps on them would be 2 billion, past
// memory and the graph's int32 vertex ids. The step that passes the bound
// is the one error, on its on; loading stops there.
func TestTooManyStepInstances(t *testing.T) {
	perStep := 100_000
	steps := engine.MaxStepInstances/perStep + 1
	var b strings.Builder
	fmt.Fprintf(&b, "recipe \"t\" {}\nhosts \"h\" { count = %d }\n", perStep)
	for i := range steps * 50 {
		fmt.Fprintf(&b, "step \"s%d\" {\n  on  = hosts.h\n  run = \"true\"\n}\n", i)
	}
	_, diags := load(t, b.String())
	var errs []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d.Error())
		}
	}
	want := fmt.Sprintf("r/main.hcl:%d,9-16: Too many step instances; With step.s%d on %d hosts the recipe has %d step instances", 3+4*(steps-1)+1, steps-1, perStep, steps*perStep)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
		t.Fatalf("want one error starting %q, got %d:\n%s", want, len(errs), strings.Join(errs, "\n"))
	}
}
