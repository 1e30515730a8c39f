// Command diffuser deploys distributed filesystems onto clusters of machines
// from HCL recipes and keeps them as declared.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"diffuser/internal/memlimit"
	"diffuser/workspace"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: there are changes
)

// exitCode carries a specific exit status through error returns.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// Planning or applying a large cluster holds a big, long-lived heap (every
// instance's arguments and state): with Go's default of 100 the collector
// re-scans it every time the heap doubles, which cost a 100,000-instance
// walk a third of its time. 400 collects a quarter as often; a 10,000-host
// plan still peaks near 200 MiB (BenchmarkPlan10kHosts).
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// ...and collects harder as the heap nears half the machine's memory
	// (GOMEMLIMIT overrides it): docs/scale.md, Memory.
	memlimit.Apply()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "\nStopping: no new steps will start; running ones finish and state is saved. Press Ctrl-C again to cancel them.")
				close(stop)
				continue
			}
			fmt.Fprintln(os.Stderr, "\nCancelling running steps.")
			cancel()
			return
		}
	}()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stop: stop, getenv: os.Getenv}
	a.env.Sweeper = workspace.DockerSweeper // the expired docker clusters of this machine (docs/expiry.md)
	os.Exit(a.execute(ctx, os.Args[1:]))
}

// run executes one command line in an empty environment and returns the
// process exit status.
func run(ctx context.Context, stop <-chan struct{}, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&app{stdin: stdin, stdout: stdout, stderr: stderr, stop: stop}).execute(ctx, args)
}

// shownError is an error already printed (as diagnostics).
type shownError struct{ n int }

func (e *shownError) Error() string { return fmt.Sprintf("%d error(s)", e.n) }
