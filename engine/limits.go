package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"diffuser/remote"
	"diffuser/runner"
	"diffuser/state"
)

// Limits bound what an apply costs the controller and its hosts, apart
// from how many step instances run at once (ApplyOptions.Parallelism,
// unlimited by default). Each is taken only around what needs it: a
// connect slot while a host's first SSH connection is made, a session
// slot on a host while one command or upload runs there, an upload slot
// while a file goes up. A step instance waiting for a prerequisite, a
// host lock or a slot of another kind holds none. 0 = no limit.
type Limits struct {
	// Connects is how many SSH connections are made at once (TCP connect,
	// key exchange, authentication, and the retries while a host boots).
	// It bounds the controller's CPU for key exchanges, its ssh-agent's
	// signing queue and a jump host's MaxStartups (OpenSSH's default
	// starts refusing at 10 unauthenticated connections, so set it at or
	// below that when every host is reached through one bastion).
	Connects int
	// Uploads is how many file uploads run at once, over all hosts: they
	// share the controller's uplink.
	Uploads int
	// SessionsPerHost is how many commands and uploads run at once on one
	// host: each is an SSH session on the host's one connection, and
	// sshd refuses more than MaxSessions (10 by default) per connection.
	SessionsPerHost int
}

// The defaults of Limits, measured in docs/scale.md.
const (
	DefaultConnects        = 32
	DefaultUploads         = 16
	DefaultSessionsPerHost = remote.DefaultMaxSessions
)

// DefaultLimits are the limits an apply has unless told otherwise.
func DefaultLimits() Limits {
	return Limits{Connects: DefaultConnects, Uploads: DefaultUploads, SessionsPerHost: DefaultSessionsPerHost}
}

// Validate refuses negative limits.
func (l Limits) Validate() error {
	for _, x := range []struct {
		name string
		v    int
	}{{"connects", l.Connects}, {"uploads", l.Uploads}, {"sessions per host", l.SessionsPerHost}} {
		if x.v < 0 {
			return fmt.Errorf("the limit of %s is %d: give a positive number, or 0 for no limit", x.name, x.v)
		}
	}
	return nil
}

// limiter enforces Limits for one apply.
type limiter struct {
	lim Limits
	// connects go to the waiting host of the highest priority first.
	connects *prioSlots
	uploads  slots
	// priority of a host's connection (nil: all equal), by host name.
	priority func(host string) int32

	hosts sync.Map // host name -> *hostSlots
}

// hostSlots are one host's connect lock and session slots.
type hostSlots struct {
	providerID string // a replaced host is a new machine: new slots
	connecting slots  // one connect per host at a time: the others wait here, not on a connect slot
	mu         sync.Mutex
	connected  bool
	sessions   slots
}

// slots is a counting semaphore; nil is unlimited.
type slots chan struct{}

func newSlots(n int) slots {
	if n <= 0 {
		return nil
	}
	return make(slots, n)
}

func (s slots) acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() {
	if s != nil {
		<-s
	}
}

func newLimiter(l Limits) *limiter {
	return &limiter{lim: l, connects: newPrioSlots(l.Connects), uploads: newSlots(l.Uploads)}
}

func (l *limiter) host(h *state.Host) *hostSlots {
	if v, ok := l.hosts.Load(h.Name); ok && v.(*hostSlots).providerID == h.ProviderID {
		return v.(*hostSlots)
	}
	hs := &hostSlots{providerID: h.ProviderID, connecting: newSlots(1), sessions: newSlots(l.lim.SessionsPerHost)}
	for {
		v, loaded := l.hosts.LoadOrStore(h.Name, hs)
		if !loaded {
			return hs
		}
		old := v.(*hostSlots)
		if old.providerID == h.ProviderID {
			return old
		}
		if l.hosts.CompareAndSwap(h.Name, old, hs) {
			return hs
		}
	}
}

// connect calls dial for h, holding a connect slot when h has no
// connection from this apply yet, and returns a runner that takes a
// session slot (and an upload slot) around every command (upload).
func (l *limiter) connect(ctx context.Context, h *state.Host, dial func() (runner.Runner, error)) (runner.Runner, error) {
	hs := l.host(h)
	hs.mu.Lock()
	connected := hs.connected
	hs.mu.Unlock()
	if !connected {
		if err := hs.connecting.acquire(ctx); err != nil {
			return nil, fmt.Errorf("waiting to connect to %s: %w", h.Name, err)
		}
		defer hs.connecting.release()
		hs.mu.Lock()
		connected = hs.connected
		hs.mu.Unlock()
	}
	if !connected {
		var prio int32
		if l.priority != nil {
			prio = l.priority(h.Name)
		}
		if err := l.connects.acquire(ctx, prio); err != nil {
			return nil, fmt.Errorf("waiting for a free connect slot (-max-connects %d) for %s: %w", l.lim.Connects, h.Name, err)
		}
		r, err := dial()
		l.connects.release()
		if err != nil {
			return nil, err
		}
		hs.mu.Lock()
		hs.connected = true
		hs.mu.Unlock()
		return limitedRunner{r: r, l: l, hs: hs, host: h.Name}, nil
	}
	r, err := dial()
	if err != nil {
		return nil, err
	}
	return limitedRunner{r: r, l: l, hs: hs, host: h.Name}, nil
}

// limitedRunner runs each command in a session slot of its host, and each
// upload in a session slot and an upload slot.
type limitedRunner struct {
	r    runner.Runner
	l    *limiter
	hs   *hostSlots
	host string
}

func (r limitedRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if err := r.hs.sessions.acquire(ctx); err != nil {
		return runner.Result{Exit: -1}, fmt.Errorf("waiting for a free session on %s (-max-sessions-per-host %d): %w", r.host, r.l.lim.SessionsPerHost, err)
	}
	defer r.hs.sessions.release()
	return r.r.Run(ctx, cmd, opt)
}

var _ runner.Chainer = limitedRunner{}

// RunThen holds one session slot of the host for both commands, as they
// go to one remote shell.
func (r limitedRunner) RunThen(ctx context.Context, first runner.Command, when runner.Then, second runner.Command) (runner.Result, *runner.Result, error) {
	if err := r.hs.sessions.acquire(ctx); err != nil {
		return runner.Result{Exit: -1}, nil, fmt.Errorf("waiting for a free session on %s (-max-sessions-per-host %d): %w", r.host, r.l.lim.SessionsPerHost, err)
	}
	defer r.hs.sessions.release()
	return runner.RunThen(ctx, r.r, first, when, second)
}

func (r limitedRunner) Upload(ctx context.Context, rd io.Reader, path string, mode os.FileMode) error {
	// The host's session first: an upload waiting for its host holds no
	// slot other hosts' uploads could use.
	if err := r.hs.sessions.acquire(ctx); err != nil {
		return fmt.Errorf("waiting for a free session on %s (-max-sessions-per-host %d): %w", r.host, r.l.lim.SessionsPerHost, err)
	}
	defer r.hs.sessions.release()
	if err := r.l.uploads.acquire(ctx); err != nil {
		return fmt.Errorf("waiting for a free upload slot (-max-uploads %d): %w", r.l.lim.Uploads, err)
	}
	defer r.l.uploads.release()
	return r.r.Upload(ctx, rd, path, mode)
}
