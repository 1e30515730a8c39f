package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/runner"
)

var _ runner.Chainer = (*Client)(nil)

// RunThen implements runner.Chainer. On a remote shell both commands go
// in one write: the driver runs the first and, when its status says so,
// the second (driverScript's conditional header), so a check and the
// command it guards cost one round trip. Each command gets its own
// process group, output, log writes and Result, exactly as from Run.
//
// Commands a shell would not take (stdin, long scripts, NoShell, hosts
// without a shell), and commands with their own Timeout, run as two Runs
// (runner.RunThenSeparately). A cancel while the first runs kills the
// driver before the command, so the second never starts; the shell is
// closed.
func (c *Client) RunThen(ctx context.Context, first runner.Command, when runner.Then, second runner.Command) (runner.Result, *runner.Result, error) {
	s1, err1 := buildScript(first.Cmd, first.Opt.Env)
	s2, err2 := buildScript(second.Cmd, second.Opt.Env)
	if err := errors.Join(err1, err2); err != nil {
		return runner.Result{}, nil, fmt.Errorf("host %s: %w", c.cfg.Name, err)
	}
	cond := map[runner.Then]string{runner.IfFailed: condIfFailed, runner.IfSucceeded: condIfOK}[when]
	if cond == "" {
		return runner.Result{}, nil, fmt.Errorf("host %s: RunThen: unknown condition %d", c.cfg.Name, when)
	}
	if first.Opt.Timeout > 0 || second.Opt.Timeout > 0 || !c.usesShell(s1, first.Opt) || !c.usesShell(s2, second.Opt) {
		return runner.RunThenSeparately(ctx, c, first, when, second)
	}
	sh, err := c.takeShell(ctx)
	if errors.Is(err, errNoShell) {
		return runner.RunThenSeparately(ctx, c, first, when, second)
	}
	if err != nil {
		return runner.Result{}, nil, c.notStarted(ctx, 0, err, false)
	}
	o1, o2 := newCmdOutput(first.Opt), newCmdOutput(second.Opt)
	defer o1.detach()
	defer o2.detach()
	ends, err := c.runShellChain(ctx, sh, []chainCmd{{script: s1, out: o1}, {script: s2, cond: cond, out: o2, before: second.Before}})
	res1 := o1.result()
	res1.Exit = ends[0].exit
	var res2 *runner.Result
	if ends[1].started {
		r := o2.result()
		r.Exit = ends[1].exit
		res2 = &r
	}
	if err != nil {
		return res1, res2, err
	}
	if res2 != nil {
		return res1, res2, o2.errOrNil(c.cfg.Name)
	}
	return res1, nil, o1.errOrNil(c.cfg.Name)
}

// cmdOutput is where one command's output goes: the tails kept for its
// Result, the caller's Output writer, the process group line taken off
// its stdout.
type cmdOutput struct {
	stdout, stderr *tailBuffer
	out            *outputWriter
	header         *pgidHeader
	errW           io.Writer
}

func newCmdOutput(opt runner.Options) *cmdOutput {
	o := &cmdOutput{stdout: &tailBuffer{max: MaxCapture}, stderr: &tailBuffer{max: MaxCapture}}
	var outW, errW io.Writer = o.stdout, o.stderr
	if opt.Output != nil {
		o.out = &outputWriter{w: opt.Output}
		outW = io.MultiWriter(o.stdout, o.out)
		errW = io.MultiWriter(o.stderr, o.out)
	}
	o.header, o.errW = &pgidHeader{next: outW}, errW
	return o
}

func (o *cmdOutput) result() runner.Result {
	o.header.flush()
	return runner.Result{Stdout: o.stdout.String(), Stderr: o.stderr.String()}
}

func (o *cmdOutput) detach() {
	if o.out != nil {
		o.out.detach()
	}
}

func (o *cmdOutput) errOrNil(host string) error { return o.out.errOrNil(host) }

// chainCmd is one command of runShellChain: its script, its condition
// on the status of the one before ("" = always), its output, and the
// hook called before it runs (runner.Command.Before).
type chainCmd struct {
	script string
	cond   string
	out    *cmdOutput
	before func(prevExit int)
}

// chainEnd is what became of one command of a chain.
type chainEnd struct {
	exit     int  // its status; -1 when unknown
	reported bool // the driver reported a status or a skip
	skipped  bool // its condition did not hold: it never ran
	started  bool // it ran or may have run
}

