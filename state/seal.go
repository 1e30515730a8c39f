package state

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"diffuser/internal/strictjson"
)

// Encryption at rest. With a Key (WithKey), state.json (and so its
// backup, a link to a former state.json) is one sealed envelope and every
// journal line is one; Load opens them. The envelope names its algorithm
// and the key's id (a truncated SHA-256 of the key, which tells keys apart
// without revealing them), so a missing or wrong key is refused with a
// message saying so: an encrypted state is never taken for an empty one.
//
// A plaintext file is still read with a key set — that is how an existing
// workspace starts being encrypted: its next save is sealed.
//
// The model is OpenTofu's state encryption (AES-GCM over the whole file,
// key from a passphrase through PBKDF2 or given raw, a loud refusal
// without it), reduced to one method and one key.

// sealedPrefix starts every envelope: how a reader tells one from JSON state.
const sealedPrefix = `{"diffuser_encrypted":`

// sealedVersion is the envelope format this build writes and reads.
const sealedVersion = 1

// minPassphrase is the shortest passphrase accepted (OpenTofu's minimum).
const minPassphrase = 16

// passphraseSalt and passphraseIter derive a key from a passphrase. The
// salt is fixed so one passphrase opens every workspace; the iteration
// count is OWASP's 2023 figure for PBKDF2-HMAC-SHA512.
const (
	passphraseSalt = "diffuser state encryption v1"
	passphraseIter = 210000
)

// envelope is a sealed file or journal line.
type envelope struct {
	Version int    `json:"diffuser_encrypted"`
	Alg     string `json:"alg"`
	KeyID   string `json:"key_id"`
	Data    string `json:"data"` // base64(nonce || ciphertext || tag)
}

// Key is an AES-256-GCM key for state at rest.
type Key struct {
	aead cipher.AEAD
	id   string
}

// NewKey makes a Key of 32 raw bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("a state key is 32 bytes (AES-256), not %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("diffuser key id\x00"), raw...))
	return &Key{aead: aead, id: hex.EncodeToString(sum[:6])}, nil
}

// ParseKey reads a key as people give one: 64 hex digits or the base64 of
// 32 bytes (`openssl rand -hex 32`), else a passphrase of at least 16
// characters, stretched with PBKDF2-HMAC-SHA512. Surrounding space (a
// key file's newline) is ignored.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if raw, err := hex.DecodeString(s); err == nil {
			return NewKey(raw)
		}
	}
	if raw, err := base64.StdEncoding.DecodeString(s); err == nil && len(raw) == 32 {
		return NewKey(raw)
	}
	if _, err := hex.DecodeString(s + s[:len(s)%2]); err == nil && len(s) >= minPassphrase {
		// All hex digits but not 64 of them: a key cut short when copied,
		// which taken as a passphrase would silently be another key.
		return nil, fmt.Errorf("the state key is %d hex digits, not 64: is it cut short? (`openssl rand -hex 32` makes one)", len(s))
	}
	if len(s) < minPassphrase {
		return nil, fmt.Errorf("the state key is neither 64 hex digits, nor base64 of 32 bytes, nor a passphrase of at least %d characters "+
			"(make one with `openssl rand -hex 32`)", minPassphrase)
	}
	raw, err := pbkdf2.Key(sha512.New, s, []byte(passphraseSalt), passphraseIter, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the state key: %w", err)
	}
	return NewKey(raw)
}

// ID is the key's id as envelopes record it.
func (k *Key) ID() string { return k.id }

// seal encrypts plain for purpose (bound as additional data, so a sealed
// journal line cannot pass for a state file) into an envelope.
func (k *Key) seal(plain []byte, purpose string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand panics instead)
	ct := k.aead.Seal(nonce, nonce, plain, []byte(purpose))
	b, _ := json.Marshal(envelope{Version: sealedVersion, Alg: "AES-256-GCM", KeyID: k.id, Data: base64.StdEncoding.EncodeToString(ct)})
	return b
}

// IsSealed says whether data (a state.json or a saved plan) is an
// encryption envelope rather than plain JSON.
func IsSealed(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(sealedPrefix))
}

// ErrNoKey is wrapped by the error for an encrypted file read without a key.
var ErrNoKey = errors.New("no state key")

// KeyError is an encrypted file that cannot be opened with the key given
// (or without one).
type KeyError struct {
	File  string
	Line  int    // journal line, 0 for a whole file
	KeyID string // the id the envelope names
	Have  string // the id of the key given, "" for none
}

func (e *KeyError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Have == "" {
		return fmt.Sprintf("%s is encrypted (key id %s) and no state key is set: set DIFFUSER_STATE_KEY to the key it was written with, "+
			"or DIFFUSER_STATE_KEY_FILE to a file holding it. diffuser never reads an encrypted state as empty", where, e.KeyID)
	}
	return fmt.Sprintf("%s is encrypted with another key (key id %s; the key set has id %s): set DIFFUSER_STATE_KEY (or DIFFUSER_STATE_KEY_FILE) "+
		"to the key it was written with", where, e.KeyID, e.Have)
}

func (e *KeyError) Unwrap() error {
	if e.Have == "" {
		return ErrNoKey
	}
	return nil
}

// open returns the plaintext of data: data itself when it is not sealed,
// else what the envelope holds, opened with k. line > 0 names a journal
// line in errors.
func open(k *Key, path string, line int, data []byte, purpose string) ([]byte, error) {
	if !IsSealed(data) {
		return data, nil
	}
	var env envelope
	if err := strictjson.Unmarshal(data, &env); err != nil {
		return nil, &CorruptError{File: path, Line: line, Err: fmt.Errorf("damaged encryption envelope: %w", err)}
	}
	if env.Version != sealedVersion {
		return nil, &VersionError{File: path, Found: env.Version, Supported: sealedVersion}
	}
	if env.Alg != "AES-256-GCM" {
		return nil, &CorruptError{File: path, Line: line, Err: fmt.Errorf("unknown encryption algorithm %q (this diffuser knows AES-256-GCM)", env.Alg)}
	}
	if k == nil || k.id != env.KeyID {
		have := ""
		if k != nil {
			have = k.id
		}
		return nil, &KeyError{File: path, Line: line, KeyID: env.KeyID, Have: have}
	}
	ct, err := base64.StdEncoding.DecodeString(env.Data)
	ns := k.aead.NonceSize()
	if err != nil || len(ct) < ns {
		return nil, &CorruptError{File: path, Line: line, Err: errors.New("damaged encrypted data")}
	}
	plain, err := k.aead.Open(nil, ct[:ns], ct[ns:], []byte(purpose))
	if err != nil {
		return nil, &CorruptError{File: path, Line: line, Err: errors.New("the encrypted data does not authenticate with the key: it was altered or damaged")}
	}
	return plain, nil
}

// Purposes bound into envelopes.
const (
	purposeState   = "diffuser state"
	purposeJournal = "diffuser journal line"
)

// WithKey encrypts what the Store writes with k and opens what it reads
// with it (nil: no encryption; an encrypted file is then refused).
func WithKey(k *Key) Option { return func(o *options) { o.key = k } }

// Seal and Open are the envelope for other files that hold state (saved
// plans): purpose binds the envelope to its use.
func (k *Key) Seal(plain []byte, purpose string) []byte { return k.seal(plain, purpose) }

// Unseal returns data's plaintext: data itself when it is not sealed. k
// may be nil: sealed data is then refused with a *KeyError.
func Unseal(k *Key, path string, data []byte, purpose string) ([]byte, error) {
	return open(k, path, 0, data, purpose)
}
