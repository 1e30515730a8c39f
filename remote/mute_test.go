package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"diffuser/runner"
)

// muteServer is an in-process SSH server that opens sessions but never
// answers the requests that start something in them (exec, shell,
// subsystem): a host that hung between the two, which a real sshd cannot
// be stopped at on purpose. It counts the requests it got.
type muteServer struct {
	addr string
	mu   sync.Mutex
	reqs map[string]int
}

func (m *muteServer) requests(typ string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reqs[typ]
}

func newMuteServer(t *testing.T) *muteServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil },
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &muteServer{addr: ln.Addr().String(), reqs: map[string]int{}}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			go m.serve(nc, cfg)
		}
	}()
	return m
}

func (m *muteServer) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	go func() {
		for r := range reqs { // keepalives: answered, the host is alive
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}()
	for nch := range chans {
		ch, creqs, err := nch.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = ch.Close() }()
			for r := range creqs {
				m.mu.Lock()
				m.reqs[r.Type]++
				m.mu.Unlock()
				// never answered
			}
		}()
	}
}

func (m *muteServer) client(t *testing.T, noShell bool) *Client {
	t.Helper()
	host, port, _ := net.SplitHostPort(m.addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t) // a client key
	p0 := NewPool()
	t.Cleanup(func() { _ = p0.Close() })
	c, err := p0.Connect(context.Background(), Config{
		Name: "mute", Address: host, Port: p, User: "root", KeyFiles: []string{env.keyPath},
		ConnectTimeout: 5 * time.Second, NoShell: noShell,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A host that opens the session but never answers the request starting
// the command: Run returns at its timeout or cancel, saying whether the
// command line reached the host (it did in a session of its own; with a
// remote shell only the shell's start did, so the command did not run).
func TestRunOnHostThatNeverStartsIt(t *testing.T) {
	m := newMuteServer(t)
	for _, tc := range []struct {
		noShell bool
		ran     string
		req     string
	}{
		{true, "it may have run in part", "exec"},
		{false, "it did not run", "exec"},
	} {
		c := m.client(t, tc.noShell)
		before := m.requests(tc.req)
		start := time.Now()
		_, err := c.Run(context.Background(), "echo never", runner.Options{Timeout: 500 * time.Millisecond})
		if took := time.Since(start); took > 500*time.Millisecond+closeGrace {
			t.Errorf("noShell=%v: returned after %s", tc.noShell, took)
		}
		want := "host mute: command timed out after 500ms before the host started it (" + tc.ran + "): "
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("noShell=%v: err = %v, want %q…", tc.noShell, err, want)
		}
		if m.requests(tc.req) != before+1 {
			t.Errorf("noShell=%v: server got %d %s requests, want %d", tc.noShell, m.requests(tc.req), tc.req, before+1)
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		_, err = c.Run(ctx, "echo never", runner.Options{})
		want = "host mute: command interrupted before the host started it (" + tc.ran + "): "
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, context.Canceled) {
			t.Errorf("noShell=%v: cancelled: err = %v, want %q…", tc.noShell, err, want)
		}
	}
}

// An upload to a host that never starts the sftp subsystem returns when
// its context ends (and the bounded try to remove what it may have left).
func TestUploadToHostThatNeverStartsSFTP(t *testing.T) {
	m := newMuteServer(t)
	c := m.client(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Upload(ctx, bytes.NewReader([]byte("data")), "/tmp/x", 0o644)
	if took := time.Since(start); took > 500*time.Millisecond+cleanupTimeout+closeGrace {
		t.Errorf("returned after %s", took)
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "host mute: upload /tmp/x") {
		t.Errorf("err = %v", err)
	}
	if m.requests("subsystem") != 1 {
		t.Errorf("server got %d subsystem requests, want 1", m.requests("subsystem"))
	}
}
