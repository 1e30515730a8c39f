package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/runner"

	"golang.org/x/crypto/ssh"
)

// A shell is one long-lived remote `sh` on a pooled connection that runs
// commands one after another, so that a command costs one round trip on
// an open session instead of a new session (channel open, exec request,
// a login shell, exit status, close). See driverScript for the protocol.
//
// A shell runs one command at a time; concurrent commands on a host take
// other shells (each one a session slot) or, when none can start, fall
// back to a session per command. Idle shells hold their session slot and
// are closed when a session is needed and no slot is free.
type shell struct {
	sess    *ssh.Session
	stdin   io.WriteCloser
	stdout  io.Reader
	stderr  io.Reader
	cn      *conn
	release func() // gives the session slot back; call after closing sess
	pid     int    // the driver loop's process id on the host
	once    sync.Once
}

// shellReady starts the line the driver prints once it runs, followed by
// its process id: output before it (a login shell's rc files) is skipped.
const shellReady = "diffuser-shell-ready-1"

// maxShellScript is the largest script sent through a shell: the driver
// reads it a byte at a time (sh's read), so longer scripts are cheaper in
// a session of their own.
const maxShellScript = 32 << 10

// shellStartTimeout bounds the wait for a new shell's ready line.
const shellStartTimeout = 10 * time.Second

// driverScript is the loop the shell runs. Its ready line carries its
// process id. Each command arrives as a header line "<delim> <mark>" (two
// fresh random tokens), then the script's lines, then a line holding only
// <delim>. A header "<delim> <mark> <cond>" makes the command conditional
// on the status of the one before it (condIfOK, condIfFailed): when that
// does not hold the loop writes "<mark> skip" instead of running it, so a
// check and the command it guards go in one write (RunThen). The script is kept in a
// variable and run by `sh -c "$s"` ($0 sh, no arguments): no text of it is
// ever parsed by the loop. It runs in a process group of its own, which a
// cancel kills without touching the loop, with stdin from /dev/null so
// that it cannot read the protocol. After it exits the loop writes
// "<mark> <status>\n" to stdout and "<mark>\n" to stderr; the controller
// splits the streams at the marks. The loop's own stderr is /dev/null (a
// shell reports a command killed by a signal on the stderr it gave the
// command, so the script's first line, added by runShell, moves the
// session's stderr from fd 3 to fd 2 in the command's own process).
//
// Where bash is installed the loop runs in bash, which starts each
// command with job control on (set -m, which bash allows without a
// terminal): `sh -c "$s" &` is a fork and one exec, in a process group of
// its own. Job control is off again for `wait`, which then waits for the
// command to end (with it on, bash's wait also returns when the command
// is stopped). Elsewhere the loop is sh's and each command goes through setsid
// (its own session and group), a second exec per command. Without bash
// and setsid the driver exits before the ready line and commands fall
// back to sessions. Either way the command itself runs under sh.
var driverScript = "if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc -c " +
	ShellQuote(driverLoop(`set -m; sh -c "$diffuser_s" </dev/null & set +m; wait $!`)) + "; fi\n" +
	setsidDriver

// setsidDriver is driverScript's loop for hosts without bash.
var setsidDriver = "command -v setsid >/dev/null 2>&1 || exit 97\n" +
	driverLoop(`setsid sh -c "$diffuser_s" </dev/null`)

// driverLoop is the loop of driverScript: run runs the script held in
// $diffuser_s and leaves its status in $?.
func driverLoop(run string) string {
	return `exec 3>&2 2>/dev/null
echo ` + shellReady + ` $$
diffuser_st=0
while IFS= read -r diffuser_h; do
  diffuser_d=${diffuser_h%% *}
  diffuser_m=${diffuser_h#* }
  diffuser_c=${diffuser_m#* }
  diffuser_m=${diffuser_m%% *}
  diffuser_s=
  while IFS= read -r diffuser_l; do
    [ "$diffuser_l" = "$diffuser_d" ] && break
    diffuser_s="$diffuser_s$diffuser_l
"
  done
  case $diffuser_c in
    ` + condIfOK + `) [ "$diffuser_st" = 0 ] ;;
    ` + condIfFailed + `) [ "$diffuser_st" != 0 ] ;;
    *) true ;;
  esac
  if [ $? = 0 ]; then
    ` + run + `
    diffuser_st=$?
    printf '%s %d\n' "$diffuser_m" "$diffuser_st"
  else
    printf '%s skip\n' "$diffuser_m"
  fi
  printf '%s\n' "$diffuser_m" >&3
done
`
}

