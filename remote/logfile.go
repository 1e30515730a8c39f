package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RunLogName is the file, in a run's log directory, that every step
// instance of the run logs to (OpenRunLog).
const RunLogName = "steps.log"

// RunLog is the one step log of a run: <dir>/steps.log, dir being the
// run's log directory. Every step instance on every host appends records
// to it through its own Log (RunLog.Log); nothing is created per
// instance. A record is a line
//
//	@@ <n>\t<host>\t<step>
//
// followed by n bytes of that instance's log text, followed by a newline
// when those bytes do not end with one (so the next record starts a
// line). The records of one instance, in order, are its log: what the
// per-instance files of earlier versions held (<dir>/<step>/<host>.log,
// see Log). Records of instances running at once interleave (a record
// is never split); ScanRunLog and InstanceLogs take them apart.
//
// Writes go to a buffer, written to the file when it fills, at most
// FlushEvery after a record was buffered, when a command's footer says it
// failed (so a failure is never reported before what the command printed
// is in the file; callers reporting another failure call Flush), and at
// Close. A process killed outright loses at most FlushEvery of records.
// The file is not fsynced, as the per-instance files were not: what was
// written survives the process, not the machine losing power. Its
// methods are safe for concurrent use.
type RunLog struct {
	path       string
	flushEvery time.Duration

	mu    sync.Mutex // guards everything below
	f     *os.File
	w     *bufio.Writer
	timer *time.Timer // armed while the buffer holds unwritten records
	err   error       // the first write error; later writes fail with it
	now   func() time.Time

	maxCommandLog int64 // 0: MaxCommandLog
}

// FlushEvery is how long a record stays in a RunLog's buffer at most
// before it is written to the file (`tail -f` shows a run this far
// behind).
const FlushEvery = 200 * time.Millisecond

// runLogBuffer is a RunLog's buffer size.
const runLogBuffer = 64 << 10

// OpenRunLog opens (creating, or appending to) the step log of a run
// under dir, its log directory (<data-dir>/<workspace>/runs/<id>/logs).
// The directory is created 0700 and the file 0600: output may contain
// what the operator should see and nobody else.
func OpenRunLog(dir string) (*RunLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	p := filepath.Join(dir, RunLogName)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening log: %w", err)
	}
	// O_CREATE's mode is not applied to an existing file.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opening log: %w", err)
	}
	return &RunLog{path: p, flushEvery: FlushEvery, f: f, w: bufio.NewWriterSize(f, runLogBuffer), now: time.Now}, nil
}

// Path returns the run log's path.
func (r *RunLog) Path() string { return r.path }

// Log returns the log of step's instance on host. It costs no file: its
// records go to r. Path separators and other awkward characters in step
// and host become '_' (LogName).
func (r *RunLog) Log(step, host string) *Log {
	return &Log{run: r, prefix: "@@ ", suffix: "\t" + LogName(host) + "\t" + LogName(step) + "\n"}
}

// Flush writes what is buffered to the file.
func (r *RunLog) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushLocked()
}

func (r *RunLog) flushLocked() error {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.w == nil {
		return r.closedErr()
	}
	if r.err != nil {
		return r.err
	}
	if err := r.w.Flush(); err != nil {
		r.err = fmt.Errorf("writing log %s: %w", r.path, err)
		return r.err
	}
	return nil
}

// Close writes what is buffered and closes the file. Later writes fail.
func (r *RunLog) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.flushLocked()
	if cerr := r.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing log %s: %w", r.path, cerr)
	}
	r.f, r.w = nil, nil
	return err
}

func (r *RunLog) closedErr() error { return fmt.Errorf("log %s: %w", r.path, os.ErrClosed) }

