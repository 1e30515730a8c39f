package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/runner"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// serveAgent runs an ssh-agent holding the key at keyPath on a Unix
// socket and returns the socket's path.
func serveAgent(t *testing.T, keyPath string) string {
	t.Helper()
	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(keyring, c)
			}()
		}
	}()
	return sock
}

func TestAgentAuth(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	cfg := env.config(s)
	cfg.KeyFiles = nil
	cfg.UseAgent = true
	cfg.AgentSocket = serveAgent(t, env.keyPath)
	p := NewPool()
	defer p.Close()
	c, err := p.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Run(context.Background(), "echo agent", runner.Options{}); err != nil || res.Stdout != "agent\n" {
		t.Fatalf("%+v %v", res, err)
	}

	// SSH_AUTH_SOCK is the default socket.
	t.Setenv("SSH_AUTH_SOCK", cfg.AgentSocket)
	cfg.AgentSocket, cfg.Name = "", "by-env"
	if _, err := p.Connect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestAuthFailures(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	p := NewPool()
	defer p.Close()

	// A key the server does not know: refused, not retried.
	otherKey, _, err := GenerateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.config(s)
	cfg.Name, cfg.KeyFiles = "wrong-key", []string{otherKey}
	cfg.RetryFor = 30 * time.Second
	_, err = p.Connect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") || strings.Contains(err.Error(), "attempts") {
		t.Errorf("wrong key: %v, want one failed attempt", err)
	}

	// An encrypted key file: the message says to use the agent.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(t.TempDir(), "enc")
	if err := os.WriteFile(enc, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.KeyFiles = "encrypted", []string{enc}
	if _, err := p.Client(cfg); err == nil || !strings.Contains(err.Error(), "ssh-agent") {
		t.Errorf("encrypted key: %v", err)
	}

	// Neither keys nor agent.
	cfg.Name, cfg.KeyFiles = "nothing", nil
	if _, err := p.Client(cfg); err == nil || !strings.Contains(err.Error(), "nothing to authenticate with") {
		t.Errorf("no auth: %v", err)
	}
	// Agent asked for but absent.
	t.Setenv("SSH_AUTH_SOCK", "")
	cfg.Name, cfg.UseAgent = "no-agent", true
	if _, err := p.Connect(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Errorf("agent without socket: %v", err)
	}
}

// TestPoolClientOffersItsOwnKeys: the same host asked for with other keys
// (its key was rotated) gets a client that offers those keys, not the
// pooled one that offers the keys it was first reached with.
func TestPoolClientOffersItsOwnKeys(t *testing.T) {
	env := newTestEnv(t)
	s := env.newSSHD(t, sshdOptions{})
	p := NewPool()
	defer p.Close()
	cfg := env.config(s)
	if _, err := p.Connect(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := GenerateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeyFiles = []string{otherKey}
	if _, err := p.Connect(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("the same host with a key it does not accept connected (%v): the pool handed back the client with the old key", err)
	}
}
