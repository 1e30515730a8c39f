package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// conn is one SSH connection and the sessions open on it.
//
// The session limit starts at Config.MaxSessions. A server may allow
// fewer (sshd's MaxSessions): when it refuses a session while others of
// ours are open and more are open than the most it ever accepted at once,
// the limit drops by one for good. Below that, a refusal is taken as
// transient (sshd frees a closed session's slot only after it has read the
// next requests) and the session waits for one of ours to end.
type conn struct {
	client *ssh.Client
	slots  chan struct{} // a token per open session; capacity = MaxSessions
	done   chan struct{} // closed when the connection is gone

	mu       sync.Mutex // guards the fields below
	inUse    int        // sessions open or being opened
	peak     int        // most sessions the server accepted at once
	limit    int        // current limit; cap(slots) minus tokens kept for good
	released chan struct{}
}

func newConn(client *ssh.Client, maxSessions int) *conn {
	return &conn{
		client:   client,
		slots:    make(chan struct{}, maxSessions),
		done:     make(chan struct{}),
		limit:    maxSessions,
		released: make(chan struct{}),
	}
}

func (cn *conn) alive() bool {
	select {
	case <-cn.done:
		return false
	default:
		return true
	}
}

// release gives a session's slot back and wakes sessions waiting after a
// refusal.
func (cn *conn) release() {
	cn.mu.Lock()
	cn.inUse--
	close(cn.released)
	cn.released = make(chan struct{})
	cn.mu.Unlock()
	<-cn.slots
}

// session opens a session on a live connection and returns it with that
// connection and the function that gives its slot back (call it after
// closing the session). A connection found dead is replaced once; a
// command is never retried, only the opening of its session.
func (c *Client) session(ctx context.Context) (*ssh.Session, *conn, func(), error) {
	// Waits after a refusal with no other session of ours open.
	lonelyRefusalBackoff := [...]time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}
	reconnected := false
	lonely := 0
	for {
		cn, err := c.conn(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		select {
		case cn.slots <- struct{}{}:
		case <-cn.done:
			continue
		case <-ctx.Done():
			return nil, nil, nil, fmt.Errorf("host %s: waiting for a free ssh session: %w", c.cfg.Name, ctx.Err())
		}
		cn.mu.Lock()
		cn.inUse++
		n := cn.inUse
		cn.mu.Unlock()

		s, err := cn.client.NewSession()
		if err == nil {
			cn.mu.Lock()
			cn.peak = max(cn.peak, n)
			cn.mu.Unlock()
			var once sync.Once
			return s, cn, func() { once.Do(cn.release) }, nil
		}

		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			cn.mu.Lock()
			cn.inUse--
			others := cn.inUse
			if others > 0 && cn.limit > cn.peak && cn.limit > 1 {
				// Keep this token for good: the limit drops by one.
				cn.limit--
				cn.mu.Unlock()
				continue
			}
			wake := cn.released
			cn.mu.Unlock()
			<-cn.slots
			if others > 0 {
				select {
				case <-wake:
				case <-cn.done:
				case <-ctx.Done():
					return nil, nil, nil, fmt.Errorf("host %s: waiting for a free ssh session: %w", c.cfg.Name, ctx.Err())
				}
				continue
			}
			if lonely < len(lonelyRefusalBackoff) {
				if err := sleepCtx(ctx, lonelyRefusalBackoff[lonely]); err != nil {
					return nil, nil, nil, fmt.Errorf("host %s: waiting for a free ssh session: %w", c.cfg.Name, err)
				}
				lonely++
				continue
			}
			return nil, nil, nil, fmt.Errorf("host %s: server refused an ssh session: %w", c.cfg.Name, err)
		}

		cn.mu.Lock()
		cn.inUse--
		cn.mu.Unlock()
		<-cn.slots
		if !reconnected && (!cn.alive() || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) {
			reconnected = true
			c.drop(cn)
			continue
		}
		return nil, nil, nil, fmt.Errorf("host %s: opening ssh session: %w", c.cfg.Name, err)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
