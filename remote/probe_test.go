package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// HostKey reads the key a server shows without logging in, of the pinned
// key's type when the server holds several, and says when nothing
// answers.
func TestHostKeyReadsWithoutLogin(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{RSAHostKey: true})
	p := NewPool()
	defer p.Close()
	cfg := env.config(s)
	for _, pinned := range []string{"", s.hostKeys[0], s.hostKeys[1]} {
		cfg.HostKey = pinned
		got, err := p.HostKey(context.Background(), cfg)
		if err != nil {
			t.Fatalf("pinned %.20q: %v", pinned, err)
		}
		if want := pinned; want != "" && got != want || want == "" && !slices.Contains(s.hostKeys, got) {
			t.Errorf("pinned %.20q: read %.40q", pinned, got)
		}
	}
	if log := s.log.String(); strings.Contains(log, "Accepted publickey") || strings.Contains(log, "Postponed publickey") {
		t.Errorf("reading the host key logged in:\n%s", log)
	}

	// A server holding only another type than the pinned key's still shows one.
	other := env.newSSHD(t, sshdOptions{})
	cfg = env.config(other)
	cfg.HostKey = s.hostKeys[1] // RSA: other holds ed25519 only
	if got, err := p.HostKey(context.Background(), cfg); err != nil || got != other.hostKeys[0] {
		t.Errorf("server without the pinned type: %.40q, %v", got, err)
	}

	cfg.Port = freePort(t)
	if got, err := p.HostKey(context.Background(), cfg); !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), cfg.addr()) {
		t.Errorf("nothing listening: %.40q, %v; want an error naming the address", got, err)
	}
}

// Through a jump host, HostKey logs in to the jump host (its key
// checked) and reads the target's key without logging in to the target;
// a target the jump host cannot reach answers nothing.
func TestHostKeyThroughJump(t *testing.T) {
	jump, target, cfg := newTestEnv(t).jumped(t)
	p := NewPool()
	defer p.Close()
	if got, err := p.HostKey(context.Background(), cfg); err != nil || got != target.hostKeys[0] {
		t.Fatalf("through the jump host: %.40q, %v", got, err)
	}
	if want := fmt.Sprintf("target 127.0.0.1 port %d", target.port); !strings.Contains(jump.log.String(), want) {
		t.Errorf("jump host log lacks %q: the key was not read through it", want)
	}
	if strings.Contains(target.log.String(), "Accepted publickey") {
		t.Errorf("the target was logged in to:\n%s", target.log.String())
	}
	cfg.Port = freePort(t)
	if _, err := p.HostKey(context.Background(), cfg); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("nothing behind the jump host: %v, want ErrNoAnswer", err)
	}
}

// A server that accepts the connection and says nothing costs HostKey one
// ConnectTimeout, not one per key type tried (a plan whose site file names
// many such addresses waits for each); one that answers something else
// than SSH is an error at once.
func TestHostKeySilentOrGarbage(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	p := NewPool()
	defer p.Close()
	cfg := env.config(s)
	cfg.HostKey = s.hostKeys[0]
	cfg.ConnectTimeout = time.Second

	for _, tc := range []struct {
		name   string
		answer []byte // nil: nothing
		within time.Duration
	}{
		{"silent", nil, 1800 * time.Millisecond},
		{"garbage", append([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"), make([]byte, 1<<16)...), 500 * time.Millisecond},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go serveOnly(ln, tc.answer)
		c := cfg
		c.Port = ln.Addr().(*net.TCPAddr).Port
		start := time.Now()
		got, err := p.HostKey(context.Background(), c)
		took := time.Since(start)
		ln.Close()
		if err == nil || got != "" || !strings.Contains(err.Error(), c.addr()) {
			t.Errorf("%s server: %.40q, %v; want an error naming the address", tc.name, got, err)
		}
		if took > tc.within {
			t.Errorf("%s server: HostKey took %v (connect timeout %v)", tc.name, took, cfg.ConnectTimeout)
		}
	}
}

// serveOnly accepts connections on ln, writes answer to each (nothing
// when nil) and keeps it open until ln closes.
func serveOnly(ln net.Listener, answer []byte) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		if answer != nil {
			go func() { _, _ = c.Write(answer) }()
		}
	}
}
