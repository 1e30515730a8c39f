package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/steptest"
)

// chainer is a steptest.Runner that is a runner.Chainer: it counts the
// chains it is handed and runs them as two Runs.
type chainer struct {
	*steptest.Runner
	chains []string // first command of each chain
}

func (c *chainer) RunThen(ctx context.Context, first runner.Command, when runner.Then, second runner.Command) (runner.Result, *runner.Result, error) {
	c.chains = append(c.chains, first.Cmd)
	return runner.RunThenSeparately(ctx, c.Runner, first, when, second)
}

// TestRunGuardAndCommandInOneChain: a run step's last guard and its
// command go to the runner as one chain (one round trip on a remote
// shell), with the same commands, outcomes and errors as before.
func TestRunGuardAndCommandInOneChain(t *testing.T) {
	run := func(args map[string]string, facts ...steptest.Fact) (*chainer, error) {
		vals := map[string]cty.Value{}
		for k, v := range args {
			vals[k] = cty.StringVal(v)
		}
		c := &chainer{Runner: steptest.New(facts...)}
		c.Strict = true
		_, err := steps.RunKind{}.Apply(context.Background(), c, cty.ObjectVal(vals))
		return c, err
	}
	for _, tc := range []struct {
		name      string
		args      map[string]string
		facts     []steptest.Fact
		wantCmds  []string
		wantChain []string
		wantErr   string
		wantExit  int
	}{
		{name: "creates missing: runs",
			args:     map[string]string{"command": "make", "creates": "/x"},
			facts:    []steptest.Fact{{Match: "test -e /x", Exit: 1}, {Match: "make"}},
			wantCmds: []string{"test -e /x", "make"}, wantChain: []string{"test -e /x"}},
		{name: "creates present: skipped",
			args:     map[string]string{"command": "make", "creates": "/x"},
			facts:    []steptest.Fact{{Match: "test -e /x"}},
			wantCmds: []string{"test -e /x"}, wantChain: []string{"test -e /x"}},
		{name: "both, creates missing, unless fails: creates alone, then unless and the command",
			args:     map[string]string{"command": "make", "creates": "/x", "unless": "check"},
			facts:    []steptest.Fact{{Match: "test -e /x", Exit: 1}, {Match: "check", Exit: 1}, {Match: "make"}},
			wantCmds: []string{"test -e /x", "check", "make"}, wantChain: []string{"check"}},
		{name: "both, creates present: nothing else",
			args:     map[string]string{"command": "make", "creates": "/x", "unless": "check"},
			facts:    []steptest.Fact{{Match: "test -e /x"}},
			wantCmds: []string{"test -e /x"}},
		{name: "unless holds: skipped",
			args:     map[string]string{"command": "make", "unless": "check"},
			facts:    []steptest.Fact{{Match: "check"}},
			wantCmds: []string{"check"}, wantChain: []string{"check"}},
		{name: "command fails: its exit error",
			args:     map[string]string{"command": "make", "unless": "check"},
			facts:    []steptest.Fact{{Match: "check", Exit: 2}, {Match: "make", Exit: 3, Stderr: "boom\n"}},
			wantCmds: []string{"check", "make"}, wantChain: []string{"check"}, wantErr: "command exited with status 3", wantExit: 3},
		{name: "guard lost: the guard's error",
			args:     map[string]string{"command": "make", "unless": "check"},
			facts:    []steptest.Fact{{Match: "check", Err: "connection lost"}},
			wantCmds: []string{"check"}, wantChain: []string{"check"}, wantErr: "running unless: connection lost"},
		{name: "command lost: the command's error",
			args:     map[string]string{"command": "make", "creates": "/x"},
			facts:    []steptest.Fact{{Match: "test -e", Exit: 1}, {Match: "make", Err: "connection lost"}},
			wantCmds: []string{"test -e /x", "make"}, wantChain: []string{"test -e /x"}, wantErr: "command: connection lost"},
		{name: "no guard: the command alone",
			args:     map[string]string{"command": "make"},
			facts:    []steptest.Fact{{Match: "make"}},
			wantCmds: []string{"make"}},
	} {
		c, err := run(tc.args, tc.facts...)
		if got := c.Commands(); strings.Join(got, "|") != strings.Join(tc.wantCmds, "|") {
			t.Errorf("%s: commands %q, want %q", tc.name, got, tc.wantCmds)
		}
		if strings.Join(c.chains, "|") != strings.Join(tc.wantChain, "|") {
			t.Errorf("%s: chains starting with %q, want %q", tc.name, c.chains, tc.wantChain)
		}
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
		var ee *runner.ExitError
		if tc.wantExit != 0 && (!errors.As(err, &ee) || ee.Status != tc.wantExit || ee.Cmd != "make" || !strings.Contains(ee.Tail, "boom")) {
			t.Errorf("%s: want an ExitError with status %d for make, got %#v", tc.name, tc.wantExit, err)
		}
	}
}

