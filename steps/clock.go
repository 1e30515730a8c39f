package steps

import (
	"context"
	"time"
)

// Clock is the time source of kinds that poll (wait) or let a daemon settle
// (service). Tests pass a fake one (steptest.Clock, through
// builtin.WithClock) so that polling is instant and its command count
// deterministic.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real time: the clock of builtin.Kinds, and of wait
// and service when theirs is nil.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
