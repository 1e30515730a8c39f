package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"diffuser/internal/regfile"

	"golang.org/x/crypto/ssh"
)

// maxKeyFile is the largest private key file read: an ed25519 key is
// ~400 bytes, an RSA 16384-bit one ~13 KiB.
const maxKeyFile = 1 << 20

// KeyName is the file name of the key GenerateKey keeps in its directory.
const KeyName = "id_ed25519"

// GenerateKey returns the path of the ed25519 private key in dir and its
// public key as an authorized_keys line ("ssh-ed25519 AAAA... diffuser"),
// creating the key the first time (OpenSSH PEM format, mode 0600, dir
// 0700, public key beside it in <key>.pub). An existing key is reused, so
// the call is idempotent; concurrent first calls agree on one key.
func GenerateKey(dir string) (privPath, authorizedKeyLine string, err error) {
	privPath = filepath.Join(dir, KeyName)
	if line, err := readKey(privPath); err == nil {
		return privPath, line, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("creating key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generating ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "diffuser")
	if err != nil {
		return "", "", fmt.Errorf("encoding private key: %w", err)
	}
	// Write a temporary file, then link it to the final name: a key file
	// is never seen half written, and when two processes race, the first
	// link wins and the other reuses its key.
	tmp, err := os.CreateTemp(dir, ".id_ed25519-*")
	if err != nil {
		return "", "", fmt.Errorf("writing private key: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := writeAndSync(tmp, pem.EncodeToMemory(block)); err != nil {
		return "", "", fmt.Errorf("writing private key: %w", err)
	}
	if err := os.Link(tmp.Name(), privPath); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", fmt.Errorf("writing private key: %w", err)
	}
	line, err := readKey(privPath)
	if err != nil {
		return "", "", err
	}
	if err := writePublicKey(privPath+".pub", line); err != nil {
		return "", "", fmt.Errorf("writing public key: %w", err)
	}
	return privPath, line, nil
}

// readKey parses the private key at p and returns its public key as an
// authorized_keys line.
func readKey(p string) (string, error) {
	data, err := regfile.Read(p, maxKeyFile)
	if err != nil {
		return "", fmt.Errorf("reading ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return "", fmt.Errorf("parsing ssh key %s: %w", p, err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " diffuser", nil
}

func writeAndSync(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// writePublicKey writes line to p through a temporary file and a rename,
// so concurrent callers never leave a half-written file.
func writePublicKey(p, line string) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".pub-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(line + "\n"); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
