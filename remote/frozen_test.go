package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"diffuser/runner"
)

// frozenClient connects to a test sshd with a short keepalive and returns
// a function that freezes the host (TCP stays up, nothing answers: what
// `docker pause` does to a container); the host is thawed at cleanup.
func frozenClient(t *testing.T, keepAlive time.Duration) (*Client, func()) {
	t.Helper()
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.Name = "server[1]"
	cfg.KeepAlive = keepAlive
	p := NewPool()
	t.Cleanup(func() { _ = p.Close() })
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// freeze may run in a goroutine of the test: it does nothing once the
	// test has ended (the host thawed, or about to be stopped).
	var mu sync.Mutex
	frozen, ended := false, false
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		ended = true
		if frozen {
			s.signalTree(syscall.SIGCONT)
		}
	})
	return c, func() {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			frozen = true
			s.signalTree(syscall.SIGSTOP)
		}
	}
}

// A host that stops answering mid-command, with no timeout on the command,
// fails it once keepalive gives up (3 intervals), naming the host.
func TestRunOnHostFrozenMidCommandFails(t *testing.T) {
	const ka = 300 * time.Millisecond
	c, freeze := frozenClient(t, ka)
	go func() {
		time.Sleep(400 * time.Millisecond)
		freeze()
	}()
	start := time.Now()
	res, err := c.Run(context.Background(), "echo started; sleep 60", runner.Options{})
	took := time.Since(start)
	if err == nil {
		t.Fatalf("a frozen host reported success: %+v", res)
	}
	if !strings.Contains(err.Error(), "host server[1]") {
		t.Errorf("error does not name the host: %v", err)
	}
	// freeze at 0.4s + up to 4 keepalive intervals + slack.
	if limit := 400*time.Millisecond + 4*ka + 3*time.Second; took > limit {
		t.Errorf("frozen host detected after %s, want under %s", took, limit)
	}
}

// A command with a timeout on a host that stopped answering returns within
// the timeout plus the stop graces: stopping it cannot wait on the host.
func TestRunTimeoutOnFrozenHostReturns(t *testing.T) {
	slowInShort(t)
	c, freeze := frozenClient(t, time.Hour) // keepalive will not help here
	go func() {
		time.Sleep(300 * time.Millisecond)
		freeze()
	}()
	start := time.Now()
	_, err := c.Run(context.Background(), "echo started; sleep 60", runner.Options{Timeout: time.Second})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "host server[1]: command timed out after 1s") {
		t.Fatalf("err = %v", err)
	}
	if limit := time.Second + termGrace + 3*killGrace + closeGrace + 2*time.Second; took > limit {
		t.Errorf("timeout on a frozen host returned after %s, want under %s", took, limit)
	}
}

// A host that stops answering before a command's session is even open
// (the channel open or the exec request gets no answer) still honours
// the command's timeout and its cancel: the wait for the host's answer is
// bounded by the context, not only by keepalive (an hour here), with and
// without remote shells.
func TestRunOnHostFrozenBeforeStartHonoursContext(t *testing.T) {
	for _, shells := range []bool{true, false} {
		t.Run(fmt.Sprintf("shells=%v", shells), func(t *testing.T) {
			c, freeze := frozenClient(t, time.Hour)
			c.cfg.NoShell = !shells
			freeze()
			start := time.Now()
			_, err := c.Run(context.Background(), "echo never", runner.Options{Timeout: time.Second})
			took := time.Since(start)
			const want = "host server[1]: command timed out after 1s before the host started it (it did not run): "
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Count(err.Error(), "server[1]") != 1 ||
				!errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want %q…", err, want)
			}
			if limit := time.Second + closeGrace + 2*time.Second; took > limit {
				t.Errorf("timeout on a host frozen before the start returned after %s, want under %s", took, limit)
			}

			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(500*time.Millisecond, cancel)
			start = time.Now()
			_, err = c.Run(ctx, "echo never", runner.Options{})
			took = time.Since(start)
			if err == nil || !strings.HasPrefix(err.Error(), "host server[1]: command interrupted before the host started it (it did not run): ") ||
				!errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled on a frozen host: err = %v", err)
			}
			if limit := 500*time.Millisecond + closeGrace + 2*time.Second; took > limit {
				t.Errorf("cancel on a host frozen before the start returned after %s, want under %s", took, limit)
			}
		})
	}
}

// An upload to a host that stops answering mid-transfer returns when its
// context ends, not when keepalive gives up (an hour here): the SFTP
// exchange, which closing its session cannot end, is left behind.
func TestUploadToHostFrozenMidTransferHonoursContext(t *testing.T) {
	c, freeze := frozenClient(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("n"), 1<<20))
		freeze()
		cancel()
	}()
	start := time.Now()
	err := c.Upload(ctx, pr, "/tmp/diffuser-frozen-upload", 0o644)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "host server[1]: upload /tmp/diffuser-frozen-upload") {
		t.Fatalf("err = %v", err)
	}
	// abandonGrace, then the removal of the temporary file, which cannot
	// reach the host either and gives up at cleanupTimeout.
	if limit := abandonGrace + cleanupTimeout + 3*time.Second; took > limit {
		t.Errorf("cancel on a frozen host returned after %s, want under %s", took, limit)
	}
}
