package steps_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/builtin"
	"diffuser/steps/steptest"
)

var update = flag.Bool("update", false, "rewrite the expectations in testdata/<kind>/*.json")

// TestKinds runs the cases in testdata/<kind>/*.json and checks that every
// built-in kind of this package has some (distribute has its own).
func TestKinds(t *testing.T) {
	seen := steptest.RunCases(t, builtin.WithClock, *update)
	for _, name := range builtin.Kinds().Names() {
		k, _ := builtin.Kinds().Lookup(name)
		if reflect.TypeOf(k).PkgPath() == "diffuser/steps" && seen[name] == 0 {
			t.Errorf("kind %s has no cases in testdata/%s", name, name)
		}
	}
}

// TestExitErrorCarriesStatusAndTail checks what the engine's diagnostics read.
func TestExitErrorCarriesStatusAndTail(t *testing.T) {
	var lines []string
	for i := 1; i <= 30; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	r := steptest.New(steptest.Fact{Match: "make", Exit: 2, Stdout: strings.Join(lines, "\n") + "\n", Stderr: "make: *** failed\n"})
	args := cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("make all")})
	_, err := steps.RunKind{}.Apply(context.Background(), r, args)
	var ee *runner.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an *ExitError", err)
	}
	if ee.Status != 2 || ee.Cmd != "make all" {
		t.Errorf("status %d cmd %q, want 2 and %q", ee.Status, ee.Cmd, "make all")
	}
	tail := strings.Split(ee.Tail, "\n")
	if len(tail) != 20 || tail[0] != "line 12" || tail[19] != "make: *** failed" {
		t.Errorf("tail is %d lines from %q to %q, want 20 from \"line 12\" to the stderr line", len(tail), tail[0], tail[len(tail)-1])
	}
	if strings.Contains(err.Error(), "make all") {
		t.Errorf("error %q repeats the command, which may be sensitive", err)
	}
}
