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
