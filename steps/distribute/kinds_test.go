package distribute_test

import (
	"flag"
	"testing"

	"diffuser/steps"
	"diffuser/steps/distribute"
	"diffuser/steps/steptest"
)

var update = flag.Bool("update", false, "rewrite the expectations in testdata/distribute/*.json")

// TestKinds runs the cases in testdata/distribute/*.json (facts in,
// commands out; see steps/testdata/README.md).
func TestKinds(t *testing.T) {
	kinds := func(steps.Clock) steps.Registry { return steps.Registry{"distribute": distribute.Kind{}} }
	if seen := steptest.RunCases(t, kinds, *update); seen["distribute"] == 0 {
		t.Error("kind distribute has no cases in testdata/distribute")
	}
}
