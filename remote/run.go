package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/runner"

	"golang.org/x/crypto/ssh"
)

// MaxCapture is how much of each of stdout and stderr Run keeps in its
// runner.Result: the last MaxCapture bytes. Options.Output still receives
// everything.
const MaxCapture = 1 << 20

// Grace periods when a command is cancelled: how long it gets to exit after
// SIGTERM, then after SIGKILL, and how long Run waits for the session to
// close before returning anyway.
const (
	termGrace  = 2 * time.Second
	killGrace  = time.Second
	closeGrace = 5 * time.Second
	// pgidGrace is how long a cancelled command that was sent but has not
	// yet printed its process group (a loaded host, a slow start) is
	// given to print it: only a kill of its group ends it, and without
	// the group it would run on after Run returned.
	pgidGrace = 3 * time.Second
)

var _ runner.Runner = (*Client)(nil)

// Run runs cmd with `sh -c` on the host (through `sudo -n` when the config
// asks for sudo and the user is not root). A non-zero exit is reported in
// Result.Exit with a nil error. The error is for transport failures, a
// lost connection (the command may have run in part), and the end of ctx
// or opt.Timeout, which send SIGTERM and then SIGKILL to the command and
// return the context's error with the output captured so far.
//
// A command without opt.Stdin runs in one of the connection's long-lived
// shells (see shell.go), one command per shell at a time, which saves a
// session per command; it gets /dev/null as stdin. Other commands, long
// scripts, Config.NoShell and hosts where a shell cannot start get a
// session each. Both paths give the same Result and errors.
//
// opt.Env is exported by export lines inside the script, so the server's
// AcceptEnv does not matter. Writes to opt.Output are serialized; a write
// error does not stop the command and is reported after it ended.
func (c *Client) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	script, err := buildScript(cmd, opt.Env)
	if err != nil {
		return runner.Result{}, fmt.Errorf("host %s: %w", c.cfg.Name, err)
	}
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	stdout, stderr := &tailBuffer{max: MaxCapture}, &tailBuffer{max: MaxCapture}
	var out *outputWriter
	var outW, errW io.Writer = stdout, stderr
	if opt.Output != nil {
		out = &outputWriter{w: opt.Output}
		defer out.detach()
		outW = io.MultiWriter(stdout, out)
		errW = io.MultiWriter(stderr, out)
	}
	header := &pgidHeader{next: outW}
	result := func() runner.Result {
		header.flush()
		return runner.Result{Stdout: stdout.String(), Stderr: stderr.String()}
	}
	if c.usesShell(script, opt) {
		sh, err := c.takeShell(ctx)
		switch {
		case err == nil:
			exit, err := c.runShell(ctx, sh, script, opt.Timeout, header, errW)
			res := result()
			res.Exit = exit
			if err != nil {
				return res, err
			}
			return res, out.errOrNil(c.cfg.Name)
		case !errors.Is(err, errNoShell):
			return runner.Result{}, c.notStarted(ctx, opt.Timeout, err, false)
		}
	}

	sess, cn, release, err := c.session(ctx)
	if err != nil {
		return runner.Result{}, c.notStarted(ctx, opt.Timeout, err, false)
	}
	defer release()
	defer func() { _ = sess.Close() }()
	sess.Stdout, sess.Stderr = header, errW
	var stdin io.WriteCloser
	if opt.Stdin != nil {
		if stdin, err = sess.StdinPipe(); err != nil {
			return runner.Result{}, fmt.Errorf("host %s: stdin: %w", c.cfg.Name, err)
		}
	}
	if err := request(ctx, sess, func() error { return sess.Start(c.wrap(script)) }); err != nil {
		return runner.Result{}, c.notStarted(ctx, opt.Timeout, fmt.Errorf("starting command: %w", err), true)
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, opt.Stdin)
			_ = stdin.Close()
		}()
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()

	select {
	case err = <-waited:
	case <-ctx.Done():
		c.stopCommand(sess, cn, header.waitPgid(pgidGrace), waited)
		res := result()
		res.Exit = -1
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && opt.Timeout > 0 {
			return res, fmt.Errorf("host %s: command timed out after %s: %w", c.cfg.Name, opt.Timeout, ctx.Err())
		}
		return res, fmt.Errorf("host %s: command interrupted: %w", c.cfg.Name, ctx.Err())
	}

	res := result()
	var exitErr *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Exit = exitErr.ExitStatus()
	case errors.As(err, &missing):
		res.Exit = -1
		return res, fmt.Errorf("host %s: connection lost before the command reported its exit status (it may have run in part): %w", c.cfg.Name, err)
	default:
		res.Exit = -1
		return res, fmt.Errorf("host %s: command failed in transport (it may have run in part): %w", c.cfg.Name, err)
	}
	if c.sudo && res.Exit != 0 && header.pgid() == 0 {
		// The script's first line never came: sudo did not run it.
		return res, fmt.Errorf("host %s: sudo -n refused to run the command (%s needs passwordless sudo): %s",
			c.cfg.Name, c.cfg.User, lastLine(res.Stderr))
	}
	return res, out.errOrNil(c.cfg.Name)
}