// runShellChain sends cmds to sh in one write and collects their ends.
// The stdout reader parses each status line as it comes and decides, as
// the driver does, whether the next command runs (calling its before
// hook, once the stderr reader has passed on all of the command's stderr);
// the stderr reader passes on a command's stderr only once that is
// decided, so that both streams of a command reach its writers after the
// hook. An error means a command may have run in part (lost shell,
// cancel); the shell is then closed. Otherwise it goes back to idle.
func (c *Client) runShellChain(ctx context.Context, sh *shell, cmds []chainCmd) ([]chainEnd, error) {
	n := len(cmds)
	ends := make([]chainEnd, n)
	for i := range ends {
		ends[i].exit = -1
	}
	delim, err := newToken()
	marks := make([]string, n)
	for i := range marks {
		var e error
		marks[i], e = newToken()
		err = errors.Join(err, e)
	}
	if err != nil {
		sh.close()
		return ends, fmt.Errorf("host %s: random tokens: %w", c.cfg.Name, err)
	}
	var b strings.Builder
	for i, cmd := range cmds {
		for _, tok := range append([]string{delim}, marks...) {
			if strings.Contains(cmd.script, tok) {
				sh.close() // 2^-128: never, but a token must not be in the text
				return ends, fmt.Errorf("host %s: command holds the protocol token; run it again", c.cfg.Name)
			}
		}
		mark := marks[i]
		if cmd.cond != "" {
			mark += " " + cmd.cond
		}
		b.WriteString(frame(shellPrologue+cmd.script, delim, mark))
	}

	var mu sync.Mutex // guards ends while the readers run
	ends[0].started = true
	// decided[i] closes once the stdout reader knows command i's status
	// (or gave up): the stderr reader waits for it before going on to
	// command i+1's stderr.
	decided := make([]chan struct{}, n)
	// errRead[i] closes once the stderr reader has passed on all of
	// command i's stderr (or gave up): the stdout reader waits for it
	// before calling command i+1's hook, so that the hook comes after
	// both streams of command i.
	errRead := make([]chan struct{}, n)
	for i := range decided {
		decided[i] = make(chan struct{})
		errRead[i] = make(chan struct{})
	}
	// One event per reader and command at most: sends never block.
	// errors carry a reader's failure, nil a mark reached.
	events := make(chan error, 2*n)
	var wg sync.WaitGroup
	wg.Add(2)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	go func() {
		defer wg.Done()
		i := 0
		defer func() {
			for ; i < n; i++ {
				close(decided[i])
			}
		}()
		var rest []byte
		for ; i < n; i++ {
			var line []byte
			var err error
			rest, err = readUntilFrom(sh.stdout, rest, []byte(marks[i]+" "), cmds[i].out.header)
			if err == nil {
				// All of command i's stdout is in: what the header held
				// back goes out before the next command's hook.
				cmds[i].out.header.flush()
				line, rest, err = readLineRest(sh.stdout, rest)
			}
			if err == nil {
				<-errRead[i]
				err = c.noteStatus(&mu, ends, cmds, i, string(line))
			}
			close(decided[i])
			events <- err
			if err != nil {
				i++
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		var rest []byte
		i := 0
		defer func() {
			for ; i < n; i++ {
				close(errRead[i])
			}
		}()
		for ; i < n; i++ {
			if i > 0 {
				<-decided[i-1]
			}
			var err error
			rest, err = readUntilFrom(sh.stderr, rest, []byte(marks[i]+"\n"), cmds[i].out.errW)
			close(errRead[i])
			events <- err
			if err != nil {
				i++
				return
			}
		}
	}()
	result := func() []chainEnd {
		mu.Lock()
		defer mu.Unlock()
		return append([]chainEnd(nil), ends...)
	}
	if _, err := io.WriteString(sh.stdin, b.String()); err != nil {
		sh.close()
		drainChain(finished)
		return result(), fmt.Errorf("host %s: remote shell lost while sending the command (it may have run in part): %w", c.cfg.Name, err)
	}
	for got := 0; got < 2*n; got++ {
		select {
		case err := <-events:
			if err == nil {
				continue
			}
			sh.close()
			drainChain(finished)
			var bad badStatusError
			if errors.As(err, &bad) {
				return result(), fmt.Errorf("host %s: %w", c.cfg.Name, err)
			}
			return result(), fmt.Errorf("host %s: remote shell ended before the command reported its exit status (it may have run in part): %w",
				c.cfg.Name, err)
		case <-ctx.Done():
			// The command running now is the first not reported.
			mu.Lock()
			cur := 0
			for cur < n-1 && ends[cur].reported {
				cur++
			}
			mu.Unlock()
			c.abortChain(sh, cmds[cur].out.header.waitPgid(pgidGrace))
			sh.close()
			drainChain(finished)
			return result(), fmt.Errorf("host %s: command interrupted: %w", c.cfg.Name, ctx.Err())
		}
	}
	sh.put()
	return result(), nil
}

// badStatusError is a status line that is neither a number nor "skip".
type badStatusError struct{ line string }

func (e badStatusError) Error() string {
	return fmt.Sprintf("remote shell sent a bad exit status %q", e.line)
}

// noteStatus records command i's status line in ends and, when the next
// command's condition holds, marks it started and calls its hook.
func (c *Client) noteStatus(mu *sync.Mutex, ends []chainEnd, cmds []chainCmd, i int, line string) error {
	mu.Lock()
	e := &ends[i]
	e.reported = true
	if line == "skip" {
		e.skipped, e.started = true, false
		mu.Unlock()
		return nil
	}
	st, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		mu.Unlock()
		return badStatusError{line}
	}
	e.exit = st
	next := i+1 < len(cmds) && condHolds(cmds[i+1].cond, st)
	if next {
		ends[i+1].started = true
	}
	mu.Unlock()
	if next && cmds[i+1].before != nil {
		cmds[i+1].before(st)
	}
	return nil
}

// condHolds is the driver's test of a header condition.
func condHolds(cond string, status int) bool {
	switch cond {
	case condIfOK:
		return status == 0
	case condIfFailed:
		return status != 0
	}
	return true
}

// drainChain waits (bounded) for the stream readers of a closed shell.
func drainChain(finished <-chan struct{}) {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
	}
}

// abortChain stops a chain mid-way: SIGKILL to the driver first, so that
// it starts no later command, then SIGTERM and, after termGrace, SIGKILL
// to the running command's process group (when it said which), from a
// session of its own; it waits for that session, bounded.
func (c *Client) abortChain(sh *shell, pgid int) {
	script := fmt.Sprintf("kill -KILL %d 2>/dev/null", sh.pid)
	if pgid > 1 {
		script += fmt.Sprintf("; kill -TERM -%d 2>/dev/null && sleep %d && kill -KILL -%d 2>/dev/null; true",
			pgid, int(termGrace/time.Second), pgid)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := sh.cn.client.NewSession()
		if err != nil {
			return
		}
		defer func() { _ = s.Close() }()
		_ = s.Run(c.wrap(script))
	}()
	select {
	case <-done:
	case <-time.After(termGrace + killGrace):
	}
}
