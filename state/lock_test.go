package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockHeldByAnotherProcessNamesHolder(t *testing.T) {
	dir := t.TempDir()
	h := startHelper(t, "lock", dir)
	h.expect(t, "locked")
	pid := h.cmd.Process.Pid
	host, _ := os.Hostname()

	s := Open(dir)
	_, err := s.Lock(context.Background(), CurrentHolder("diffuser plan glusterfs"))
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it: %v", err)
	}
	if !errors.Is(err, ErrLocked) {
		t.Error("errors.Is(err, ErrLocked) is false")
	}
	if le.Holder.PID != pid || le.Holder.Command != helperCmd || le.Holder.Hostname != host || le.Stale {
		t.Errorf("holder %+v (stale %v), want pid %d on %s running %q", le.Holder, le.Stale, pid, host, helperCmd)
	}
	mustContain(t, err.Error(), fmt.Sprintf("pid %d", pid), "@"+host, helperCmd, "since "+le.Holder.Since.Local().Format("2006-01-02"))

	info, err := s.LockInfo()
	if err != nil || info == nil || info.PID != pid {
		t.Fatalf("LockInfo = %+v, %v; want pid %d", info, err, pid)
	}
	if _, err := s.BreakLock(); !errors.As(err, &le) {
		t.Errorf("BreakLock of a live flock: %v", err)
	}

	// SIGKILL: no chance to unlock; the kernel frees the flock.
	h.kill(t)
	if info, err := s.LockInfo(); err != nil || info != nil {
		t.Errorf("LockInfo after the holder died = %+v, %v", info, err)
	}
	unlock, err := s.Lock(context.Background(), CurrentHolder("diffuser apply glusterfs"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if info, _ := s.LockInfo(); info == nil || info.PID != os.Getpid() {
		t.Errorf("LockInfo while we hold it = %+v", info)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	if info, _ := s.LockInfo(); info != nil {
		t.Errorf("LockInfo after unlock = %+v", info)
	}
}

func TestLockWaitsWhenAsked(t *testing.T) {
	dir := t.TempDir()
	h := startHelper(t, "lock", dir)
	h.expect(t, "locked")
	go func() {
		time.Sleep(300 * time.Millisecond)
		h.stdin.Close() // the helper unlocks and exits
	}()
	start := time.Now()
	unlock, err := Open(dir, WithLockWait(20*time.Second)).Lock(context.Background(), Holder{})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("got the lock after %v, before the holder let go", waited)
	}

	// And gives up when the context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Open(dir, WithLockWait(time.Minute)).Lock(ctx, Holder{})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, context.DeadlineExceeded) || le.Holder.PID != os.Getpid() {
		t.Errorf("Lock with an expiring context: %v", err)
	}
}

// A wait that runs out names the holder fully (pid, user@host, command,
// since and age) and says how long it waited.
func TestLockWaitTimesOutNamingHolder(t *testing.T) {
	dir := t.TempDir()
	h := startHelper(t, "lock", dir)
	h.expect(t, "locked")
	host, _ := os.Hostname()
	start := time.Now()
	_, err := Open(dir, WithLockWait(400*time.Millisecond)).Lock(context.Background(), Holder{})
	waited := time.Since(start)
	var le *LockedError
	if !errors.As(err, &le) || le.Waited != 400*time.Millisecond {
		t.Fatalf("Lock with a 400ms wait: %v (waited %v)", err, le)
	}
	if waited < 400*time.Millisecond || waited > 5*time.Second {
		t.Errorf("gave up after %v, want about 400ms", waited)
	}
	mustContain(t, err.Error(), "still locked after waiting 400ms", fmt.Sprintf("pid %d", h.cmd.Process.Pid),
		"@"+host, `"`+helperCmd+`"`, "since ", " ago)", "wait longer")

	// Without a wait, the message says a lock timeout would wait.
	_, err = Open(dir).Lock(context.Background(), Holder{})
	mustContain(t, err.Error(), "give a lock timeout")
	if strings.Contains(err.Error(), "after waiting") {
		t.Errorf("an immediate failure says it waited: %v", err)
	}
}