// Conditions of a header (see driverScript).
const (
	condIfOK     = "ifok"
	condIfFailed = "iffail"
)

// shellPrologue starts every script run in a shell: stderr is the
// session's (fd 3 of the driver), and fd 3 is not the command's business.
const shellPrologue = "exec 2>&3 3>&-\n"

// errShellRetry: the server refused a session for a new shell while
// others of ours are open: take a shell that finishes instead.
var errShellRetry = errors.New("server refused one more session")

// errNoShell says a shell could not be used: run the command in a session.
var errNoShell = errors.New("no remote shell")

// usesShell reports whether a command goes through a shell: not with
// stdin (the command reads the session's), not with a NUL (sh cannot hold
// it; the session path reports what the server makes of it), not for a
// long script, and not when the config turns shells off.
func (c *Client) usesShell(script string, opt runner.Options) bool {
	return !c.cfg.NoShell && opt.Stdin == nil && len(script) <= maxShellScript &&
		strings.IndexByte(script, 0) < 0
}

// takeShell returns an idle shell of the current connection or starts one.
// When every session slot is taken and some are shells, it waits for one
// of them to finish rather than queue for a slot. It returns errNoShell
// when shells do not work on this connection.
func (c *Client) takeShell(ctx context.Context) (*shell, error) {
	for {
		cn, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		cn.mu.Lock()
		if cn.noShell {
			cn.mu.Unlock()
			return nil, errNoShell
		}
		if n := len(cn.idle); n > 0 {
			sh := cn.idle[n-1]
			cn.idle = cn.idle[:n-1]
			cn.mu.Unlock()
			return sh, nil
		}
		if cn.shells >= cn.limit {
			wake := cn.shellFreed
			cn.mu.Unlock()
			select {
			case <-wake:
				continue
			case <-cn.done:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("host %s: waiting for a free remote shell: %w", c.cfg.Name, ctx.Err())
			}
		}
		cn.shells++ // counted from now, so that others wait for it
		cn.mu.Unlock()
		sh, err := c.newShell(ctx, cn)
		if errors.Is(err, errShellRetry) {
			continue // the server refused one more session: wait for a shell
		}
		return sh, err
	}
}

// newShell opens a session and starts the driver in it; cn has counted
// the shell already (it is uncounted on failure).
func (c *Client) newShell(ctx context.Context, cn *conn) (*shell, error) {
	sess, scn, release, err := c.sessionFor(ctx, true)
	if err == nil && scn != cn { // reconnected meanwhile
		cn.mu.Lock()
		cn.shells--
		cn.mu.Unlock()
		scn.mu.Lock()
		scn.shells++
		scn.mu.Unlock()
	}
	if err != nil {
		cn.mu.Lock()
		cn.shells--
		cn.wakeShellWaitersLocked()
		cn.mu.Unlock()
		return nil, err
	}
	sh, err := startShell(ctx, scn, sess, release, c.wrap(c.driver))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("host %s: starting remote shell: %w", c.cfg.Name, ctx.Err())
		}
		// The host cannot run the driver (no setsid, sudo refused, a
		// login shell that is not sh-like): sessions on this connection.
		scn.mu.Lock()
		scn.noShell = true
		scn.wakeShellWaitersLocked()
		scn.mu.Unlock()
		return nil, errNoShell
	}
	return sh, nil
}

func startShell(ctx context.Context, cn *conn, sess *ssh.Session, release func(), cmd string) (*shell, error) {
	sh := &shell{cn: cn, sess: sess, release: release}
	var err error
	if sh.stdin, err = sess.StdinPipe(); err == nil {
		if sh.stdout, err = sess.StdoutPipe(); err == nil {
			sh.stderr, err = sess.StderrPipe()
		}
	}
	if err == nil {
		err = request(ctx, sess, func() error { return sess.Start(cmd) })
	}
	if err != nil {
		sh.close()
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		rest, err := readUntil(sh.stdout, []byte(shellReady+" "), io.Discard)
		if err == nil {
			var line []byte
			if line, err = readLine(sh.stdout, rest); err == nil {
				if sh.pid, err = strconv.Atoi(string(line)); err == nil && sh.pid < 2 {
					err = fmt.Errorf("bad process id %d", sh.pid)
				}
			}
		}
		ready <- err
	}()
	t := time.NewTimer(shellStartTimeout)
	defer t.Stop()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = errors.New("no ready line")
	}
	if err != nil {
		sh.close()
		return nil, err
	}
	return sh, nil
}

