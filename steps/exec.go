package steps

import (
	"context"
	"fmt"
	"strings"

	"diffuser/runner"
)

// tailLines is how many lines of output ExitError keeps.
const tailLines = 20

// ExitError builds the *runner.ExitError for a finished, failed command: its
// Tail is the last 20 lines of stdout, then of stderr.
func ExitError(what, cmd string, res runner.Result) *runner.ExitError {
	return &runner.ExitError{What: what, Cmd: cmd, Status: res.Exit, Tail: outputTail(res, tailLines)}
}

// outputTail returns the last n lines of the result's stdout and stderr
// (stdout first: Result does not keep their interleaving).
func outputTail(res runner.Result, n int) string {
	var parts []string
	for _, s := range []string{res.Stdout, res.Stderr} {
		if s = strings.TrimRight(s, "\n"); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.TrimSuffix(runner.LastLines(strings.Join(parts, "\n"), n), "\n")
}

// stderrTail is the last lines of res's stderr, without the final
// newline ("" when it said nothing).
func stderrTail(res runner.Result) string {
	return strings.TrimSuffix(runner.LastLines(strings.TrimSpace(res.Stderr), tailLines), "\n")
}

// Probe runs a fact-gathering command; any exit status is a valid answer,
// only transport failures are errors.
func Probe(ctx context.Context, r runner.Runner, what, cmd string) (runner.Result, error) {
	return runWith(ctx, r, what, cmd, runner.Options{})
}

// runWith runs cmd with opt and wraps transport failures with what.
func runWith(ctx context.Context, r runner.Runner, what, cmd string, opt runner.Options) (runner.Result, error) {
	res, err := r.Run(ctx, cmd, opt)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// MustRun runs cmd and turns a non-zero exit into a *runner.ExitError.
func MustRun(ctx context.Context, r runner.Runner, what, cmd string) (runner.Result, error) {
	return MustRunWith(ctx, r, what, cmd, runner.Options{})
}

// MustRunWith is MustRun with options.
func MustRunWith(ctx context.Context, r runner.Runner, what, cmd string, opt runner.Options) (runner.Result, error) {
	res, err := runWith(ctx, r, what, cmd, opt)
	if err != nil {
		return res, err
	}
	if res.Exit != 0 {
		return res, ExitError(what, cmd, res)
	}
	return res, nil
}