// notStarted words err, an error that kept a command from starting, as a
// timeout or an interrupt when ctx ended meanwhile. started says the
// command line may have reached the host (its exec request went out).
func (c *Client) notStarted(ctx context.Context, timeout time.Duration, err error, started bool) error {
	if ctx.Err() == nil {
		return err
	}
	what := "command interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0 {
		what = fmt.Sprintf("command timed out after %s", timeout)
	}
	ran := "it did not run"
	if started {
		ran = "it may have run in part"
	}
	return &reworded{
		msg: fmt.Sprintf("host %s: %s before the host started it (%s): %s", c.cfg.Name, what, ran,
			strings.TrimPrefix(err.Error(), "host "+c.cfg.Name+": ")),
		err: err,
	}
}

// reworded is an error with a new text that still unwraps to the old.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// errOrNil reports the first write error of the output writer, if any;
// o may be nil.
func (o *outputWriter) errOrNil(host string) error {
	if o == nil {
		return nil
	}
	if werr := o.err(); werr != nil {
		return fmt.Errorf("host %s: writing command output: %w", host, werr)
	}
	return nil
}

// stopCommand ends a running command: SIGTERM to its process group, then
// SIGKILL, then it closes the session, and waits (bounded) for the
// session's copies to finish. The signals go both as an SSH signal request
// (which sshd refuses for root logins) and as a kill command run in
// another session on the same connection, outside the session slots.
func (c *Client) stopCommand(sess *ssh.Session, cn *conn, pgid int, waited <-chan error) {
	for _, step := range []struct {
		sig   ssh.Signal
		grace time.Duration
	}{{ssh.SIGTERM, termGrace}, {ssh.SIGKILL, killGrace}} {
		_ = sess.Signal(step.sig)
		if pgid > 1 {
			c.killGroup(cn, pgid, string(step.sig))
		}
		select {
		case <-waited:
			return
		case <-time.After(step.grace):
		}
	}
	_ = sess.Close()
	select {
	case <-waited:
	case <-time.After(closeGrace):
	}
}

// killGroup runs `kill -SIG -pgid` on the host, best effort: the
// command is being abandoned whatever happens.
func (c *Client) killGroup(cn *conn, pgid int, sig string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Opening the session waits for the host's answer: on a host that
		// stopped answering it blocks until keepalive closes the
		// connection, so it is bounded by killGrace like the kill itself.
		s, err := cn.client.NewSession()
		if err != nil {
			return
		}
		defer func() { _ = s.Close() }()
		// dash's kill takes no "--": -SIG then -PGID.
		_ = s.Run(c.wrap(fmt.Sprintf("kill -%s -%d 2>/dev/null", sig, pgid)))
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
	}
}

// pgidPrefix starts the first line the script prints: the process group
// of the command, so that Run can kill the whole group on cancel. It is
// read from /proc (the login shell may or may not have exec'd sh), and
// falls back to $$.
const pgidPrefix = "diffuser-pgid:"

