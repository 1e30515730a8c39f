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

	mu      sync.Mutex // guards the fields below
	idle    []*shell   // shells waiting for a command; each holds a slot
	noShell bool       // a shell failed to start here: sessions only
	waiting int        // callers waiting for a slot: finished shells close
	shells  int        // shells open (idle or busy)
	// shellFreed is closed and replaced when a shell goes idle or closes.
	shellFreed chan struct{}
	inUse      int // sessions open or being opened
	peak       int // most sessions the server accepted at once
	limit      int // current limit; cap(slots) minus tokens kept for good
	released   chan struct{}
}

func newConn(client *ssh.Client, maxSessions int) *conn {
	return &conn{
		client:     client,
		slots:      make(chan struct{}, maxSessions),
		done:       make(chan struct{}),
		limit:      maxSessions,
		released:   make(chan struct{}),
		shellFreed: make(chan struct{}),
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
	return c.sessionFor(ctx, false)
}

// sessionFor is session; forShell says the session will hold a shell, so
// that its wait for a slot does not make finished shells close.
func (c *Client) sessionFor(ctx context.Context, forShell bool) (*ssh.Session, *conn, func(), error) {
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
		default:
			// Every slot is taken: an idle shell gives its slot up, and
			// shells that finish meanwhile close (putShell) rather than
			// idle while this waits.
			if cn.evictIdle() {
				continue
			}
			cn.mu.Lock()
			if forShell && cn.shells > 1 {
				// Other shells hold the slots: take one of them when it
				// finishes (takeShell) rather than wait for a slot.
				cn.mu.Unlock()
				return nil, nil, nil, errShellRetry
			}
			if !forShell {
				cn.waiting++
			}
			cn.mu.Unlock()
			var err error
			dead := false
			select {
			case cn.slots <- struct{}{}:
			case <-cn.done:
				dead = true
			case <-ctx.Done():
				err = fmt.Errorf("host %s: waiting for a free ssh session: %w", c.cfg.Name, ctx.Err())
			}
			cn.mu.Lock()
			if !forShell {
				cn.waiting--
			}
			cn.mu.Unlock()
			if err != nil {
				return nil, nil, nil, err
			}
			if dead {
				continue
			}
		}
		cn.mu.Lock()
		cn.inUse++
		n := cn.inUse
		cn.mu.Unlock()

		s, err := openSession(ctx, cn)
		if errors.Is(err, errNoAnswer) {
			// The slot is given back when the host answers (openSession).
			return nil, nil, nil, fmt.Errorf("host %s: opening ssh session: %w", c.cfg.Name, err)
		}
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
			if cn.evictIdle() {
				continue // an idle shell of ours held the server's slot
			}
			if others > 0 && forShell {
				return nil, nil, nil, errShellRetry
			}
			if others > 0 {
				cn.mu.Lock()
				if !forShell {
					cn.waiting++ // shells that finish now close and wake this
				}
				cn.mu.Unlock()
				var err error
				select {
				case <-wake:
				case <-cn.done:
				case <-ctx.Done():
					err = fmt.Errorf("host %s: waiting for a free ssh session: %w", c.cfg.Name, ctx.Err())
				}
				cn.mu.Lock()
				if !forShell {
					cn.waiting--
				}
				cn.mu.Unlock()
				if err != nil {
					return nil, nil, nil, err
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

// errNoAnswer wraps the context's error when it ends before the host
// answered a request: the request may still be answered later.
var errNoAnswer = errors.New("the host did not answer")

// openSession opens a session on cn, its slot taken, waiting for the
// host's answer no longer than ctx allows: x/crypto/ssh's NewSession has
// no context, and on a host that stopped answering it waits until
// keepalive closes the connection (never, with keepalive off). When ctx
// ends first the error wraps errNoAnswer and ctx's error; the session,
// should it open later, is closed and the slot given back then.
func openSession(ctx context.Context, cn *conn) (*ssh.Session, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := cn.client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.s != nil {
				_ = o.s.Close()
			}
			cn.release()
		}()
		return nil, fmt.Errorf("%w: %w", errNoAnswer, ctx.Err())
	}
}

// request makes one request on sess that waits for the host's answer
// (exec), no longer than ctx allows; when ctx ends first the session is
// closed and the error wraps errNoAnswer and ctx's error.
func request(ctx context.Context, sess *ssh.Session, do func() error) error {
	done := make(chan error, 1)
	go func() { done <- do() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = sess.Close()
		return fmt.Errorf("%w: %w", errNoAnswer, ctx.Err())
	}
}
