package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
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
	env := newTestEnv(t)
	jump := env.newSSHD(t, sshdOptions{Extra: "LogLevel DEBUG1"})
	target := env.newSSHD(t, sshdOptions{})
	cfg := env.config(target)
	jcfg := env.config(jump)
	jcfg.Name = "bastion"
	cfg.Jump = &jcfg
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
