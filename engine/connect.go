package engine

import (
	"context"

	"diffuser/runner"
	"diffuser/state"
)

// ConnectHost reaches h through c, which retries while the host boots. A
// host key accepted on first use is written into *h and handed to record,
// which pins it in state so that later connections refuse a changed key.
// A nil record leaves *h and state alone: verify and fsbench read state,
// they never write it (apply records a key first seen there).
//
// This is the one call of Connector.Runner (probe uses it with a nil record).
func ConnectHost(ctx context.Context, c Connector, h *state.Host, record func(state.Host) error) (runner.Runner, error) {
	return c.Runner(ctx, *h, func(key string) error {
		if record == nil {
			return nil
		}
		h.SSH.HostKey = key
		return record(*h)
	})
}

// connect reaches h for apply and destroy, pinning a host key learned on
// first use in *h and in state (putHost).
func (a *applier) connect(ctx context.Context, h *state.Host) (runner.Runner, error) {
	return ConnectHost(ctx, a.opt.Connector, h, a.putHost)
}
