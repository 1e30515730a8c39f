package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"diffuser/remote"
	"diffuser/runner"
)

// runLogs is an apply's step log (remote.RunLog): every step instance
// that runs a command logs to <dir>/steps.log through it. The file is
// opened on the first command, so an apply that runs none creates no
// file; an apply creates one file whatever its number of instances.
// Without a directory nothing is logged.
type runLogs struct {
	dir string

	mu     sync.Mutex
	opened bool
	log    *remote.RunLog
	err    error // opening or closing it
}

// get opens the log on first use; nil: no logging (no directory, or it
// could not be opened: steps still run).
func (l *runLogs) get() *remote.RunLog {
	if l == nil || l.dir == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.opened {
		l.opened = true
		l.log, l.err = remote.OpenRunLog(l.dir)
	}
	return l.log
}

// close writes what is buffered and closes the file; it returns why the
// log could not be opened or written, if so.
func (l *runLogs) close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log != nil {
		if err := l.log.Close(); err != nil && l.err == nil {
			l.err = err
		}
	}
	return l.err
}

// loggedRunner writes every command of a step instance and its output to
// the instance's log (a remote.Log in the run's log). For sensitive
// steps it writes neither the command nor its output (nor an upload's
// path), only exit statuses.
type loggedRunner struct {
	r         runner.Runner
	sensitive bool
	logs      *runLogs // nil: nothing is logged
	step      string
	host      string

	mu  sync.Mutex
	log *remote.Log // set by the first command
}

// file is the instance's log, nil when nothing can be logged.
func (l *loggedRunner) file() *remote.Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		if rl := l.logs.get(); rl != nil {
			l.log = rl.Log(l.step, l.host)
		}
	}
	return l.log
}

// path is the path of the file the instance logged to, or "" when it
// logged nothing. It is asked for to report a failure, so it first
// writes the log's buffer to the file: what the instance printed is
// there before its failure is reported.
func (l *loggedRunner) path() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		return ""
	}
	_ = l.logs.get().Flush()
	return l.log.Path()
}

func (l *loggedRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	log := l.file()
	if log == nil {
		return l.r.Run(ctx, cmd, opt)
	}
	shown := cmd
	if l.sensitive {
		shown = "(sensitive command hidden)"
	} else {
		opt.Output = teeLog(opt.Output, log)
	}
	_ = log.Begin(shown)
	res, err := l.r.Run(ctx, cmd, opt)
	_ = log.End(res.Exit, err)
	return res, err
}

func (l *loggedRunner) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	log := l.file()
	if log == nil {
		return l.r.Upload(ctx, r, path, mode)
	}
	if l.sensitive {
		// The path may be made from a sensitive value, and an upload's
		// error quotes it.
		_ = log.Begin("upload (sensitive path hidden)")
		err := l.r.Upload(ctx, r, path, mode)
		var shownErr error
		if err != nil {
			shownErr = errors.New("upload failed (details hidden: sensitive step)")
		}
		_ = log.End(0, shownErr)
		return err
	}
	_ = log.Begin("upload " + path)
	err := l.r.Upload(ctx, r, path, mode)
	_ = log.End(0, err)
	return err
}

var _ runner.Chainer = (*loggedRunner)(nil)

// RunThen logs both commands as Run would, each its own entry: the
// first's entry ends and the second's begins when it is decided that the
// second runs (runner.Command.Before), before any of its output.
func (l *loggedRunner) RunThen(ctx context.Context, first runner.Command, when runner.Then, second runner.Command) (runner.Result, *runner.Result, error) {
	log := l.file()
	if log == nil {
		return runner.RunThen(ctx, l.r, first, when, second) // cannot log: still run
	}
	shown1, shown2 := first.Cmd, second.Cmd
	if l.sensitive {
		shown1, shown2 = "(sensitive command hidden)", "(sensitive command hidden)"
	} else {
		first.Opt.Output = teeLog(first.Opt.Output, log)
		second.Opt.Output = teeLog(second.Opt.Output, log)
	}
	var mu sync.Mutex
	switched := false
	before := second.Before
	second.Before = func(prev int) {
		mu.Lock()
		switched = true
		_ = log.Switch(prev)
		_ = log.Begin(shown2)
		mu.Unlock()
		if before != nil {
			before(prev)
		}
	}
	_ = log.Begin(shown1)
	res, res2, err := runner.RunThen(ctx, l.r, first, when, second)
	mu.Lock()
	defer mu.Unlock()
	switch {
	case switched && res2 != nil:
		_ = log.End(res2.Exit, err)
	case switched:
		_ = log.End(-1, err)
	default:
		_ = log.End(res.Exit, err)
	}
	return res, res2, err
}

// teeLog adds log to a command's Output.
func teeLog(out io.Writer, log *remote.Log) io.Writer {
	if out == nil {
		return log
	}
	return io.MultiWriter(out, log)
}
