package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"diffuser/internal/regfile"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Backoff between connect attempts: doubling from initialBackoff up to
// maxBackoff.
const (
	initialBackoff = 250 * time.Millisecond
	maxBackoff     = 5 * time.Second
)

// dialFunc opens the TCP stream an SSH connection runs over: a socket, or
// a channel through a jump host.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// loadSigners reads and parses private key files.
func loadSigners(files []string) ([]ssh.Signer, error) {
	var signers []ssh.Signer
	for _, f := range files {
		pem, err := regfile.Read(f, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading ssh key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("ssh key %s is encrypted: add it to ssh-agent and enable the agent instead", f)
		}
		if err != nil {
			return nil, fmt.Errorf("parsing ssh key %s: %w", f, err)
		}
		signers = append(signers, s)
	}
	return signers, nil
}

// authMethods returns the public key method offering the key files' keys
// and then the agent's, and a function closing the agent connection once
// the handshake is over.
func authMethods(cfg Config, files []ssh.Signer) ([]ssh.AuthMethod, func(), error) {
	signers := append([]ssh.Signer(nil), files...)
	closeAgent := func() {}
	if cfg.UseAgent {
		sock := cfg.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
			if len(signers) == 0 {
				return nil, closeAgent, errors.New("ssh-agent requested but SSH_AUTH_SOCK is not set")
			}
		} else {
			ac, err := net.Dial("unix", sock)
			if err != nil {
				if len(signers) == 0 {
					return nil, closeAgent, fmt.Errorf("connecting to ssh-agent: %w", err)
				}
			} else {
				closeAgent = func() { _ = ac.Close() }
				as, err := agent.NewClient(ac).Signers()
				if err != nil {
					closeAgent()
					return nil, func() {}, fmt.Errorf("listing ssh-agent keys: %w", err)
				}
				signers = append(signers, as...)
			}
		}
	}
	if len(signers) == 0 {
		return nil, closeAgent, errors.New("no ssh keys to authenticate with")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, closeAgent, nil
}

// dialOnce makes one connection attempt bounded by cfg.ConnectTimeout.
func dialOnce(ctx context.Context, cfg Config, pin *hostKeyPin, files []ssh.Signer, dial dialFunc) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	auth, closeAgent, err := authMethods(cfg, files)
	defer closeAgent()
	if err != nil {
		return nil, err
	}
	addr := cfg.addr()
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// The handshake has no context of its own: closing the stream aborts it.
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	cc := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   pin.callback,
		HostKeyAlgorithms: pin.algorithms(),
		Timeout:           cfg.ConnectTimeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cc)
	if !stop() {
		if err == nil {
			_ = sc.Close()
		}
		return nil, fmt.Errorf("ssh handshake: %w", ctx.Err())
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// dialRetry calls dialOnce until it succeeds, fails for good, or
// cfg.RetryFor has passed.
func dialRetry(ctx context.Context, cfg Config, pin *hostKeyPin, files []ssh.Signer, dial dialFunc) (*ssh.Client, error) {
	start := time.Now()
	backoff := initialBackoff
	for attempt := 1; ; attempt++ {
		c, err := dialOnce(ctx, cfg, pin, files, dial)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connecting to %s (%s): %w", cfg.Name, cfg.addr(), ctx.Err())
		}
		var changed *HostKeyChangedError
		if errors.As(err, &changed) {
			return nil, changed // says all there is to say
		}
		elapsed := time.Since(start)
		if !retryable(err) || elapsed+backoff > cfg.RetryFor {
			if attempt > 1 {
				return nil, fmt.Errorf("connecting to %s (%s) as %s: %w (gave up after %d attempts in %s)",
					cfg.Name, cfg.addr(), cfg.User, err, attempt, elapsed.Round(time.Millisecond))
			}
			return nil, fmt.Errorf("connecting to %s (%s) as %s: %w", cfg.Name, cfg.addr(), cfg.User, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connecting to %s (%s): %w (last error: %v)", cfg.Name, cfg.addr(), ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// retryable reports whether a connect error is what a booting host (or a
// host behind a jump host that is booting) causes.
func retryable(err error) bool {
	for _, target := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT,
		io.EOF, io.ErrUnexpectedEOF, os.ErrDeadlineExceeded,
		context.DeadlineExceeded, net.ErrClosed,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound || dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var openErr *ssh.OpenChannelError // jump host could not reach the target yet
	if errors.As(err, &openErr) {
		return openErr.Reason == ssh.ConnectionFailed
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// keepAlive sends keepalive@openssh.com every interval and closes the
// connection when a request fails or gets no answer for 3 intervals. It
// returns when the connection is closed.
func keepAlive(cn *conn, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-cn.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			// OpenSSH answers "failure" to this unknown request: any answer
			// proves the peer alive.
			_, _, err := cn.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		dead := time.NewTimer(3 * interval)
		select {
		case err := <-reply:
			dead.Stop()
			if err != nil {
				_ = cn.client.Close()
				return
			}
		case <-dead.C:
			_ = cn.client.Close()
			return
		case <-cn.done:
			dead.Stop()
			return
		}
	}
}
