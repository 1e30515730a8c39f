package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
)

// script answers commands from a map: exit status, or an error.
type script struct {
	exits map[string]int
	fail  map[string]error
	ran   []string
}

func (s *script) Run(_ context.Context, cmd string, opt Options) (Result, error) {
	s.ran = append(s.ran, cmd)
	if opt.Output != nil {
		_, _ = io.WriteString(opt.Output, cmd)
	}
	if err := s.fail[cmd]; err != nil {
		return Result{Exit: -1}, err
	}
	return Result{Exit: s.exits[cmd], Stdout: cmd}, nil
}

func (s *script) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

func TestThenHolds(t *testing.T) {
	for _, tc := range []struct {
		when Then
		exit int
		want bool
	}{{IfFailed, 1, true}, {IfFailed, 0, false}, {IfFailed, -1, true}, {IfSucceeded, 0, true}, {IfSucceeded, 2, false}, {Then(0), 0, false}} {
		if got := tc.when.Holds(tc.exit); got != tc.want {
			t.Errorf("%d.Holds(%d) = %v, want %v", tc.when, tc.exit, got, tc.want)
		}
	}
}

// TestRunThenSeparately: the fallback runs the second only when the
// condition holds, calls Before with the first's status in between, and
// says whose the error is.
func TestRunThenSeparately(t *testing.T) {
	lost := errors.New("lost")
	s := &script{exits: map[string]int{"guard-fails": 1, "cmd": 5}, fail: map[string]error{"guard-lost": lost}}
	prev := -9
	second := Command{Cmd: "cmd", Before: func(p int) { prev = p }}
	res, res2, err := RunThen(context.Background(), s, Command{Cmd: "guard-fails"}, IfFailed, second)
	if err != nil || res.Exit != 1 || res2 == nil || res2.Exit != 5 || prev != 1 {
		t.Fatalf("guard fails: %+v %+v %v before %d", res, res2, err, prev)
	}
	prev = -9
	res, res2, err = RunThen(context.Background(), s, Command{Cmd: "guard-holds"}, IfFailed, second)
	if err != nil || res.Exit != 0 || res2 != nil || prev != -9 {
		t.Fatalf("guard holds: %+v %+v %v before %d", res, res2, err, prev)
	}
	res, res2, err = RunThen(context.Background(), s, Command{Cmd: "guard-lost"}, IfFailed, second)
	if !errors.Is(err, lost) || res2 != nil {
		t.Fatalf("guard lost: %+v %+v %v", res, res2, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.ran = nil
	_, res2, err = RunThen(ctx, s, Command{Cmd: "guard-fails"}, IfFailed, second)
	if !errors.Is(err, context.Canceled) || res2 != nil || len(s.ran) != 1 {
		t.Fatalf("cancelled: %+v %v, ran %q", res2, err, s.ran)
	}
}
