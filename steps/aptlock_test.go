package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/steptest"
)

const listsLocked = "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 812 (unattended-upgr)\nE: Unable to lock directory /var/lib/apt/lists/\n"

// TestAptLockGivesUpNamingHolder: a lock that stays taken is waited for
// 120 s (fake clock), then the error names the step's command, the lock,
// the holder's command line (from ps) and what to do, and still carries
// apt-get's exit status and output for the diagnostic. With a package
// cache, the lock is not mistaken for a cache failure (no direct retry).
func TestAptLockGivesUpNamingHolder(t *testing.T) {
	for _, proxy := range []string{"", "http://172.18.0.1:3142/"} {
		r := aptHost(
			steptest.Fact{Match: "apt-get -q -o DPkg::Lock::Timeout=120 update", Exit: 100, Stderr: listsLocked},
			steptest.Fact{Match: "ps -o args= -p 812", Stdout: "/usr/bin/python3 /usr/bin/unattended-upgrade --download-only\n"},
		)
		clock := steptest.NewClock()
		ctx := steps.WithAptProxy(context.Background(), proxy)
		_, err := (steps.PackageKind{Clock: clock}).Apply(ctx, r, updatingArgs("xfsprogs"))
		want := "apt-get update: /var/lib/apt/lists/lock is still held by process 812 (/usr/bin/python3 /usr/bin/unattended-upgrade --download-only) after 2m0s of waiting: let it finish"
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "then apply again") {
			t.Fatalf("proxy %q: got %v\nwant it to start %q", proxy, err, want)
		}
		var ee *runner.ExitError
		if !errors.As(err, &ee) || ee.Status != 100 || !strings.Contains(ee.Tail, "Could not get lock") {
			t.Errorf("proxy %q: the error does not carry apt-get's exit: %#v", proxy, ee)
		}
		updates, direct := 0, 0
		for _, c := range r.Commands() {
			if strings.Contains(c, " update") {
				updates++
			}
			if strings.Contains(c, "Proxy-Auto-Detect=") || strings.Contains(c, " install ") {
				direct++
			}
		}
		if updates != 25 || clock.Slept() != 120*time.Second || direct != 0 {
			t.Errorf("proxy %q: %d updates over %s, %d direct runs or installs; want 25 (one every 5 s for 120 s), none", proxy, updates, clock.Slept(), direct)
		}
	}
}

// TestAptLockHolderUnknown: apt's older message names no process; ps is
// not asked and the error says "another process".
func TestAptLockHolderUnknown(t *testing.T) {
	r := aptHost(steptest.Fact{Match: "DEBIAN_FRONTEND=noninteractive apt-get", Exit: 100,
		Stderr: "E: Could not get lock /var/cache/apt/archives/lock - open (11: Resource temporarily unavailable)\n"})
	_, err := (steps.PackageKind{Clock: steptest.NewClock()}).Apply(context.Background(), r, packageArgs("xfsprogs"))
	if err == nil || !strings.HasPrefix(err.Error(), "apt-get install: /var/cache/apt/archives/lock is still held by another process after 2m0s") {
		t.Fatalf("got %v", err)
	}
	for _, c := range r.Commands() {
		if strings.HasPrefix(c, "ps ") {
			t.Errorf("ran %q without a pid", c)
		}
	}
}

// cancelOnSleep is a fake clock that cancels the apply when asked to pause.
type cancelOnSleep struct {
	*steptest.Clock
	cancel context.CancelFunc
}

func (c cancelOnSleep) Sleep(ctx context.Context, d time.Duration) error {
	c.cancel()
	return c.Clock.Sleep(ctx, d)
}

// TestAptLockCancelStopsWaiting: an apply cancelled while it waits for a
// lock stops at once, with the cancellation as its error.
func TestAptLockCancelStopsWaiting(t *testing.T) {
	r := aptHost(steptest.Fact{Match: "apt-get -q -o DPkg::Lock::Timeout=120 update", Exit: 100, Stderr: listsLocked})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := (steps.PackageKind{Clock: cancelOnSleep{steptest.NewClock(), cancel}}).Apply(ctx, r, updatingArgs("xfsprogs"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := strings.Count(strings.Join(r.Commands(), "\n"), " update"); n != 1 {
		t.Errorf("%d updates ran, want 1", n)
	}
}
