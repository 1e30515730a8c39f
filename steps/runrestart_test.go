package steps_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/steps"
	"diffuser/steps/steptest"
)

// TestRunRestartArgsSkipGuards: the arguments a run step's restart_on
// applies drop creates and unless, so the command runs although its guard
// holds; a run step has nothing to reload.
func TestRunRestartArgsSkipGuards(t *testing.T) {
	args := cty.ObjectVal(map[string]cty.Value{
		"command": cty.StringVal("apt-get update"), "creates": cty.StringVal("/x"), "unless": cty.StringVal("check"),
		"env": cty.NullVal(cty.Map(cty.String)), "capture": cty.NullVal(cty.Map(cty.String)),
	})
	if _, ok := (steps.RunKind{}).RestartArgs(args, true); ok {
		t.Error("a run step reloads")
	}
	again, ok := steps.RunKind{}.RestartArgs(args, false)
	if !ok {
		t.Fatal("a run step does not restart")
	}
	r := steptest.New(steptest.Fact{Match: "test -e /x"}, steptest.Fact{Match: "check"}, steptest.Fact{Match: "apt-get update"})
	r.Strict = true
	if _, err := (steps.RunKind{}).Apply(context.Background(), r, again); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Commands(), "|"); got != "apt-get update" {
		t.Errorf("commands %q, want the command alone", got)
	}
	r = steptest.New(steptest.Fact{Match: "test -e /x"})
	r.Strict = true
	if _, err := (steps.RunKind{}).Apply(context.Background(), r, args); err != nil || strings.Join(r.Commands(), "|") != "test -e /x" {
		t.Errorf("declared arguments: %q, %v, want the guard alone", r.Commands(), err)
	}
}
