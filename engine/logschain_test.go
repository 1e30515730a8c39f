package engine

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"diffuser/runner"
)

// echoRunner answers each command with its text as stdout and the exit
// status exits[cmd]; it is not a Chainer, so RunThen runs two Runs.
type echoRunner struct{ exits map[string]int }

func (e echoRunner) Run(_ context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if opt.Output != nil {
		_, _ = io.WriteString(opt.Output, "out of "+cmd+"\n")
	}
	return runner.Result{Exit: e.exits[cmd], Stdout: "out of " + cmd + "\n"}, nil
}

func (echoRunner) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// TestLoggedRunnerRunThen: a chain is logged as two entries, each with its
// command, output and status; a skipped second command leaves one entry;
// a sensitive step logs neither command nor output.
func TestLoggedRunnerRunThen(t *testing.T) {
	entries := func(log string) []string {
		return regexp.MustCompile(`(?m)^=== [^\n]*\$ [^\n]*$|^=== exit -?\d+`).FindAllString(log, -1)
	}
	for _, tc := range []struct {
		name      string
		sensitive bool
		guardExit int
		want      []string
		wantOut   []string
	}{
		{"guard fails", false, 1, []string{"$ check", "=== exit 1", "$ make", "=== exit 0"}, []string{"out of check", "out of make"}},
		{"guard holds", false, 0, []string{"$ check", "=== exit 0"}, []string{"out of check"}},
		{"sensitive", true, 1, []string{"$ (sensitive command hidden)", "=== exit 1", "$ (sensitive command hidden)", "=== exit 0"}, nil},
	} {
		logs := &runLogs{dir: t.TempDir()}
		l := &loggedRunner{r: echoRunner{exits: map[string]int{"check": tc.guardExit}}, sensitive: tc.sensitive, logs: logs, step: "s", host: "h"}
		_, res2, err := l.RunThen(context.Background(), runner.Command{Cmd: "check"}, runner.IfFailed, runner.Command{Cmd: "make"})
		if err != nil || (res2 != nil) != (tc.guardExit != 0) {
			t.Fatalf("%s: %+v %v", tc.name, res2, err)
		}
		b := []byte(instanceLog(t, logs, "s", "h"))
		got := entries(string(b))
		if len(got) != len(tc.want) {
			t.Fatalf("%s: log entries %q, want %q\n%s", tc.name, got, tc.want, b)
		}
		for i := range got {
			if !strings.HasSuffix(got[i], tc.want[i]) && !strings.HasPrefix(got[i], tc.want[i]) {
				t.Errorf("%s: entry %d is %q, want %q", tc.name, i, got[i], tc.want[i])
			}
		}
		// Each output sits in its own command's entry.
		last := 0
		for _, o := range tc.wantOut {
			i := strings.Index(string(b), o)
			if i < last {
				t.Errorf("%s: %q out of place in\n%s", tc.name, o, b)
			}
			last = i
		}
		if tc.sensitive && strings.Contains(string(b), "out of") {
			t.Errorf("%s: a sensitive step's output reached the log:\n%s", tc.name, b)
		}
		if tc.guardExit != 0 && !tc.sensitive {
			parts := strings.SplitN(string(b), "$ make", 2)
			if len(parts) != 2 || strings.Contains(parts[0], "out of make") || strings.Contains(parts[1], "out of check") {
				t.Errorf("%s: outputs in the wrong entries:\n%s", tc.name, b)
			}
		}
	}
}
