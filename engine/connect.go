package engine

import (
	"context"
	"sync"

	"diffuser/runner"
	"diffuser/state"
)

// ConnectHost reaches h through c, which retries while the host boots. A
// host key accepted on first use — the host's own or a jump host's — is
// written into *h (h.SSH.HostKey, or HostKey of that hop of h.SSH.Jump) and
// handed to record, which pins it in state so that later connections
// refuse a changed key.
// A nil record leaves *h and state alone: verify and fsbench read state,
// they never write it (apply records a key first seen there).
//
// This is the one call of Connector.Runner (probe uses it with a nil record).
func ConnectHost(ctx context.Context, c Connector, h *state.Host, record func(state.Host) error) (runner.Runner, error) {
	var mu sync.Mutex // hops of one chain may be met concurrently
	return c.Runner(ctx, *h, func(hop int, key string) error {
		if record == nil {
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
		return record(*h)
	})
}

// connect reaches h for apply and destroy, pinning a host key learned on
// first use in *h and in state (putHost).
// It holds a connect slot while h's first connection of this apply is
// made, and the runner it returns takes a session slot of h (and an upload
// slot) around each command (upload): ApplyOptions.Limits.
func (a *applier) connect(ctx context.Context, h *state.Host) (runner.Runner, error) {
	return a.limits.connect(ctx, h, func() (runner.Runner, error) {
		return ConnectHost(ctx, a.opt.Connector, h, a.putHost)
	})
}
