package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"diffuser/runner"
)

// sessionsRan counts the sshd log lines of opened sessions' commands.
func sessionsRan(log string) int { return strings.Count(log, "Starting session: command") }

func TestConcurrentRunsShareOneConnection(t *testing.T) {
	slowInShort(t)
	for _, tc := range []struct {
		name     string
		extra    string
		minLimit int // the learned limit must not fall below the server's
		maxPeak  int
		shells   bool
	}{
		// 50 commands over sshd's default MaxSessions of 10.
		{name: "default", extra: "", minLimit: DefaultMaxSessions, maxPeak: DefaultMaxSessions},
		// A server allowing fewer sessions than the client's limit: the
		// client learns the limit without falling below it. (Its count of
		// open sessions can run one ahead of the server's, which frees a
		// session before the client has seen it end.)
		{name: "server MaxSessions 3", extra: "MaxSessions 3", minLimit: 3, maxPeak: DefaultMaxSessions},
		// The same through long-lived shells: at most one command per
		// shell at a time, shells on the session slots.
		{name: "shells", extra: "", minLimit: DefaultMaxSessions, maxPeak: DefaultMaxSessions, shells: true},
		{name: "shells, server MaxSessions 3", extra: "MaxSessions 3", minLimit: 3, maxPeak: DefaultMaxSessions, shells: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			s := env.newSSHD(t, sshdOptions{Extra: tc.extra})
			p := NewPool()
			t.Cleanup(func() { _ = p.Close() })
			cfg := env.config(s)
			cfg.NoShell = !tc.shells
			c, err := p.Connect(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			const n = 50
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := c.Run(context.Background(), fmt.Sprintf("sleep 0.1; echo %d", i), runner.Options{})
					if err != nil {
						errs <- err
						return
					}
					if res.Stdout != fmt.Sprintf("%d\n", i) {
						errs <- fmt.Errorf("run %d: stdout %q", i, res.Stdout)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := strings.Count(s.log.String(), "Accepted publickey"); got != 1 {
				t.Errorf("%d logins, want 1 pooled connection", got)
			}
			got := sessionsRan(s.log.String())
			if !tc.shells && got != n {
				t.Errorf("sshd started %d commands, want %d", got, n)
			}
			if tc.shells && (got < tc.minLimit || got >= n) {
				// Shells start while all slots are busy, then run the rest.
				t.Errorf("sshd started %d commands (shells), want at least %d and fewer than %d", got, tc.minLimit, n)
			}
			c.mu.Lock()
			cn := c.cur
			c.mu.Unlock()
			cn.mu.Lock()
			defer cn.mu.Unlock()
			if cn.peak < tc.minLimit || cn.peak > tc.maxPeak || cn.limit < tc.minLimit {
				t.Errorf("peak %d sessions, limit now %d; want peak in [%d, %d] and limit at least %d",
					cn.peak, cn.limit, tc.minLimit, tc.maxPeak, tc.minLimit)
			}
		})
	}
}

func TestPoolReturnsSameClient(t *testing.T) {
	env := newTestEnv(t)
	s := env.configureSSHD(t, sshdOptions{})
	p := NewPool()
	defer p.Close()
	a, err := p.Client(env.config(s))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Client(env.config(s))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two Clients for one host")
	}
	other := env.config(s)
	other.Name = "other"
	if c, _ := p.Client(other); c == a {
		t.Error("another host name shares the Client")
	}
	if _, err := p.Client(Config{Address: "x"}); err == nil || !strings.Contains(err.Error(), "user is empty") {
		t.Errorf("invalid config: %v", err)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	_, s, c := newTestClient(t, sshdOptions{})
	if _, err := c.Run(context.Background(), "true", runner.Options{}); err != nil {
		t.Fatal(err)
	}
	s.stop()
	s.start()
	res, err := c.Run(context.Background(), "echo again", runner.Options{})
	if err != nil || res.Stdout != "again\n" {
		t.Fatalf("after restart: %+v %v", res, err)
	}
	if got := strings.Count(s.log.String(), "Accepted publickey"); got != 2 {
		t.Errorf("%d logins, want 2 (one per server life)", got)
	}
}

func TestConnectRetriesWhileHostBoots(t *testing.T) {
	slowInShort(t)
	env := newTestEnv(t)
	s := env.configureSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.RetryFor = 30 * time.Second
	p := NewPool()
	defer p.Close()
	done := make(chan error, 1)
	go func() {
		_, err := p.Connect(context.Background(), cfg)
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond) // several refused attempts
	select {
	case err := <-done:
		t.Fatalf("Connect returned before sshd started: %v", err)
	default:
	}
	s.start()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Connect did not succeed after sshd started")
	}

	// Without RetryFor a refused connection fails at once.
	cfg.Port = freePort(t)
	cfg.Name = "down"
	cfg.RetryFor = 0
	start := time.Now()
	_, err := p.Connect(context.Background(), cfg)
	if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > 2*time.Second {
		t.Errorf("no retry: err = %v after %s, want connection refused at once", err, time.Since(start))
	}
	// The context bounds retrying.
	cfg.Name = "down2"
	cfg.RetryFor = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if _, err := p.Connect(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("retry under a context deadline: err = %v", err)
	}
}

func TestKeepAliveClosesDeadConnection(t *testing.T) {
	slowInShort(t)
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.KeepAlive = 300 * time.Millisecond
	p := NewPool()
	defer p.Close()
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	time.Sleep(1500 * time.Millisecond)
	if !cn.alive() {
		t.Fatal("keepalives closed a healthy connection")
	}
	// A frozen host: TCP stays up, nothing answers.
	s.signalTree(syscall.SIGSTOP)
	select {
	case <-cn.done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection to a frozen host not closed by keepalive")
	}
	s.signalTree(syscall.SIGCONT)
	res, err := c.Run(context.Background(), "echo back", runner.Options{})
	if err != nil || res.Stdout != "back\n" {
		t.Fatalf("after thaw: %+v %v", res, err)
	}
}

func TestPoolClose(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	p := NewPool()
	c, err := p.Connect(context.Background(), env.config(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), "true", runner.Options{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if _, err := p.Client(env.config(s)); !errors.Is(err, ErrClosed) {
		t.Errorf("Client after Close: %v, want ErrClosed", err)
	}
}

// slowInShort skips, under -short (make test-fast), a test that waits out
// timeouts, grace periods or reconnects on real sshd for seconds; make
// test runs it.
func slowInShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("waits seconds on real sshd (timeouts, cancels, reconnects): make test runs it")
	}
}
