package steps

import (
	"context"
	"fmt"
	"strings"
)

// tailLines is how many lines of output an ExitError keeps.
const tailLines = 20

// ExitError is a command that ran and exited non-zero. The engine turns it
// into a diagnostic naming the step instance, its host, Status and Tail.
type ExitError struct {
	What   string // short description for people ("apt-get install", "command")
	Cmd    string // the command as run; may hold sensitive values, so Error omits it
	Status int
	Tail   string // last lines of stdout, then of stderr
}

func (e *ExitError) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("%s exited with status %d (no output)", e.What, e.Status)
	}
	return fmt.Sprintf("%s exited with status %d:\n%s", e.What, e.Status, e.Tail)
}

// exitError builds the ExitError for a finished, failed command.
func exitError(what, cmd string, res Result) *ExitError {
	return &ExitError{What: what, Cmd: cmd, Status: res.Exit, Tail: outputTail(res, tailLines)}
}

// outputTail returns the last n lines of the result's stdout and stderr
// (stdout first: Result does not keep their interleaving).
func outputTail(res Result, n int) string {
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
func probe(ctx context.Context, r Runner, what, cmd string) (Result, error) {
	return runWith(ctx, r, what, cmd, RunOpts{})
}

// runWith runs cmd with opt and wraps transport failures with what.
func runWith(ctx context.Context, r Runner, what, cmd string, opt RunOpts) (Result, error) {
	res, err := r.Run(ctx, cmd, opt)
	if err != nil {
		return res, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

// mustRun runs cmd and turns a non-zero exit into an *ExitError.
func mustRun(ctx context.Context, r Runner, what, cmd string) (Result, error) {
	return mustRunWith(ctx, r, what, cmd, RunOpts{})
}

// mustRunWith is mustRun with options.
func mustRunWith(ctx context.Context, r Runner, what, cmd string, opt RunOpts) (Result, error) {
	res, err := runWith(ctx, r, what, cmd, opt)
	if err != nil {
		return res, err
	}
	if res.Exit != 0 {
		return res, exitError(what, cmd, res)
	}
	return res, nil
}
