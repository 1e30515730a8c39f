package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// Runner runs commands on one host.
type Runner interface {
	// Run runs cmd with /bin/sh -c semantics (as root: sudo is the runner's business).
	// A non-zero exit is reported in Result.Exit with a nil error; err is for
	// transport failures and ctx cancellation.
	Run(ctx context.Context, cmd string, opt Options) (Result, error)
	// Upload writes r to path atomically (temp file + rename) with mode.
	Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error
}

// Options are optional settings for one command.
type Options struct {
	// Env is exported to the command. Names must be shell identifiers;
	// values may hold anything (a Runner quotes them).
	Env map[string]string
	// Stdin is copied to the command's stdin, then closed. It should end:
	// a reader that blocks forever keeps a goroutine alive.
	Stdin io.Reader
	// Timeout ends the command; 0 = none.
	Timeout time.Duration
	// Output receives stdout and stderr together as they arrive (logs);
	// may be nil. A write error does not stop the command.
	Output io.Writer
}

// Result is a finished command.
type Result struct {
	Exit   int    // exit status; 128+n when killed by signal n, -1 when unknown
	Stdout string // a Runner may keep only the tail
	Stderr string // a Runner may keep only the tail
}

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