// record appends one record of an instance (its header parts around the
// length) and, when flush is set, writes the buffer to the file.
func (r *RunLog) record(prefix, suffix string, b []byte, flush bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return r.closedErr()
	}
	if r.err != nil {
		return r.err
	}
	var num [20]byte
	_, _ = r.w.WriteString(prefix)
	_, _ = r.w.Write(strconv.AppendInt(num[:0], int64(len(b)), 10))
	_, _ = r.w.WriteString(suffix)
	_, _ = r.w.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		_ = r.w.WriteByte('\n')
	}
	// bufio keeps the first error and returns it from then on.
	if _, err := r.w.Write(nil); err != nil {
		r.err = fmt.Errorf("writing log %s: %w", r.path, err)
		return r.err
	}
	switch {
	case flush:
		return r.flushLocked()
	case r.timer == nil && r.w.Buffered() > 0:
		r.timer = time.AfterFunc(r.flushEvery, func() { _ = r.Flush() })
	}
	return nil
}

// Log is the log of one step instance on one host. Each command in it
// sits between a header (time, command) written by Begin and a footer
// (exit status or error, duration) written by End; the command's output
// goes to Write in between (pass the Log as runner.Options.Output). Its
// text goes to its run's RunLog as records; InstanceLog reads it back.
// Its methods are safe for concurrent use.
type Log struct {
	run            *RunLog
	prefix, suffix string // of its records' header line

	mu      sync.Mutex // guards the fields below
	start   time.Time
	logged  int64 // output bytes of the current command written
	dropped int64 // output bytes of the current command past MaxCommandLog
}

// MaxCommandLog bounds the output one command writes to its run's log. A
// command that prints without end (a host gone wrong, `yes`, a flood from
// a compromised host) would otherwise fill the operator's disk at network
// speed for as long as its timeout lets it run. Output past the bound is
// counted, not written, and the command's footer says how much was left
// out; the tail a failure reports comes from the runner, not the log.
const MaxCommandLog = 64 << 20

// Path returns the path of the file the log is in (its run's log).
func (l *Log) Path() string { return l.run.Path() }

// Begin writes the header of a command. cmd is written as given: redact
// sensitive values before.
func (l *Log) Begin(cmd string) error {
	l.mu.Lock()
	l.start = l.run.now()
	start := l.start
	l.logged, l.dropped = 0, 0
	l.mu.Unlock()
	return l.run.record(l.prefix, l.suffix, fmt.Appendf(nil, "=== %s $ %s\n", start.Format(time.RFC3339), indentContinuation(cmd)), false)
}

