package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"diffuser/remote/sshdtest"
	"diffuser/runner"
)

// TestRunThenOneShell: a guard and its command go to one shell; each
// gets its own exit status, stdout, stderr and Output, and Env; the
// second runs only when the condition holds.
func TestRunThenOneShell(t *testing.T) { forDrivers(t, testRunThenOneShell) }

func testRunThenOneShell(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		guardExit  int
		when       runner.Then
		wantSecond bool
	}{
		{"unless fails: run", 3, runner.IfFailed, true},
		{"unless holds: skip", 0, runner.IfFailed, false},
		{"if ok: run", 0, runner.IfSucceeded, true},
		{"if ok, failed: skip", 1, runner.IfSucceeded, false},
	} {
		var log1, log2 bytes.Buffer
		// Output without a trailing newline, on both streams, and text
		// that looks like the protocol's words.
		first := runner.Command{
			Cmd: fmt.Sprintf(`printf 'guard out skip'; printf 'guard err' >&2; echo "$G"; exit %d`, tc.guardExit),
			Opt: runner.Options{Env: map[string]string{"G": "g'1\n"}, Output: &log1},
		}
		second := runner.Command{
			Cmd: `printf 'cmd out 0'; printf 'cmd err\n' >&2; echo "$C"; exit 7`,
			Opt: runner.Options{Env: map[string]string{"C": "$c2"}, Output: &log2},
		}
		res1, res2, err := c.RunThen(ctx, first, tc.when, second)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res1.Exit != tc.guardExit || res1.Stdout != "guard out skipg'1\n\n" || res1.Stderr != "guard err" {
			t.Errorf("%s: first %+v", tc.name, res1)
		}
		if !strings.Contains(log1.String(), "guard out skip") || !strings.Contains(log1.String(), "guard err") || strings.Contains(log1.String(), "cmd") {
			t.Errorf("%s: first's Output %q", tc.name, log1.String())
		}
		if !tc.wantSecond {
			if res2 != nil || log2.Len() != 0 {
				t.Errorf("%s: second ran: %+v, log %q", tc.name, res2, log2.String())
			}
			continue
		}
		if res2 == nil || res2.Exit != 7 || res2.Stdout != "cmd out 0$c2\n" || res2.Stderr != "cmd err\n" {
			t.Errorf("%s: second %+v", tc.name, res2)
		}
		if !strings.Contains(log2.String(), "cmd out 0") || strings.Contains(log2.String(), "guard") {
			t.Errorf("%s: second's Output %q", tc.name, log2.String())
		}
	}
	// And a plain Run after the chains, on the same shell.
	if res, err := c.Run(ctx, "echo after", runner.Options{}); err != nil || res.Stdout != "after\n" {
		t.Fatalf("run after chains: %+v %v", res, err)
	}
	if got := sessionsRan(s.log.String()); got != 1 {
		t.Errorf("sshd started %d commands for 4 chains and a run, want 1 shell", got)
	}
}

// TestRunThenCancelInGuard: a cancel while the guard runs never starts
// the command, and the next command gets a working shell.
func TestRunThenCancelInGuard(t *testing.T) {
	slowInShort(t)
	forDrivers(t, testRunThenCancelInGuard)
}

func testRunThenCancelInGuard(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	dir := t.TempDir()
	marker := fmt.Sprintf("%d.%03d", 400+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%991)
	// Long enough for the shell to start and the guard to print under load.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	res1, res2, err := c.RunThen(ctx,
		runner.Command{Cmd: "echo checking; sleep " + marker + "; exit 1"},
		runner.IfFailed,
		runner.Command{Cmd: "touch " + ShellQuote(dir+"/ran")})
	if !errors.Is(err, context.DeadlineExceeded) || res2 != nil || res1.Exit != -1 || res1.Stdout != "checking\n" {
		t.Fatalf("cancelled guard: %+v %+v %v", res1, res2, err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the cancel took %s", d)
	}
	waitGone(t, "sleep", marker)
	time.Sleep(300 * time.Millisecond)
	res, err := c.Run(context.Background(), "test -e "+ShellQuote(dir+"/ran")+"; echo $?", runner.Options{})
	if err != nil || res.Stdout != "1\n" {
		t.Fatalf("the command ran after its guard was cancelled (or the next run failed): %+v %v", res, err)
	}
}

