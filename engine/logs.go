package engine

import (
	"context"
	"io"
	"os"
	"sync"

	"diffuser/remote"
	"diffuser/runner"
)

// loggedRunner writes every command and its output to a step instance's
// log file. For sensitive steps it writes neither the command nor its
// output, only exit statuses.
//
// The file is opened on the first command, so an instance that runs none
// (simulated kinds, for instance) costs no file. Without a log directory
// nothing is logged.
type loggedRunner struct {
	r         runner.Runner
	sensitive bool
	logDir    string
	step      string
	host      string

	mu  sync.Mutex
	log *remote.Log
	err error
}

// file opens the log on first use.
func (l *loggedRunner) file() *remote.Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil && l.err == nil && l.logDir != "" {
		l.log, l.err = remote.OpenLog(l.logDir, l.step, l.host)
	}
	return l.log
}

// path is the log file's path, or "" when nothing was logged.
func (l *loggedRunner) path() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		return ""
	}
	return l.log.Path()
}

func (l *loggedRunner) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log != nil {
		_ = l.log.Close()
	}
}

func (l *loggedRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	shown := cmd
	if l.sensitive {
		shown = "(sensitive command hidden)"
	}
	log := l.file()
	if log == nil {
		return l.r.Run(ctx, cmd, opt) // cannot log: still run
	}
	_ = log.Begin(shown)
	if !l.sensitive {
		if opt.Output != nil {
			opt.Output = io.MultiWriter(opt.Output, log)
		} else {
			opt.Output = log
		}
	}
	res, err := l.r.Run(ctx, cmd, opt)
	_ = log.End(res.Exit, err)
	return res, err
}

func (l *loggedRunner) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	log := l.file()
	if log == nil {
		return l.r.Upload(ctx, r, path, mode)
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
		_ = log.End(prev, nil)
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
