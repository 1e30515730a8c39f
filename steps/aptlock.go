package steps

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"diffuser/runner"
)

// apt-get waits for the dpkg locks (/var/lib/dpkg/lock-frontend and
// /var/lib/dpkg/lock) for DPkg::Lock::Timeout, but not for the others it
// takes: `apt-get update` fails at once when another process holds
// /var/lib/apt/lists/lock, and `apt-get install` when one holds
// /var/cache/apt/archives/lock (apt 2.6, Debian 12, checked on the node
// image). A freshly booted machine's apt-daily.service holds both while it
// updates and downloads, and an administrator's apt-get may too; so
// aptMustRun runs such an apt-get again until the lock is free, for as
// long as the dpkg locks are waited for.
const (
	// aptLockWait bounds the waiting for any apt lock (the same 120 s as
	// DPkg::Lock::Timeout in aptOpts).
	aptLockWait = 120 * time.Second
	// aptLockPoll is the pause between tries.
	aptLockPoll = 5 * time.Second
)

// aptLockErr is apt's message for a lock another process holds (apt 1.x
// and 2.x): "E: Could not get lock PATH. It is held by process PID
// (NAME)", or without the holder "E: Could not get lock PATH - open (11:
// Resource temporarily unavailable)". "Waiting for cache lock: Could not
// get lock ..." lines, printed while apt waits by itself, do not start
// with "E: " and do not match.
var aptLockErr = regexp.MustCompile(`(?m)^E: Could not get lock (/\S+?)\.?(?: It is held by process (\d+)(?: \(([^)\n]*)\))?| - open .*)?\r?$`)

// aptLock is a lock apt-get found taken, and its holder as apt names it.
type aptLock struct {
	path, pid, name string
}

// aptLockHeld reads a failed apt-get's output for a lock it could not get.
func aptLockHeld(res runner.Result) (aptLock, bool) {
	m := aptLockErr.FindStringSubmatch(res.Stderr + "\n" + res.Stdout)
	if m == nil {
		return aptLock{}, false
	}
	return aptLock{path: m[1], pid: m[2], name: m[3]}, true
}

// aptLockedError is an apt-get that found a lock taken for longer than
// aptLockWait. It wraps the last try's *runner.ExitError.
type aptLockedError struct {
	what   string // "apt-get update"
	lock   aptLock
	holder string // the holder's command line, when ps found it
	waited time.Duration
	err    error
}

func (e *aptLockedError) Error() string {
	who := "another process"
	switch {
	case e.holder != "":
		who = fmt.Sprintf("process %s (%s)", e.lock.pid, e.holder)
	case e.lock.pid != "" && e.lock.name != "":
		who = fmt.Sprintf("process %s (%s)", e.lock.pid, e.lock.name)
	case e.lock.pid != "":
		who = "process " + e.lock.pid
	}
	return fmt.Sprintf("%s: %s is still held by %s after %s of waiting: let it finish (apt-daily and unattended-upgrades run apt on a freshly booted machine) or stop it, then apply again: %v",
		e.what, e.lock.path, who, e.waited.Round(time.Second), e.err)
}

func (e *aptLockedError) Unwrap() error { return e.err }

// aptMustRun is MustRunWith for apt-get, run again every aptLockPoll while
// it fails because another process holds an apt lock, for up to
// aptLockWait since the first try; then the error names the lock and its
// holder (aptLockedError). An apt-get that cannot get a lock exits before
// it changes anything, so running it again is safe.
func aptMustRun(ctx context.Context, r runner.Runner, clock Clock, what, cmd string, opt runner.Options) (runner.Result, error) {
	start := clock.Now()
	for {
		res, err := MustRunWith(ctx, r, what, cmd, opt)
		lock, held := aptLockHeld(res)
		if err == nil || !held || ctx.Err() != nil {
			return res, err
		}
		if waited := clock.Now().Sub(start); waited >= aptLockWait {
			return res, &aptLockedError{what: what, lock: lock, holder: lockHolder(ctx, r, lock.pid), waited: waited, err: err}
		}
		if err := clock.Sleep(ctx, aptLockPoll); err != nil {
			return res, err
		}
	}
}

// lockHolder returns the command line of process pid on the host ("" when
// unknown or gone), to say more than apt's 15-character process name.
func lockHolder(ctx context.Context, r runner.Runner, pid string) string {
	if pid == "" {
		return ""
	}
	res, err := Probe(ctx, r, "naming the lock holder", "ps -o args= -p "+ShellQuote(pid))
	if err != nil || res.Exit != 0 {
		return ""
	}
	line := strings.TrimSpace(strings.SplitN(res.Stdout, "\n", 2)[0])
	const max = 200
	if len(line) > max {
		line = line[:max] + "..."
	}
	return line
}
