package remote

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// HostKeyChangedError is returned when a host offers a key other than the
// one recorded for it. The connection is refused.
type HostKeyChangedError struct {
	Host     string // host name as in state
	Address  string // host:port dialed
	Recorded string // SHA256 fingerprint of the recorded key
	Offered  string // SHA256 fingerprint of the offered key
	// OfferedKey is the offered key in authorized_keys format, for a caller
	// that wants to show or record it after the user agreed.
	OfferedKey string
	// Jump is the jump host's address ("host" or "host:port") when the
	// changed key is a jump host's: Host is then "jump " + Jump.
	Jump string
	// Workspace names the workspace in the command the message suggests
	// ("" = the placeholder WORKSPACE, explained).
	Workspace string
}

func (e *HostKeyChangedError) Error() string {
	ws, hint := e.Workspace, ""
	if ws == "" {
		ws, hint = "WORKSPACE", " (WORKSPACE is the recipe's name unless you chose another with -workspace)"
	}
	if e.Jump != "" {
		return fmt.Sprintf("host key of jump host %s (%s) has changed: recorded %s, offered %s. "+
			"Someone could be intercepting the connection, or the jump host was rebuilt. "+
			"If you know why it changed, run `diffuser state forget-hostkey %s --jump %s`%s; "+
			"the next apply pins the key it is offered then",
			e.Jump, e.Address, e.Recorded, e.Offered, ws, e.Jump, hint)
	}
	return fmt.Sprintf("host key of %s (%s) has changed: recorded %s, offered %s. "+
		"Someone could be intercepting the connection, or the host was rebuilt. "+
		"If you know why it changed, run `diffuser state forget-hostkey %s %s`%s "+
		"or re-run with -replace=%s to accept the new key",
		e.Host, e.Address, e.Recorded, e.Offered, ws, e.Host, hint, e.Host)
}

// ParseHostKey parses a key in authorized_keys format ("type base64
// [comment]").
func ParseHostKey(s string) (ssh.PublicKey, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("parsing host key %q: %w", abbrev(s), err)
	}
	return key, nil
}

// Fingerprint is the SHA256 fingerprint of a key in authorized_keys
// format, as ssh-keygen -l prints it ("SHA256:...").
func Fingerprint(s string) (string, error) {
	key, err := ParseHostKey(s)
	if err != nil {
		return "", err
	}
	return ssh.FingerprintSHA256(key), nil
}

// FormatKey returns key in authorized_keys format without a newline.
func FormatKey(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// hostKeyPin is the host key state of one host: the pinned key, or none
// yet (trust on first use). It outlives connections, so a reconnect after
// first use is checked against the key learned then.
type hostKeyPin struct {
	host string
	jump string // JumpAddress of the config: a jump host's pin
	// workspace is Config.Workspace, for the changed key error.
	workspace string
	onFirst   func(string) error
	mu        sync.Mutex
	pinned    ssh.PublicKey // nil until known
}

func newHostKeyPin(cfg Config) (*hostKeyPin, error) {
	p := &hostKeyPin{host: cfg.Name, jump: cfg.JumpAddress, workspace: cfg.Workspace, onFirst: cfg.OnHostKey}
	if cfg.HostKey != "" {
		key, err := ParseHostKey(cfg.HostKey)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", cfg.Name, err)
		}
		p.pinned = key
	}
	return p, nil
}

// algorithms returns the host key algorithms to negotiate: only those
// matching the pinned key, else nil (the library's default order). Without
// this a host holding several key types could offer another one than the
// recorded type and look changed.
func (p *hostKeyPin) algorithms() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pinned == nil {
		return nil
	}
	typ := p.pinned.Type()
	if typ == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{typ}
}

// callback checks the offered key against the pin, or accepts and pins it
// on first use after OnHostKey agreed.
func (p *hostKeyPin) callback(_ string, remote net.Addr, key ssh.PublicKey) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pinned != nil {
		if bytes.Equal(p.pinned.Marshal(), key.Marshal()) {
			return nil
		}
		return &HostKeyChangedError{
			Host:       p.host,
			Address:    remote.String(),
			Recorded:   ssh.FingerprintSHA256(p.pinned),
			Offered:    ssh.FingerprintSHA256(key),
			OfferedKey: FormatKey(key),
			Jump:       p.jump,
			Workspace:  p.workspace,
		}
	}
	if p.onFirst != nil {
		if err := p.onFirst(FormatKey(key)); err != nil {
			return fmt.Errorf("recording host key %s of %s: %w", ssh.FingerprintSHA256(key), p.host, err)
		}
	}
	p.pinned = key
	return nil
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