// close ends the shell's session and gives its slot back.
func (sh *shell) close() {
	sh.once.Do(func() {
		_ = sh.sess.Close()
		sh.release()
		cn := sh.cn
		cn.mu.Lock()
		cn.shells--
		cn.wakeShellWaitersLocked()
		cn.mu.Unlock()
	})
}

func (cn *conn) wakeShellWaitersLocked() {
	close(cn.shellFreed)
	cn.shellFreed = make(chan struct{})
}

// putShell makes sh idle again, or closes it when its connection is gone
// or a caller waits for a session slot (sessions go first: shells are
// only a saving).
func (sh *shell) put() {
	cn := sh.cn
	cn.mu.Lock()
	if cn.alive() && cn.waiting == 0 {
		cn.idle = append(cn.idle, sh)
		cn.wakeShellWaitersLocked()
		cn.mu.Unlock()
		return
	}
	cn.mu.Unlock()
	sh.close()
}

// evictIdle closes one idle shell, freeing its session slot; false when
// there was none.
func (cn *conn) evictIdle() bool {
	cn.mu.Lock()
	n := len(cn.idle)
	if n == 0 {
		cn.mu.Unlock()
		return false
	}
	sh := cn.idle[0]
	cn.idle = append(cn.idle[:0], cn.idle[1:]...)
	cn.mu.Unlock()
	sh.close()
	return true
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "diffuser-" + hex.EncodeToString(b[:]), nil
}

