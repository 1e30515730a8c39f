package steps_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/steps"
	"diffuser/steps/steptest"
)

// A run step can be found done only through a guard; Capture runs the
// captures and never the command.
func TestRunCheckableAndCapture(t *testing.T) {
	k := steps.RunKind{}
	spec := k.Schema().Spec()
	bare, err := steptest.DecodeArgs(spec, []byte(`{"command": "make install"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Checkable(bare); err == nil || !strings.Contains(err.Error(), "creates or unless") {
		t.Errorf("Checkable without a guard: %v", err)
	}
	for _, src := range []string{`{"command": "make install", "creates": "/usr/local/bin/x"}`, `{"command": "make install", "unless": "x --version"}`} {
		args, err := steptest.DecodeArgs(spec, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Checkable(args); err != nil {
			t.Errorf("Checkable(%s): %v", src, err)
		}
	}
	args, err := steptest.DecodeArgs(spec, []byte(`{"command": "make install", "creates": "/x", "env": {"K": "v"},
		"capture": {"version": "x --version", "path": "command -v x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := steptest.New(steptest.Fact{Match: "x --version", Stdout: "1.2\n"}, steptest.Fact{Match: "command -v x", Stdout: "/usr/local/bin/x\n"})
	out, err := k.Capture(context.Background(), r, args)
	if err != nil || out["version"] != "1.2" || out["path"] != "/usr/local/bin/x" || len(out) != 2 {
		t.Errorf("Capture = %v, %v", out, err)
	}
	for _, c := range r.Calls() {
		if strings.Contains(c.Cmd, "make install") || strings.Contains(c.Cmd, "test -e") {
			t.Errorf("Capture ran %q", c.Cmd)
		}
		if c.Env["K"] != "v" {
			t.Errorf("Capture ran %q without the step's env", c.Cmd)
		}
	}
}