// TestServiceStartAndCheckInOneChain: a start and the first check that
// the unit is active go as one chain; a failed start still reads the
// journal, and is never followed by the check.
func TestServiceStartAndCheckInOneChain(t *testing.T) {
	args := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("glusterd"), "state": cty.StringVal("started"),
		"enabled": cty.NullVal(cty.Bool), "daemon_reload": cty.False})
	for _, tc := range []struct {
		name     string
		facts    []steptest.Fact
		wantCmds []string
		wantErr  string
	}{
		{"started and active",
			[]steptest.Fact{{Match: "systemctl is-enabled", Stdout: "enabled\n"}, {Match: "systemctl is-active", Exit: 3, Stdout: "inactive\n", Times: 1}, {Match: "systemctl start"}, {Match: "systemctl is-active", Stdout: "active\n"}},
			[]string{"systemctl is-active -- glusterd", "systemctl is-enabled -- glusterd", "systemctl start -- glusterd", "systemctl is-active -- glusterd"}, ""},
		{"started, then failed",
			[]steptest.Fact{{Match: "systemctl is-enabled", Stdout: "enabled\n"}, {Match: "systemctl is-active", Exit: 3, Stdout: "inactive\n", Times: 1}, {Match: "systemctl start"},
				{Match: "systemctl is-active", Exit: 3, Stdout: "failed\n"}, {Match: "journalctl", Stdout: "boom\n"}},
			[]string{"systemctl is-active -- glusterd", "systemctl is-enabled -- glusterd", "systemctl start -- glusterd", "systemctl is-active -- glusterd", "journalctl -u glusterd -n"},
			"glusterd is failed after start"},
		{"start fails",
			[]steptest.Fact{{Match: "systemctl is-enabled", Stdout: "enabled\n"}, {Match: "systemctl is-active", Exit: 3, Stdout: "inactive\n"}, {Match: "systemctl start", Exit: 1, Stderr: "no unit\n"}, {Match: "journalctl"}},
			[]string{"systemctl is-active -- glusterd", "systemctl is-enabled -- glusterd", "systemctl start -- glusterd", "journalctl -u glusterd -n"},
			"systemctl start glusterd exited with status 1"},
	} {
		c := &chainer{Runner: steptest.New(tc.facts...)}
		c.Strict = true
		_, err := steps.ServiceKind{}.Apply(context.Background(), c, args)
		got := c.Commands()
		if len(got) != len(tc.wantCmds) {
			t.Errorf("%s: commands %q, want %q", tc.name, got, tc.wantCmds)
		} else {
			for i := range got {
				if !strings.HasPrefix(got[i], tc.wantCmds[i]) {
					t.Errorf("%s: command %d is %q, want %q", tc.name, i, got[i], tc.wantCmds[i])
				}
			}
		}
		if len(c.chains) != 1 || c.chains[0] != "systemctl start -- glusterd" {
			t.Errorf("%s: chains %q, want the start's", tc.name, c.chains)
		}
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