// frame is the bytes sent for one command: header, script lines, delimiter.
func frame(script, delim, mark string) string {
	var b strings.Builder
	b.Grow(len(script) + 2*len(delim) + len(mark) + 4)
	b.WriteString(delim + " " + mark + "\n")
	b.WriteString(script)
	if !strings.HasSuffix(script, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(delim + "\n")
	return b.String()
}

// runShell runs script on sh, its stdout through header and its stderr to
// stderrW, and returns its exit status. An error means the command may
// have run in part (lost shell, cancel, timeout). The shell goes back to
// cn's idle list when it is still usable, else it is closed.
func (c *Client) runShell(ctx context.Context, sh *shell, script string, timeout time.Duration,
	header *pgidHeader, stderrW io.Writer) (exit int, err error) {
	delim, err1 := newToken()
	mark, err2 := newToken()
	if err := errors.Join(err1, err2); err != nil {
		sh.close()
		return -1, fmt.Errorf("host %s: random tokens: %w", c.cfg.Name, err)
	}
	if strings.Contains(script, delim) || strings.Contains(script, mark) {
		sh.close() // 2^-128: never, but a token must not be in the text
		return -1, fmt.Errorf("host %s: command holds the protocol token; run it again", c.cfg.Name)
	}
	r := &shellRun{outDone: make(chan streamEnd, 1), errDone: make(chan streamEnd, 1)}
	go func() {
		rest, err := readUntil(sh.stdout, []byte(mark+" "), header)
		if err == nil {
			rest, err = readLine(sh.stdout, rest)
		}
		r.outDone <- streamEnd{rest, err}
	}()
	go func() {
		_, err := readUntil(sh.stderr, []byte(mark+"\n"), stderrW)
		r.errDone <- streamEnd{nil, err}
	}()
	if _, err := io.WriteString(sh.stdin, frame(shellPrologue+script, delim, mark)); err != nil {
		sh.close()
		r.wait(nil)
		return -1, fmt.Errorf("host %s: remote shell lost while sending the command (it may have run in part): %w", c.cfg.Name, err)
	}

	if !r.wait(ctx.Done()) {
		if c.stopShellCommand(sh, header.waitPgid(pgidGrace), r) {
			sh.put()
		} else {
			sh.close()
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0 {
			return -1, fmt.Errorf("host %s: command timed out after %s: %w", c.cfg.Name, timeout, ctx.Err())
		}
		return -1, fmt.Errorf("host %s: command interrupted: %w", c.cfg.Name, ctx.Err())
	}
	if err := errors.Join(r.out.err, r.serr.err); err != nil {
		sh.close()
		return -1, fmt.Errorf("host %s: remote shell ended before the command reported its exit status (it may have run in part): %w",
			c.cfg.Name, err)
	}
	status, perr := strconv.Atoi(strings.TrimSpace(string(r.out.rest)))
	if perr != nil {
		sh.close()
		return -1, fmt.Errorf("host %s: remote shell sent a bad exit status %q", c.cfg.Name, r.out.rest)
	}
	sh.put()
	return status, nil
}

// streamEnd is how one of a command's streams ended: at its mark (rest
// holds what followed it) or with a read error.
type streamEnd struct {
	rest []byte
	err  error
}

// shellRun collects the ends of one command's stdout and stderr.
type shellRun struct {
	outDone, errDone chan streamEnd
	out, serr        streamEnd
	gotOut, gotErr   bool
}

// wait waits for both streams' ends until stop fires (nil: no limit) and
// reports whether both came.
func (r *shellRun) wait(stop <-chan struct{}) bool {
	for !r.gotOut || !r.gotErr {
		select {
		case r.out = <-r.outDone:
			r.gotOut = true
		case r.serr = <-r.errDone:
			r.gotErr = true
		case <-stop:
			return false
		}
	}
	return true
}

func (r *shellRun) waitFor(d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return r.wait(ctx.Done())
}

// stopShellCommand ends a running command without ending its shell:
// SIGTERM, then SIGKILL to its process group (from another session), each
// followed by a grace period for the driver's marks. It reports whether
// the shell is still usable; when not, it has closed it and waited
// (bounded) for the stream readers.
func (c *Client) stopShellCommand(sh *shell, pgid int, r *shellRun) bool {
	if pgid > 1 {
		for _, sig := range []struct {
			name  string
			grace time.Duration
		}{{"TERM", termGrace}, {"KILL", killGrace}} {
			c.killGroup(sh.cn, pgid, sig.name)
			if r.waitFor(sig.grace) {
				return r.out.err == nil && r.serr.err == nil
			}
		}
	}
	// The command never said which group it is, or outlived SIGKILL:
	// the shell goes, and with it the command's session.
	sh.close()
	r.waitFor(closeGrace)
	return false
}

// readUntil copies r to w until token, which it does not copy, and
// returns what it read after the token. Bytes that could start the token
// are held back until the next read tells. io.EOF before the token is
// io.ErrUnexpectedEOF.
func readUntil(r io.Reader, token []byte, w io.Writer) ([]byte, error) {
	return readUntilFrom(r, nil, token, w)
}

// readUntilFrom is readUntil on have (bytes already read from r) followed
// by r.
func readUntilFrom(r io.Reader, have, token []byte, w io.Writer) ([]byte, error) {
	buf := make([]byte, 32<<10)
	pending := append([]byte(nil), have...)
	if i := bytes.Index(pending, token); i >= 0 {
		if i > 0 {
			_, _ = w.Write(pending[:i])
		}
		return pending[i+len(token):], nil
	}
	if keep := heldBack(pending, token); len(pending) > keep {
		_, _ = w.Write(pending[:len(pending)-keep])
		pending = append(pending[:0], pending[len(pending)-keep:]...)
	}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			if i := bytes.Index(pending, token); i >= 0 {
				if i > 0 {
					_, _ = w.Write(pending[:i])
				}
				return pending[i+len(token):], nil
			}
			keep := heldBack(pending, token)
			if out := len(pending) - keep; out > 0 {
				_, _ = w.Write(pending[:out])
				pending = append(pending[:0], pending[out:]...)
			}
		}
		if err != nil {
			if len(pending) > 0 {
				_, _ = w.Write(pending)
			}
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readLine returns the bytes up to the first newline, reading r when
// have holds none. What follows the newline (output of a process the
// command left behind) is dropped.
func readLine(r io.Reader, have []byte) ([]byte, error) {
	line, _, err := readLineRest(r, have)
	return line, err
}

// readLineRest is readLine that also returns what it read after the
// newline.
func readLineRest(r io.Reader, have []byte) (line, rest []byte, err error) {
	buf := make([]byte, 64)
	for {
		if i := bytes.IndexByte(have, '\n'); i >= 0 {
			return have[:i], have[i+1:], nil
		}
		if len(have) > 64 {
			return have, nil, nil
		}
		n, err := r.Read(buf)
		have = append(have, buf[:n]...)
		if err != nil && bytes.IndexByte(have, '\n') < 0 {
			if errors.Is(err, io.EOF) {
				return nil, nil, io.ErrUnexpectedEOF
			}
			return nil, nil, err
		}
	}
}

// heldBack is the length of the longest end of p that starts token: the
// bytes that cannot be passed on before the next read.
func heldBack(p, token []byte) int {
	for k := min(len(p), len(token)-1); k > 0; k-- {
		if bytes.HasSuffix(p, token[:k]) {
			return k
		}
	}
	return 0
}
