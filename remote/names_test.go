package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestCheckHost(t *testing.T) {
	for _, h := range []string{"10.0.0.1", "lab-pc-01", "db.example.org", "::1", "fe80::1", "host_1"} {
		if err := CheckHost(h); err != nil {
			t.Errorf("CheckHost(%q): %v", h, err)
		}
	}
	for _, h := range []string{"", "-oProxyCommand=x", "a b", "h;x", "h\n", "[::1]", "h%eth0", "a/b"} {
		if CheckHost(h) == nil {
			t.Errorf("CheckHost(%q) accepted", h)
		}
	}
}

func TestUsableKeyFile(t *testing.T) {
	dir := t.TempDir()
	plain, _, err := GenerateKey(filepath.Join(dir, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	if err := UsableKeyFile(plain); err != nil {
		t.Errorf("plain key: %v", err)
	}
	if UsableKeyFile(filepath.Join(dir, "missing")) == nil {
		t.Error("missing key accepted")
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(dir, "enc")
	if err := os.WriteFile(enc, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := UsableKeyFile(enc); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted key: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if UsableKeyFile(junk) == nil {
		t.Error("junk accepted")
	}
}