func TestLockTwoStoresInOneProcess(t *testing.T) {
	dir := t.TempDir()
	a, b := Open(dir), Open(dir)
	unlockA, err := a.Lock(context.Background(), CurrentHolder("first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lock(context.Background(), Holder{}); err == nil {
		t.Error("a Store locked twice")
	}
	_, err = b.Lock(context.Background(), Holder{})
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.Command != "first" {
		t.Fatalf("second Store: %v", err)
	}
	if err := unlockA(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.Lock(context.Background(), Holder{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unlockB()
}

// The fallback for filesystems without flock(2): a lock file that exists
// while held and outlives a crashed holder.
func TestFallbackLock(t *testing.T) {
	dir := t.TempDir()
	host, _ := os.Hostname()
	noFlock := func(s *Store) *Store { s.opts.noFlock = true; return s }
	ep := filepath.Join(dir, exclFile)

	a := noFlock(Open(dir))
	unlock, err := a.Lock(context.Background(), CurrentHolder("first"))
	if err != nil {
		t.Fatal(err)
	}
	b := noFlock(Open(dir))
	_, err = b.Lock(context.Background(), Holder{})
	var le *LockedError
	if !errors.As(err, &le) || le.Stale || le.Holder.PID != os.Getpid() || le.Holder.Command != "first" {
		t.Fatalf("Lock while held: %v (%+v)", err, le)
	}
	if info, err := b.LockInfo(); err != nil || info == nil || info.Command != "first" || info.Stale() {
		t.Errorf("LockInfo = %+v, %v", info, err)
	}
	if _, err := b.BreakLock(); !errors.As(err, &le) || !strings.Contains(err.Error(), "still running") {
		t.Errorf("BreakLock of a live holder: %v", err)
	}
	if _, err := os.Stat(ep); err != nil {
		t.Fatalf("live lock was removed: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ep); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file left after unlock: %v", err)
	}

	stale := map[string]Holder{
		"dead pid":   {PID: deadPID(t), User: "u", Hostname: host, Command: "crashed", Since: time.Now().Add(-time.Hour)},
		"reused pid": {PID: os.Getpid(), User: "u", Hostname: host, Command: "crashed", Since: time.Now().Add(-time.Hour), ProcStart: "1"},
	}
	if procStart(os.Getpid()) == "" {
		delete(stale, "reused pid") // no /proc here
	}
	for name, holder := range stale {
		t.Run(name, func(t *testing.T) {
			writeHolder(t, ep, holder)
			s := noFlock(Open(dir))
			_, err := s.Lock(context.Background(), Holder{})
			var le *LockedError
			if !errors.As(err, &le) || !le.Stale || le.Holder.Command != "crashed" {
				t.Fatalf("Lock over a stale lock: %v", err)
			}
			mustContain(t, err.Error(), "stale", "no longer running")
			got, err := s.BreakLock()
			if err != nil || got == nil || got.PID != holder.PID {
				t.Fatalf("BreakLock = %+v, %v", got, err)
			}
			unlock, err := s.Lock(context.Background(), Holder{})
			if err != nil {
				t.Fatalf("Lock after breaking: %v", err)
			}
			_ = unlock()
		})
	}

	t.Run("other host", func(t *testing.T) {
		writeHolder(t, ep, Holder{PID: deadPID(t), User: "u", Hostname: host + "-elsewhere", Command: "remote", Since: time.Now()})
		s := noFlock(Open(dir))
		_, err := s.Lock(context.Background(), Holder{})
		var le *LockedError
		if !errors.As(err, &le) || le.Stale {
			t.Fatalf("Lock: %v", err)
		}
		if _, err := s.BreakLock(); !errors.As(err, &le) || !strings.Contains(err.Error(), "another host") {
			t.Errorf("BreakLock of another host's lock: %v", err)
		}
		if _, err := os.Stat(ep); err != nil {
			t.Errorf("another host's lock was removed: %v", err)
		}
		_ = os.Remove(ep)
	})

	if got, err := noFlock(Open(dir)).BreakLock(); got != nil || err != nil {
		t.Errorf("BreakLock with no lock = %+v, %v", got, err)
	}
}

func writeHolder(t *testing.T, path string, h Holder) {
	t.Helper()
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data))
}
