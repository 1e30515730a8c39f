package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// ErrClosed is returned by a Client whose Pool was closed.
var ErrClosed = errors.New("ssh connection pool closed")

// Pool holds one Client, and so at most one SSH connection, per host. Its
// methods are safe for concurrent use.
type Pool struct {
	mu      sync.Mutex // guards clients and closed
	clients map[string]*Client
	closed  bool
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{clients: make(map[string]*Client)}
}

// Client returns the pooled client for cfg's host, creating it on first
// use. It does not connect: the first Run, Upload or Connect does. Later
// calls for the same host (same Name, User, Address, Port, keys and jump
// hosts: Config.poolKey) return the same Client and ignore the rest of cfg.
func (p *Pool) Client(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clientLocked(cfg)
}

func (p *Pool) clientLocked(cfg Config) (*Client, error) {
	if p.closed {
		return nil, ErrClosed
	}
	key := cfg.poolKey()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	pin, err := newHostKeyPin(cfg)
	if err != nil {
		return nil, err
	}
	signers, err := loadSigners(cfg.KeyFiles)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", cfg.Name, err)
	}
	c := &Client{cfg: cfg, pin: pin, signers: signers, sudo: cfg.Sudo && !cfg.root(), driver: driverScript}
	if cfg.Jump != nil {
		jcfg := cfg.Jump.withDefaults()
		if c.jump, err = p.clientLocked(jcfg); err != nil {
			return nil, fmt.Errorf("host %s: jump host %s: %w", cfg.Name, jcfg.Name, err)
		}
	}
	p.clients[key] = c
	return c, nil
}

// Connect returns the pooled client for cfg's host, connected.
func (p *Pool) Connect(ctx context.Context, cfg Config) (*Client, error) {
	c, err := p.Client(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes every connection. Clients of a closed pool return ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	clients := p.clients
	p.clients = nil
	p.mu.Unlock()
	var errs []error
	for _, c := range clients {
		errs = append(errs, c.shutdown())
	}
	return errors.Join(errs...)
}

// Client runs commands and uploads files on one host over a pooled SSH
// connection. It reconnects when the connection died. Its methods are safe
// for concurrent use; at most Config.MaxSessions commands run at once per
// connection and the others wait for a free session.
type Client struct {
	cfg     Config
	pin     *hostKeyPin
	signers []ssh.Signer
	jump    *Client // nil when dialed directly
	sudo    bool    // wrap commands in sudo
	// driver is the script a remote shell runs (driverScript; tests
	// take setsidDriver to try the loop hosts without bash get).
	driver string

	mu      sync.Mutex // guards cur, dialing and closed
	cur     *conn
	dialing *dialCall
	closed  bool
}

// dialCall is a connect in progress that concurrent callers share.
type dialCall struct {
	done chan struct{}
	cn   *conn
	err  error
	// abandoned: the dialing caller's context ended, which says nothing
	// about the host; waiters with live contexts dial again.
	abandoned bool
}

// Host returns the host's name.
func (c *Client) Host() string { return c.cfg.Name }

// Connect connects now unless already connected, so that connect errors
// and first-use host key recording happen before any command.
func (c *Client) Connect(ctx context.Context) error {
	_, err := c.conn(ctx)
	return err
}

// Close closes the current connection; a later call reconnects.
func (c *Client) Close() error {
	c.mu.Lock()
	cn := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	return ignoreClosed(cn.client.Close())
}

func (c *Client) shutdown() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Close()
}

// conn returns a live connection, connecting (once, for all concurrent
// callers) when there is none.
func (c *Client) conn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, fmt.Errorf("host %s: %w", c.cfg.Name, ErrClosed)
		}
		if c.cur != nil && c.cur.alive() {
			cn := c.cur
			c.mu.Unlock()
			return cn, nil
		}
		if call := c.dialing; call != nil {
			c.mu.Unlock()
			select {
			case <-call.done:
				if call.err != nil && !(call.abandoned && ctx.Err() == nil) {
					return nil, call.err
				}
				// Connected, or the caller that dialed gave up: look again.
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("host %s: waiting for connection: %w", c.cfg.Name, ctx.Err())
			}
		}
		call := &dialCall{done: make(chan struct{})}
		c.dialing = call
		c.mu.Unlock()

		call.cn, call.err = c.dial(ctx)
		call.abandoned = call.err != nil && ctx.Err() != nil

		c.mu.Lock()
		c.dialing = nil
		if call.err == nil {
			if c.closed {
				_ = call.cn.client.Close()
				call.err = fmt.Errorf("host %s: %w", c.cfg.Name, ErrClosed)
			} else {
				c.cur = call.cn
			}
		}
		c.mu.Unlock()
		close(call.done)
		return call.cn, call.err
	}
}

// dial opens a new connection, through the jump host if there is one.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	dial := (&net.Dialer{}).DialContext
	if c.jump != nil {
		dial = c.jump.dialThrough
	}
	sc, err := dialRetry(ctx, c.cfg, c.pin, c.signers, dial)
	if err != nil {
		return nil, err
	}
	cn := newConn(sc, c.cfg.MaxSessions)
	go func() {
		_ = sc.Wait()
		close(cn.done)
	}()
	if c.cfg.KeepAlive > 0 {
		go keepAlive(cn, c.cfg.KeepAlive)
	}
	return cn, nil
}

// dialThrough opens a stream to addr through c, a jump host, connecting
// to c first when it is not connected.
func (c *Client) dialThrough(ctx context.Context, network, addr string) (net.Conn, error) {
	jc, err := c.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("via jump host: %w", err)
	}
	nc, err := jc.client.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("via jump host %s: %w", c.cfg.Name, err)
	}
	return nc, nil
}

// drop forgets cn as the current connection and closes it.
func (c *Client) drop(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
	}
	c.mu.Unlock()
	_ = cn.client.Close()
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
