package remote

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
)

// errKeyShown ends a handshake once the server has shown its host key.
var errKeyShown = errors.New("host key read")

// HostKey is the host key the SSH server cfg names offers, in
// authorized_keys format, read in the handshake without logging in: no
// key of the client is offered to it, and cfg.HostKey is not checked
// (the caller compares). When cfg.HostKey is set the server is asked for
// a key of that type first, so that a server holding several types
// answers with the one to compare; one that holds none of that type is
// asked again for any. Jump hosts (cfg.Jump) are logged into as for a
// connection, their pinned keys checked, and stay pooled. One attempt,
// bounded by cfg.ConnectTimeout (a second for any key type only after a
// server refused the pinned type, not after one that said nothing in
// time): a server that does not answer is an error.
func (p *Pool) HostKey(ctx context.Context, cfg Config) (string, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return "", err
	}
	dial := (&net.Dialer{}).DialContext
	if cfg.Jump != nil {
		p.mu.Lock()
		jc, err := p.clientLocked(cfg.Jump.withDefaults())
		p.mu.Unlock()
		if err != nil {
			return "", fmt.Errorf("host %s: jump host: %w", cfg.Name, err)
		}
		dial = jc.dialThrough
	}
	pin, err := newHostKeyPin(cfg)
	if err != nil {
		return "", err
	}
	key, err := readHostKey(ctx, cfg, pin.algorithms(), dial)
	if err != nil && pin.algorithms() != nil && !errors.Is(err, ErrNoAnswer) && !timedOut(err) {
		key, err = readHostKey(ctx, cfg, nil, dial)
	}
	if err != nil {
		return "", err
	}
	return FormatKey(key), nil
}

// timedOut says whether err ended a handshake by its deadline or a
// cancel: a server that said nothing in time is not asked again for
// another key type.
func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// ErrNoAnswer is the error of HostKey when nothing accepts a connection
// at the address (refused, unreachable, no route, a jump host that cannot
// reach it).
var ErrNoAnswer = errors.New("nothing answers")

// readHostKey makes one handshake with the server cfg names, offering
// algorithms (nil: the library's default), up to the host key.
func readHostKey(ctx context.Context, cfg Config, algorithms []string, dial dialFunc) (ssh.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	nc, err := dial(ctx, "tcp", cfg.addr())
	if err != nil {
		return nil, fmt.Errorf("%w at %s (%w)", ErrNoAnswer, cfg.addr(), err)
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	var shown ssh.PublicKey
	cc := &ssh.ClientConfig{
		User: cfg.User,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			shown = key
			return errKeyShown
		},
		HostKeyAlgorithms: algorithms,
		Timeout:           cfg.ConnectTimeout,
	}
	_, _, _, err = ssh.NewClientConn(nc, cfg.addr(), cc)
	if shown != nil {
		return shown, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("no SSH host key read at %s: it accepted the connection but sent no SSH answer within %v (%w)", cfg.addr(), cfg.ConnectTimeout, ctx.Err())
	}
	return nil, fmt.Errorf("no SSH host key read at %s (%w)", cfg.addr(), err)
}