// TestRunThenCancelInCommand: a cancel while the second command runs
// reports it as started, with its output so far, and kills it.
func TestRunThenCancelInCommand(t *testing.T) {
	slowInShort(t)
	_, _, c := newTestClient(t, sshdOptions{})
	marker := fmt.Sprintf("%d.%03d", 600+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%997)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res1, res2, err := c.RunThen(ctx,
		runner.Command{Cmd: "exit 1"},
		runner.IfFailed,
		runner.Command{Cmd: "echo working; sleep " + marker})
	if !errors.Is(err, context.DeadlineExceeded) || res1.Exit != 1 || res2 == nil || res2.Exit != -1 || res2.Stdout != "working\n" {
		t.Fatalf("cancelled command: %+v %+v %v", res1, res2, err)
	}
	waitGone(t, "sleep", marker)
}

// TestRunThenFallsBack: commands a shell does not take (stdin, a
// Timeout) and NoShell clients run as two Runs with the same results.
func TestRunThenFallsBack(t *testing.T) {
	env, s, c := newTestClient(t, sshdOptions{})
	ctx := context.Background()
	res1, res2, err := c.RunThen(ctx,
		runner.Command{Cmd: "exit 1", Opt: runner.Options{Timeout: time.Minute}},
		runner.IfFailed,
		runner.Command{Cmd: "cat", Opt: runner.Options{Stdin: strings.NewReader("in")}})
	if err != nil || res1.Exit != 1 || res2 == nil || res2.Stdout != "in" {
		t.Fatalf("fallback: %+v %+v %v", res1, res2, err)
	}
	cfg := env.config(s)
	cfg.NoShell = true
	p := NewPool()
	defer p.Close()
	nc, err := p.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res1, res2, err = nc.RunThen(ctx, runner.Command{Cmd: "true"}, runner.IfFailed, runner.Command{Cmd: "echo no"})
	if err != nil || res1.Exit != 0 || res2 != nil {
		t.Fatalf("NoShell, guard holds: %+v %+v %v", res1, res2, err)
	}
	res1, res2, err = nc.RunThen(ctx, runner.Command{Cmd: "false"}, runner.IfFailed, runner.Command{Cmd: "echo yes"})
	if err != nil || res1.Exit != 1 || res2 == nil || res2.Stdout != "yes\n" {
		t.Fatalf("NoShell, guard fails: %+v %+v %v", res1, res2, err)
	}
}

// TestRunThenBeforeOrdersOutput: with one writer for both commands, all
// of the first's stdout and stderr come before the second's Before hook,
// and all of the second's after it.
func TestRunThenBeforeOrdersOutput(t *testing.T) { forDrivers(t, testRunThenBeforeOrdersOutput) }

func testRunThenBeforeOrdersOutput(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	for range 5 {
		var log sshdtest.LockedBuffer
		prev := -2
		res1, res2, err := c.RunThen(context.Background(),
			runner.Command{Cmd: "for i in 1 2 3; do echo o$i; echo e$i >&2; done; exit 4", Opt: runner.Options{Output: &log}},
			runner.IfFailed,
			runner.Command{Cmd: "echo O; echo E >&2; echo O2", Opt: runner.Options{Output: &log},
				Before: func(p int) { prev = p; _, _ = log.Write([]byte("|BOUNDARY|")) }})
		if err != nil || res1.Exit != 4 || res2 == nil || res2.Exit != 0 || prev != 4 {
			t.Fatalf("%+v %+v %v (before got %d)", res1, res2, err, prev)
		}
		first, second, ok := strings.Cut(log.String(), "|BOUNDARY|")
		if !ok || len(first) != len("o1\ne1\no2\ne2\no3\ne3\n") || strings.ContainsAny(first, "OE") ||
			len(second) != len("O\nE\nO2\n") || strings.ContainsAny(second, "oe") {
			t.Fatalf("the log mixes the commands: %q", log.String())
		}
	}
}
