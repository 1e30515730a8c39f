package engine

import (
	"context"
	"fmt"
	"sync"

	"diffuser/runner"
	"diffuser/state"
)

// ConnectHost reaches h through c, which retries while the host boots. A
// host key accepted on first use — the host's own or a jump host's — is
// written into *h (h.SSH.HostKey, or HostKey of that hop of h.SSH.Jump) and
// handed to record once connected, before the runner is returned, which
// pins it in state so that later connections refuse a changed key.
// A nil record leaves *h and state alone: verify and fsbench read state,
// they never write it (apply records a key first seen there).
//
// This is the one call of Connector.Runner (probe uses it with a nil record).
func ConnectHost(ctx context.Context, c Connector, h *state.Host, record func(state.Host) error) (runner.Runner, error) {
	r, learned, err := connectHost(ctx, c, h, record != nil)
	if err != nil {
		return nil, err
	}
	if learned {
		if err := record(*h); err != nil {
			return nil, fmt.Errorf("recording the host key of %s: %w", h.Name, err)
		}
	}
	return r, nil
}

// connectHost is ConnectHost without the record: it writes keys accepted
// on first use into *h when learn is set, and says whether it did. The
// record is a durable state write: apply makes it after giving back its
// connect slot, so that connections do not wait on each other's fsyncs.
func connectHost(ctx context.Context, c Connector, h *state.Host, learn bool) (runner.Runner, bool, error) {
	var mu sync.Mutex // hops of one chain may be met concurrently
	learned := false
	r, err := c.Runner(ctx, *h, func(hop int, key string) error {
		if !learn {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		s := &h.SSH
		for i := 0; i < hop && s != nil; i++ {
			s = s.Jump
		}
		if s == nil {
			return nil // a hop state does not record (an old one-hop ssh_jump attribute)
		}
		s.HostKey = key
		learned = true
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return r, learned, err
}

// connect reaches h for apply and destroy, pinning a host key learned on
// first use in *h and in state (putHost) before it returns.
// It holds a connect slot while h's first connection of this apply is
// made (not while the key is recorded), and the runner it returns takes a
// session slot of h (and an upload slot) around each command (upload):
// ApplyOptions.Limits.
func (a *applier) connect(ctx context.Context, h *state.Host) (runner.Runner, error) {
	r, learned, err := a.connectLearning(ctx, h)
	if err != nil {
		return nil, err
	}
	if learned {
		if err := a.putHost(*h); err != nil {
			return nil, fmt.Errorf("recording the host key of %s: %w", h.Name, err)
		}
	}
	return r, nil
}

// connectLearning is connect without recording a key learned on first
// use: it is in *h, and learned says the caller must record *h. A launch
// records it with the host's facts, one durable write instead of two on
// every host's way to its first step; it runs only `true` and the facts
// command before, which change nothing and are told nothing secret (a
// crash before the write leaves the host as if never reached: the next
// apply learns the key again).
func (a *applier) connectLearning(ctx context.Context, h *state.Host) (runner.Runner, bool, error) {
	learned := false
	r, err := a.limits.connect(ctx, h, func() (runner.Runner, error) {
		r, l, err := connectHost(ctx, a.opt.Connector, h, true)
		learned = l
		return r, err
	})
	if err != nil {
		return nil, false, err
	}
	return r, learned, nil
}