// Write appends command output, up to MaxCommandLog bytes per command;
// what is past it is counted (End says how much) and reported as written.
func (l *Log) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.mu.Lock()
	keep := min(int64(len(p)), max(l.run.maxCommand()-l.logged, 0))
	l.logged += keep
	l.dropped += int64(len(p)) - keep
	l.mu.Unlock()
	if keep == 0 {
		return len(p), nil
	}
	if err := l.run.record(l.prefix, l.suffix, p[:keep], false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// maxCommand is MaxCommandLog, or a test's smaller bound.
func (r *RunLog) maxCommand() int64 {
	if r.maxCommandLog > 0 {
		return r.maxCommandLog
	}
	return MaxCommandLog
}

// footer is the end of a command's log text: how much output was left
// out, if any, then status and duration.
func (l *Log) footer(status string) []byte {
	l.mu.Lock()
	d := l.run.now().Sub(l.start).Round(time.Millisecond)
	dropped := l.dropped
	l.logged, l.dropped = 0, 0
	l.mu.Unlock()
	if dropped > 0 {
		return fmt.Appendf(nil, "\n=== %d more bytes of output not logged (a command logs at most %d)\n=== %s after %s\n", dropped, l.run.maxCommand(), status, d)
	}
	return fmt.Appendf(nil, "\n=== %s after %s\n", status, d)
}

// End writes the footer of the command begun last: its exit status, or
// runErr when the command did not finish, and its duration. A footer of a
// failure (exit status not 0, or runErr) is written to the file before
// End returns.
func (l *Log) End(exit int, runErr error) error {
	status := fmt.Sprintf("exit %d", exit)
	if runErr != nil {
		status = "error: " + runErr.Error()
	}
	return l.run.record(l.prefix, l.suffix, l.footer(status), exit != 0 || runErr != nil)
}

// Switch writes the footer of the command begun last when its exit
// status decided that another command runs (a check that says the step
// must apply): as End, but it is not a failure, so it is not written to
// the file at once.
func (l *Log) Switch(exit int) error {
	return l.run.record(l.prefix, l.suffix, l.footer(fmt.Sprintf("exit %d", exit)), false)
}

// ScanRunLog reads a run log's records in order and calls fn with each
// one's host, step (as LogName made them) and text. A record cut short
// (the process ended while writing it) is passed as far as it goes.
func ScanRunLog(r io.Reader, fn func(host, step string, text []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	line := 0
	for {
		head, err := br.ReadString('\n')
		if err == io.EOF && head == "" {
			return nil
		}
		line++
		if err != nil && err != io.EOF {
			return err
		}
		n, host, step, ok := parseRecordHead(strings.TrimSuffix(head, "\n"))
		if !ok {
			return fmt.Errorf("line %d: %q is not a record header (@@ <length>\\t<host>\\t<step>)", line, strings.TrimSpace(head))
		}
		text := make([]byte, n)
		got, rerr := io.ReadFull(br, text)
		text = text[:got]
		line += bytes.Count(text, []byte("\n"))
		if got > 0 || n == 0 {
			if err := fn(host, step, text); err != nil {
				return err
			}
		}
		if rerr != nil { // cut short
			return nil
		}
		if n > 0 && text[n-1] != '\n' { // the newline that ends the record's last line
			if c, err := br.ReadByte(); err == nil && c != '\n' {
				_ = br.UnreadByte()
			} else if err == nil {
				line++
			}
		}
	}
}

func parseRecordHead(s string) (n int, host, step string, ok bool) {
	rest, ok := strings.CutPrefix(s, "@@ ")
	if !ok {
		return 0, "", "", false
	}
	num, rest, ok := strings.Cut(rest, "\t")
	if !ok {
		return 0, "", "", false
	}
	host, step, ok = strings.Cut(rest, "\t")
	if !ok {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, "", "", false
	}
	return n, host, step, true
}

// InstanceLogs reads the run log at path and returns, by host, the log
// text of step's instances (step as given or as LogName makes it), in
// the order they first logged. On an error after some records, it
// returns what it read with the error.
func InstanceLogs(path, step string) (hosts []string, texts map[string][]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	step = LogName(step)
	texts = map[string][]byte{}
	err = ScanRunLog(f, func(h, s string, text []byte) error {
		if s != step {
			return nil
		}
		if _, seen := texts[h]; !seen {
			hosts = append(hosts, h)
		}
		texts[h] = append(texts[h], text...)
		return nil
	})
	if err != nil {
		return hosts, texts, fmt.Errorf("reading %s: %w", path, err)
	}
	return hosts, texts, nil
}

// LoggedInstances reads the run log at path and returns each step that
// logged, with the hosts it logged on, in the order they first logged.
func LoggedInstances(path string) (steps []string, hosts map[string][]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	hosts = map[string][]string{}
	seen := map[[2]string]bool{}
	err = ScanRunLog(f, func(h, s string, _ []byte) error {
		if seen[[2]string{h, s}] {
			return nil
		}
		seen[[2]string{h, s}] = true
		if _, ok := hosts[s]; !ok {
			steps = append(steps, s)
		}
		hosts[s] = append(hosts[s], h)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return steps, hosts, nil
}

// LogName makes a step or host name one safe path element: no
// separators, no control characters, never "", "." or "..". Run log
// records name instances by it too, so a name holds no tab or newline.
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
