package runner

import (
	"context"
)

// Then says when RunThen runs its second command, from the first's exit
// status.
type Then int

const (
	// IfFailed runs the second command when the first exited non-zero: a
	// guard that does not hold (`unless`, `test -e` of `creates`).
	IfFailed Then = iota + 1
	// IfSucceeded runs the second command when the first exited 0.
	IfSucceeded
)

// Holds reports whether the second command runs after a first command
// that exited with status exit.
func (t Then) Holds(exit int) bool {
	switch t {
	case IfFailed:
		return exit != 0
	case IfSucceeded:
		return exit == 0
	}
	return false
}

// Command is one command of RunThen with its own options.
type Command struct {
	Cmd string
	Opt Options
	// Before, when set, is called once it is decided that the command
	// runs, before any of its output reaches Opt.Output, with the exit
	// status of the command before it (a log closes that one's entry and
	// opens this one's). It is not called for a command that does not run,
	// nor for RunThen's first command.
	Before func(prevExit int)
}

// Chainer is implemented by runners that can run a command and, when its
// exit status says so, a second one in one round trip (a remote shell
// receives both, runs the first and decides). The semantics are RunThen's.
type Chainer interface {
	RunThen(ctx context.Context, first Command, when Then, second Command) (Result, *Result, error)
}

// RunThen runs first and then, when `when` holds for its exit status,
// second: in one round trip on a Chainer, else as two Runs. Each command
// has its own options, output and Result, as if run by Run.
//
// The second Result is nil when second did not start. A non-nil error
// (transport, cancel, timeout: Run's errors) belongs to first when the
// second Result is nil, else to second; a cancel while first runs never
// starts second.
func RunThen(ctx context.Context, r Runner, first Command, when Then, second Command) (Result, *Result, error) {
	if c, ok := r.(Chainer); ok {
		return c.RunThen(ctx, first, when, second)
	}
	return RunThenSeparately(ctx, r, first, when, second)
}

// RunThenSeparately is RunThen as two Runs: for runners that are not
// Chainers, and for Chainers given commands they cannot send together.
func RunThenSeparately(ctx context.Context, r Runner, first Command, when Then, second Command) (Result, *Result, error) {
	res, err := r.Run(ctx, first.Cmd, first.Opt)
	if err != nil || !when.Holds(res.Exit) {
		return res, nil, err
	}
	if err := ctx.Err(); err != nil {
		return res, nil, err
	}
	if second.Before != nil {
		second.Before(res.Exit)
	}
	res2, err := r.Run(ctx, second.Cmd, second.Opt)
	return res, &res2, err
}