const pgidLine = `{ read -r _ _ _ _ diffuser_pgid _ </proc/$$/stat; } 2>/dev/null || diffuser_pgid=$$; ` +
	`echo "` + pgidPrefix + `$diffuser_pgid"; unset diffuser_pgid` + "\n"

// buildScript prefixes cmd with the process group line and an export line
// per variable, sorted by name so the same input gives the same script.
func buildScript(cmd string, env map[string]string) (string, error) {
	names := make([]string, 0, len(env))
	for name := range env {
		if !isEnvName(name) {
			return "", fmt.Errorf("environment variable name %q is not a shell identifier", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(pgidLine)
	for _, name := range names {
		fmt.Fprintf(&b, "export %s=%s\n", name, ShellQuote(env[name]))
	}
	b.WriteString(cmd)
	return b.String(), nil
}

// wrap returns the command line sent to the server, which hands it to the
// user's login shell: sh -c with the script as one quoted word, behind
// sudo -n when needed (-n: fail rather than wait for a password).
func (c *Client) wrap(script string) string {
	if c.sudo {
		return "sudo -n sh -c " + ShellQuote(script)
	}
	return "sh -c " + ShellQuote(script)
}

// pgidHeader takes the process group line off the start of stdout and
// passes everything else on. Output that does not start with the line
// (sudo failed before the script ran) passes unchanged.
type pgidHeader struct {
	next    io.Writer
	mu      sync.Mutex
	buf     []byte
	done    bool
	group   int
	decided chan struct{} // closed when done turns true; made on first use
}

func (h *pgidHeader) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return h.next.Write(p)
	}
	h.buf = append(h.buf, p...)
	n := min(len(h.buf), len(pgidPrefix))
	if string(h.buf[:n]) != pgidPrefix[:n] {
		h.flushLocked()
		return len(p), nil
	}
	i := bytes.IndexByte(h.buf, '\n')
	if i < 0 {
		if len(h.buf) > len(pgidPrefix)+20 {
			h.flushLocked()
		}
		return len(p), nil
	}
	if g, err := strconv.Atoi(string(h.buf[len(pgidPrefix):i])); err == nil {
		h.group = g
	}
	h.buf = h.buf[i+1:]
	h.flushLocked()
	return len(p), nil
}

// flush passes on what is still held back (output shorter than a line).
func (h *pgidHeader) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flushLocked()
}

func (h *pgidHeader) flushLocked() {
	if !h.done {
		h.done = true
		close(h.decidedLocked())
	}
	if len(h.buf) > 0 {
		_, _ = h.next.Write(h.buf)
		h.buf = nil
	}
}

func (h *pgidHeader) pgid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.group
}

func (h *pgidHeader) decidedLocked() chan struct{} {
	if h.decided == nil {
		h.decided = make(chan struct{})
	}
	return h.decided
}

// waitPgid is pgid once the first line told it, or told that there is
// none, waiting at most d for that: a command cancelled right after it was
// sent has often not printed its group yet, and only the group's kill
// ends it.
func (h *pgidHeader) waitPgid(d time.Duration) int {
	h.mu.Lock()
	ch, done := h.decidedLocked(), h.done
	h.mu.Unlock()
	if !done {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ch:
		case <-t.C:
		}
	}
	return h.pgid()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max { // compact now and then: amortized O(1)
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return string(b)
}

// outputWriter serializes writes of stdout and stderr to one writer. After
// the first error, or once detached (Run returned), it drops writes and
// still reports success, so a broken log never blocks the command.
type outputWriter struct {
	mu       sync.Mutex
	w        io.Writer
	firstErr error
	detached bool
}

func (o *outputWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.detached || o.firstErr != nil {
		return len(p), nil
	}
	if _, err := o.w.Write(p); err != nil {
		o.firstErr = err
	}
	return len(p), nil
}

func (o *outputWriter) err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.firstErr
}

func (o *outputWriter) detach() {
	o.mu.Lock()
	o.detached = true
	o.mu.Unlock()
}
