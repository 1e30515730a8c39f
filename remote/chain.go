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
		return runner.Result{}, nil, err
	}
	o1, o2 := newCmdOutput(first.Opt), newCmdOutput(second.Opt)
	defer o1.detach()
	defer o2.detach()
	ends, err := c.runShellChain(ctx, sh, []chainCmd{{script: s1, out: o1}, {script: s2, cond: cond, out: o2}})
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
// on the status of the one before ("" = always) and its output.
type chainCmd struct {
	script string
	cond   string
	out    *cmdOutput
}

// chainEnd is what became of one command of a chain.
type chainEnd struct {
	exit     int  // its status; -1 when unknown
	reported bool // the driver reported a status or a skip
	skipped  bool // its condition did not hold: it never ran
	started  bool // it ran or may have run
}

// chainEvent is a stream of a chain reaching the mark of command i:
// stdout with the status line, stderr with line nil; err when the stream
// ended before it.
type chainEvent struct {
	i      int
	stdout bool
	line   []byte
	err    error
}

// runShellChain sends cmds to sh in one write and collects their ends.
// An error means a command may have run in part (lost shell, cancel);
// the shell is then closed. Otherwise the shell goes back to idle.
func (c *Client) runShellChain(ctx context.Context, sh *shell, cmds []chainCmd) ([]chainEnd, error) {
	ends := make([]chainEnd, len(cmds))
	for i := range ends {
		ends[i].exit = -1
	}
	delim, err := newToken()
	marks := make([]string, len(cmds))
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

	// Each reader sends at most one event per command, so it never blocks;
	// finished closes once both have returned.
	events := make(chan chainEvent, 2*len(cmds))
	var wg sync.WaitGroup
	wg.Add(2)
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	go func() {
		defer wg.Done()
		var rest []byte
		for i, cmd := range cmds {
			var err error
			rest, err = readUntilFrom(sh.stdout, rest, []byte(marks[i]+" "), cmd.out.header)
			var line []byte
			if err == nil {
				line, rest, err = readLineRest(sh.stdout, rest)
			}
			events <- chainEvent{i: i, stdout: true, line: line, err: err}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		var rest []byte
		for i, cmd := range cmds {
			var err error
			rest, err = readUntilFrom(sh.stderr, rest, []byte(marks[i]+"\n"), cmd.out.errW)
			events <- chainEvent{i: i, err: err}
			if err != nil {
				return
			}
		}
	}()
	// A command is started once the one before it reported a status that
	// meets its condition (the first: once sent).
	ends[0].started = true
	if _, err := io.WriteString(sh.stdin, b.String()); err != nil {
		sh.close()
		drainChain(finished)
		return ends, fmt.Errorf("host %s: remote shell lost while sending the command (it may have run in part): %w", c.cfg.Name, err)
	}

	outs, errs := 0, 0
	for outs < len(cmds) || errs < len(cmds) {
		select {
		case ev := <-events:
			if ev.err != nil {
				sh.close()
				drainChain(finished)
				return ends, fmt.Errorf("host %s: remote shell ended before the command reported its exit status (it may have run in part): %w",
					c.cfg.Name, ev.err)
			}
			if !ev.stdout {
				errs++
				continue
			}
			outs++
			e := &ends[ev.i]
			e.reported = true
			if string(ev.line) == "skip" {
				e.skipped, e.started = true, false
				continue
			}
			st, perr := strconv.Atoi(strings.TrimSpace(string(ev.line)))
			if perr != nil {
				sh.close()
				drainChain(finished)
				return ends, fmt.Errorf("host %s: remote shell sent a bad exit status %q", c.cfg.Name, ev.line)
			}
			e.exit = st
			if ev.i+1 < len(cmds) && condHolds(cmds[ev.i+1].cond, st) {
				ends[ev.i+1].started = true
			}
		case <-ctx.Done():
			// The command running now is the first not reported.
			cur := min(outs, len(cmds)-1)
			c.abortChain(sh, cmds[cur].out.header.pgid())
			sh.close()
			drainChain(finished)
			return ends, fmt.Errorf("host %s: command interrupted: %w", c.cfg.Name, ctx.Err())
		}
	}
	sh.put()
	return ends, nil
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
