package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultStepTimeout bounds one attempt of a step instance whose step sets
// no `timeout`: a command on a host that is connected but stuck (a hung
// mount, a package manager waiting on a lock that never frees) must fail
// the step, not hang the apply. 30 minutes is longer than any built-in
// step takes on a slow mirror (a Ceph package install is the longest, a
// few minutes), so it only ends what is stuck. ApplyOptions.StepTimeout
// (`-step-timeout`) changes it for one apply; a step's own `timeout`
// wins over both.
const DefaultStepTimeout = 30 * time.Minute

// stepTimeout is the bound of one attempt of a step whose own `timeout`
// is own (0: none set); 0 = no bound.
func (a *applier) stepTimeout(own time.Duration) time.Duration {
	switch {
	case own > 0:
		return own
	case a.opt.StepTimeout < 0:
		return 0
	case a.opt.StepTimeout > 0:
		return a.opt.StepTimeout
	}
	return DefaultStepTimeout
}

// attemptCtx derives the context of one attempt bounded by timeout (0: none).
func attemptCtx(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}

// timedOut rewrites err when the attempt's own deadline ended it (not the
// apply's context), so the message says which bound fired and how to
// change it.
func timedOut(err error, actx, ctx context.Context, step string, timeout time.Duration) error {
	if err == nil || ctx.Err() != nil || !errors.Is(actx.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("step %s timed out after %s (set `timeout` on the step, or -step-timeout for the apply): %w", step, timeout, err)
}

// retryPause is the wait before a step's first retry.
func (a *applier) retryPause() time.Duration {
	if a.opt.RetryPause > 0 {
		return a.opt.RetryPause
	}
	return 2 * time.Second
}
