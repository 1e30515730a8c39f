package remote

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/runner"

	"golang.org/x/crypto/ssh"
)

func TestTrustOnFirstUseRecordsAndPins(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.HostKey = ""
	var mu sync.Mutex
	var recorded []string
	cfg.OnHostKey = func(key string) error {
		mu.Lock()
		defer mu.Unlock()
		recorded = append(recorded, key)
		return nil
	}
	p := NewPool()
	defer p.Close()
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 1 || recorded[0] != s.hostKeys[0] {
		t.Fatalf("OnHostKey got %q, want once the server's key %q", recorded, s.hostKeys[0])
	}

	// A restart with the same key: reconnects without asking again.
	s.stop()
	s.start()
	if _, err := c.Run(context.Background(), "true", runner.Options{}); err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 1 {
		t.Errorf("OnHostKey called again on reconnect: %q", recorded)
	}

	// The host comes back with another key: the learned key is pinned.
	old := s.hostKeys[0]
	s.stop()
	s.rotateHostKey()
	s.start()
	_, err = c.Run(context.Background(), "true", runner.Options{})
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("after the key changed: err = %v, want *HostKeyChangedError", err)
	}
	if changed.Recorded != fingerprint(t, old) || changed.Offered != fingerprint(t, s.hostKeys[0]) || changed.OfferedKey != s.hostKeys[0] {
		t.Errorf("error fields %+v", changed)
	}
}

func TestPinnedWrongKeyRefused(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	other := env.configureSSHD(t, sshdOptions{}) // never started: just a key
	cfg := env.config(s)
	cfg.Name = "node-1"
	cfg.HostKey = other.hostKeys[0]
	cfg.RetryFor = time.Minute // a changed key is never retried
	cfg.OnHostKey = func(string) error {
		t.Error("OnHostKey called for a pinned host")
		return nil
	}
	start := time.Now()
	_, err := NewPool().Connect(context.Background(), cfg)
	if time.Since(start) > 5*time.Second {
		t.Errorf("refusal took %s: retried?", time.Since(start))
	}
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("err = %v, want *HostKeyChangedError", err)
	}
	if changed.Host != "node-1" || changed.Address != s.addr() {
		t.Errorf("host %q address %q, want node-1 %s", changed.Host, changed.Address, s.addr())
	}
	msg := err.Error()
	for _, want := range []string{
		"node-1",
		fingerprint(t, other.hostKeys[0]),
		fingerprint(t, s.hostKeys[0]),
		"diffuser state forget-hostkey WORKSPACE node-1",
		"WORKSPACE is the recipe's name",
		"-replace=node-1",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// A caller that knows the workspace gets a command to run as it is.
	changed.Workspace = "lab-ceph"
	named := changed.Error()
	if !strings.Contains(named, "diffuser state forget-hostkey lab-ceph node-1`") || strings.Contains(named, "WORKSPACE") {
		t.Errorf("with Workspace set, the message should name it and drop the placeholder:\n%s", named)
	}
	changed.Jump = "10.0.0.1:2222"
	if jump := changed.Error(); !strings.Contains(jump, "forget-hostkey lab-ceph --jump 10.0.0.1:2222`") || strings.Contains(jump, "WORKSPACE") {
		t.Errorf("a jump host's message should name the workspace too:\n%s", jump)
	}
	if strings.Count(s.log.String(), "Accepted publickey") != 0 {
		t.Error("client authenticated to a host whose key it refused")
	}
}

func TestPinnedKeyChoosesAlgorithm(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{RSAHostKey: true})
	// The server holds ed25519 and RSA keys. Pinned to the RSA one, the
	// client must ask for RSA rather than see ed25519 and call it changed.
	cfg := env.config(s)
	cfg.HostKey = s.hostKeys[1]
	if !strings.HasPrefix(cfg.HostKey, "ssh-rsa ") {
		t.Fatalf("second host key is %q", cfg.HostKey)
	}
	p := NewPool()
	defer p.Close()
	if _, err := p.Connect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	// The ed25519 pin works too.
	cfg.Name, cfg.HostKey = "ed", s.hostKeys[0]
	if _, err := p.Connect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestOnHostKeyErrorRefuses(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.HostKey = ""
	calls := 0
	cfg.OnHostKey = func(string) error {
		calls++
		if calls == 1 {
			return errors.New("state is locked")
		}
		return nil
	}
	p := NewPool()
	defer p.Close()
	c, err := p.Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "state is locked") {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	// Not pinned by the failed attempt: the next one asks again.
	if err := c.Connect(context.Background()); err != nil || calls != 2 {
		t.Fatalf("second connect: %v, %d calls", err, calls)
	}
}

func TestParseHostKeyRejectsGarbage(t *testing.T) {
	if _, err := ParseHostKey("ssh-ed25519 not-base64!"); err == nil {
		t.Error("garbage parsed")
	}
	_, err := NewPool().Client(Config{Address: "h", User: "u", KeyFiles: []string{"/nonexistent"}, HostKey: "nope"})
	if err == nil || !strings.Contains(err.Error(), "parsing host key") {
		t.Errorf("bad HostKey in config: %v", err)
	}
}

func fingerprint(t *testing.T, key string) string {
	t.Helper()
	k, err := ParseHostKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(k)
}
