package steps

import (
	"context"
	"fmt"
	"strings"

	"diffuser/runner"
)

// tailLines is how many lines of output an exitError keeps.
const tailLines = 20

// exitError builds the runner.ExitError for a finished, failed command.
func exitError(what, cmd string, res runner.Result) *runner.ExitError {
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
	return lastLines(strings.Join(parts, "\n"), n)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// probe runs a fact-gathering command; any exit status is a valid answer,
// only transport failures are errors.
func probe(ctx context.Context, r runner.Runner, what, cmd string) (runner.Result, error) {
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

// mustRun runs cmd and turns a non-zero exit into a *runner.ExitError.
func mustRun(ctx context.Context, r runner.Runner, what, cmd string) (runner.Result, error) {
	return mustRunWith(ctx, r, what, cmd, runner.Options{})
}

// mustRunWith is mustRun with options.
func mustRunWith(ctx context.Context, r runner.Runner, what, cmd string, opt runner.Options) (runner.Result, error) {
	res, err := runWith(ctx, r, what, cmd, opt)
	if err != nil {
		return res, err
	}
	if res.Exit != 0 {
		return res, exitError(what, cmd, res)
	}
	return res, nil
}
