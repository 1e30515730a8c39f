package steps

import (
	"context"
	"fmt"
	"regexp"
	"slices"
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

// dpkgLockErr is dpkg's own message for a lock another process holds
// (dpkg 1.21, Debian 12): "dpkg: error: dpkg frontend lock was locked by
// another process with pid N" (or "database lock", for /var/lib/dpkg/lock).
var dpkgLockErr = regexp.MustCompile(`(?m)^dpkg: error: dpkg (frontend|database) lock (?:was|is) locked by another process(?: with pid (\d+))?`)

// dpkgInterrupted is apt's refusal when dpkg's journal
// (/var/lib/dpkg/updates) holds a run that did not finish: a dpkg or apt
// killed mid-way, such as unattended-upgrades at shutdown.
const dpkgInterrupted = "dpkg was interrupted, you must manually run 'dpkg --configure -a'"

// dpkgConfigurePending finishes what an interrupted dpkg left (what
// unattended-upgrades does itself before it upgrades), non-interactively
// and keeping changed configuration files as the apt-get runs do.
const dpkgConfigurePending = aptEnv + "dpkg --force-confdef --force-confold --configure -a"

// aptLock is a lock apt-get found taken, and its holder as apt names it.
type aptLock struct {
	path, pid, name string
}

// aptLockHeld reads a failed apt-get's output for a lock it could not get.
func aptLockHeld(res runner.Result) (aptLock, bool) {
	out := res.Stderr + "\n" + res.Stdout
	if m := aptLockErr.FindStringSubmatch(out); m != nil {
		return aptLock{path: m[1], pid: m[2], name: m[3]}, true
	}
	if m := dpkgLockErr.FindStringSubmatch(out); m != nil {
		l := aptLock{path: "/var/lib/dpkg/lock-frontend", pid: m[2]}
		if m[1] == "database" {
			l.path = "/var/lib/dpkg/lock"
		}
		return l, true
	}
	return aptLock{}, false
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
//
// An apt-get refused because an earlier dpkg run was interrupted (a peer
// killed mid-install) makes aptMustRun run `dpkg --configure -a` once, as
// apt asks and as unattended-upgrades does by itself, then the apt-get
// again; a dpkg lock taken meanwhile is waited for like apt's. When that
// dpkg fails (a package's maintainer script fails), the error says so and
// what to run by hand.
func aptMustRun(ctx context.Context, r runner.Runner, clock Clock, what, cmd string, opt runner.Options) (runner.Result, error) {
	start := clock.Now()
	repaired := false
	for {
		res, err := MustRunWith(ctx, r, what, cmd, opt)
		if err != nil && !repaired && ctx.Err() == nil && strings.Contains(res.Stdout+res.Stderr, dpkgInterrupted) {
			fix, ferr := MustRunWith(ctx, r, "dpkg --configure -a", dpkgConfigurePending, opt)
			if _, held := aptLockHeld(fix); ferr == nil || !held {
				if ferr != nil {
					return fix, fmt.Errorf("%s: an earlier dpkg run was interrupted (another apt or dpkg killed mid-way, such as unattended-upgrades at shutdown) and finishing it failed: run 'dpkg --configure -a' on the host, fix the package it names, then apply again: %w", what, unconfigured(fix, ferr))
				}
				repaired = true
				continue
			}
			res, err = fix, ferr
		}
		lock, held := aptLockHeld(res)
		if err == nil || !held || ctx.Err() != nil {
			return res, unconfigured(res, err)
		}
		if waited := clock.Now().Sub(start); waited >= aptLockWait {
			return res, &aptLockedError{what: what, lock: lock, holder: lockHolder(ctx, r, lock.pid), waited: waited, err: err}
		}
		if err := clock.Sleep(ctx, aptLockPoll); err != nil {
			return res, err
		}
	}
}

// dpkgConfigureErr is dpkg's line for a package whose configuration
// (its postinst) failed.
var dpkgConfigureErr = regexp.MustCompile(`(?m)^dpkg: error processing package (\S+) \(--configure\):`)

// unconfigured adds to a failed apt-get's error the packages dpkg could
// not configure: apt configures every half-configured package on each
// run, so one another tool left broken fails every install, even when
// the packages asked for were installed.
func unconfigured(res runner.Result, err error) error {
	if err == nil {
		return nil
	}
	var names []string
	for _, m := range dpkgConfigureErr.FindAllStringSubmatch(res.Stdout+"\n"+res.Stderr, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		return err
	}
	return fmt.Errorf("%w\ndpkg could not configure %s (its maintainer script failed; apt configures every half-configured package on each run, also one another tool left broken): 'dpkg --configure -a' on the host shows why; fix it, then apply again", err, strings.Join(names, ", "))
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
