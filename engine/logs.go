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
// (simulated kinds, for instance) costs no file. The first command does
// not wait for it: creating a file costs a fraction of a millisecond to
// several (a directory entry, and the filesystem journal that the state
// journal's fsyncs also wait on), which a thousand hosts' instances made
// ready at once would otherwise pay one after another before their
// commands start. Output arriving before the file is open is held (up to
// pendingMax, then the command's output waits) and written first.
// Without a log directory nothing is logged.
type loggedRunner struct {
	r         runner.Runner
	sensitive bool
	logDir    string
	step      string
	host      string

	mu     sync.Mutex
	opened chan struct{} // closed once the open ended (log or err set); nil: not started
	log    *remote.Log
	err    error
}

// pendingMax is how much output of a first command is held in memory
// while its log file is being created.
const pendingMax = 256 << 10

// startOpen starts opening the log, once: the goroutine writes the
// header of cmd (shown) and attaches pending, then closes opened. It
// returns opened and whether this call started it.
func (l *loggedRunner) startOpen(shown string, pending *pendingLog) (<-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened != nil {
		return l.opened, false
	}
	l.opened = make(chan struct{})
	go func() {
		log, err := remote.OpenLog(l.logDir, l.step, l.host)
		if log != nil && pending != nil {
			_ = log.Begin(shown)
		}
		pending.attach(log)
		l.mu.Lock()
		l.log, l.err = log, err
		l.mu.Unlock()
		close(l.opened)
	}()
	return l.opened, true
}

// file opens the log on first use and waits for it.
func (l *loggedRunner) file() *remote.Log {
	if l.logDir == "" {
		return nil
	}
	done, _ := l.startOpen("", nil) // no header: the caller writes its own
	<-done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log
}

// path is the log file's path, or "" when nothing was logged.
func (l *loggedRunner) path() string {
	l.wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		return ""
	}
	return l.log.Path()
}

// wait waits for an open in progress.
func (l *loggedRunner) wait() {
	l.mu.Lock()
	done := l.opened
	l.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (l *loggedRunner) close() {
	l.wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log != nil {
		_ = l.log.Close()
	}
}

func (l *loggedRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if l.logDir == "" {
		return l.r.Run(ctx, cmd, opt)
	}
	shown := cmd
	if l.sensitive {
		shown = "(sensitive command hidden)"
	}
	pending := &pendingLog{}
	done, started := l.startOpen(shown, pending)
	if !started {
		// A later command: the log is open (or could not be).
		<-done
		l.mu.Lock()
		log := l.log
		l.mu.Unlock()
		if log == nil {
			return l.r.Run(ctx, cmd, opt) // cannot log: still run
		}
		_ = log.Begin(shown)
		pending.attach(log)
	}
	if !l.sensitive {
		if opt.Output != nil {
			opt.Output = io.MultiWriter(opt.Output, pending)
		} else {
			opt.Output = pending
		}
	}
	res, err := l.r.Run(ctx, cmd, opt)
	<-done
	if log := pending.attached(); log != nil {
		_ = log.End(res.Exit, err)
	}
	return res, err
}

// pendingLog holds a command's output until its log is open, then writes
// it there and passes the rest straight through. A log that could not be
// opened drops it.
type pendingLog struct {
	mu         sync.Mutex
	log        *remote.Log
	isAttached bool
	buf        []byte
	ready      chan struct{} // closed by attach, made by a writer waiting for it
}

func (p *pendingLog) Write(b []byte) (int, error) {
	p.mu.Lock()
	for !p.isAttached && len(p.buf)+len(b) > pendingMax {
		if p.ready == nil {
			p.ready = make(chan struct{})
		}
		ch := p.ready
		p.mu.Unlock()
		<-ch // the file is being created: wait for it rather than hold more
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	switch {
	case !p.isAttached:
		p.buf = append(p.buf, b...)
	case p.log != nil:
		return p.log.Write(b)
	}
	return len(b), nil
}

// attach writes what was held to log (nil: drops it) and passes later
// writes through. A nil p does nothing.
func (p *pendingLog) attach(log *remote.Log) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if log != nil && len(p.buf) > 0 {
		_, _ = log.Write(p.buf)
	}
	p.log, p.isAttached, p.buf = log, true, nil
	if p.ready != nil {
		close(p.ready)
	}
}

// attached is the log writes go to once attached.
func (p *pendingLog) attached() *remote.Log {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log
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
