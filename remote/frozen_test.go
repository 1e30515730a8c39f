package remote

import (
	"context"
	"strings"
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
	frozen := false
	t.Cleanup(func() {
		if frozen {
			s.signalTree(syscall.SIGCONT)
		}
	})
	return c, func() { frozen = true; s.signalTree(syscall.SIGSTOP) }
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
