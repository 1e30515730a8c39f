package remote

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestGenerateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	priv, line, err := GenerateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if priv != filepath.Join(dir, KeyName) {
		t.Errorf("path %s", priv)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700, priv: 0o600, priv + ".pub": 0o644} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}
	data, _ := os.ReadFile(priv)
	if !strings.HasPrefix(string(data), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Errorf("private key not in OpenSSH format:\n%s", data)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(rest) != 0 {
		t.Fatalf("authorized key line %q: %v", line, err)
	}
	if pub.Type() != ssh.KeyAlgoED25519 || string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Errorf("line %q does not match the private key", line)
	}
	pubFile, _ := os.ReadFile(priv + ".pub")
	if string(pubFile) != line+"\n" {
		t.Errorf(".pub holds %q", pubFile)
	}

	// Idempotent: the same key comes back.
	priv2, line2, err := GenerateKey(dir)
	if err != nil || priv2 != priv || line2 != line {
		t.Errorf("second call: %s %q %v", priv2, line2, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d files, want key and .pub", len(entries))
	}
}

func TestGenerateKeyConcurrentFirstCalls(t *testing.T) {
	dir := t.TempDir()
	lines := make([]string, 8)
	var wg sync.WaitGroup
	for i := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, line, err := GenerateKey(dir)
			if err != nil {
				t.Error(err)
			}
			lines[i] = line
		}()
	}
	wg.Wait()
	for _, l := range lines[1:] {
		if l != lines[0] {
			t.Fatalf("concurrent calls disagree: %q", lines)
		}
	}
}

func TestGenerateKeyRejectsCorruptKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := GenerateKey(dir); err == nil {
		t.Error("a corrupt existing key was silently replaced or accepted")
	}
}
