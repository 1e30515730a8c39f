package remote

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Log is the log file of one step instance on one host,
// <dir>/<step>/<host>.log, dir being a run's log directory. Each command in it sits between a header
// (time, command) written by Begin and a footer (exit status or error,
// duration) written by End; the command's output goes to Write in between
// (pass the Log as runner.Options.Output). Its methods are safe for concurrent use.
type Log struct {
	path  string
	mu    sync.Mutex // guards f and start
	f     *os.File
	start time.Time
	now   func() time.Time
}

// OpenLog creates (or truncates) the log of step on host under dir, a
// run's log directory (<data-dir>/<workspace>/runs/<id>/logs). Directories are created
// 0700 and the file 0600: output may contain what the operator should see
// and nobody else. Path separators and other awkward characters in step
// and host become '_'.
func OpenLog(dir, step, host string) (*Log, error) {
	stepDir := filepath.Join(dir, LogName(step))
	if err := os.MkdirAll(stepDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	p := filepath.Join(stepDir, LogName(host)+".log")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening log: %w", err)
	}
	// O_CREATE's mode is not applied to an existing file.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opening log: %w", err)
	}
	return &Log{path: p, f: f, now: time.Now}, nil
}

// Path returns the log file's path.
func (l *Log) Path() string { return l.path }

// Begin writes the header of a command. cmd is written as given: redact
// sensitive values before.
func (l *Log) Begin(cmd string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start = l.now()
	return l.writeLocked(fmt.Sprintf("=== %s $ %s\n", l.start.Format(time.RFC3339), indentContinuation(cmd)))
}

// Write appends command output.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	n, err := l.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("writing log %s: %w", l.path, err)
	}
	return n, nil
}

// End writes the footer of the command begun last: its exit status, or
// runErr when the command did not finish, and its duration.
func (l *Log) End(exit int, runErr error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.now().Sub(l.start).Round(time.Millisecond)
	status := fmt.Sprintf("exit %d", exit)
	if runErr != nil {
		status = "error: " + runErr.Error()
	}
	return l.writeLocked(fmt.Sprintf("\n=== %s after %s\n", status, d))
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("closing log %s: %w", l.path, err)
	}
	return nil
}

func (l *Log) writeLocked(s string) error {
	if l.f == nil {
		return fmt.Errorf("log %s: %w", l.path, os.ErrClosed)
	}
	if _, err := l.f.WriteString(s); err != nil {
		return fmt.Errorf("writing log %s: %w", l.path, err)
	}
	return nil
}

// LogName makes a step or host name one safe path element: no
// separators, no control characters, never "", "." or "..".
func LogName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || r < 0x20 || r == 0x7f:
			return '_'
		}
		return r
	}, s)
	if strings.Trim(s, ".") == "" {
		s = strings.ReplaceAll(s, ".", "_")
	}
	if s == "" {
		s = "_"
	}
	return s
}

// indentContinuation indents the lines after the first of a multi-line
// command so the header stays readable.
func indentContinuation(cmd string) string {
	return strings.ReplaceAll(strings.TrimRight(cmd, "\n"), "\n", "\n    ")
}
