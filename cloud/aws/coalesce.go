package aws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// memo runs fn once per key and shares the result with concurrent and later
// callers. A failed run is forgotten, so the next caller tries again.
type memo[T any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (m *memo[T]) get(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	for {
		m.mu.Lock()
		if m.entries == nil {
			m.entries = map[string]*memoEntry[T]{}
		}
		e, ok := m.entries[key]
		if !ok {
			e = &memoEntry[T]{done: make(chan struct{})}
			m.entries[key] = e
			m.mu.Unlock()
			e.val, e.err = fn(ctx)
			if e.err != nil {
				m.mu.Lock()
				delete(m.entries, key)
				m.mu.Unlock()
			}
			close(e.done)
			return e.val, e.err
		}
		m.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		// The leader's own context ended: try again with ours.
		if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
			if ctx.Err() == nil {
				continue
			}
		}
		return e.val, e.err
	}
}

// forget drops the entries whose key starts with prefix.
func (m *memo[T]) forget(prefix string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.entries {
		if strings.HasPrefix(k, prefix) {
			delete(m.entries, k)
		}
	}
}

// batcher gathers calls for a short window and serves them with one run:
// Status, Start and Destroy are called once per host, concurrently, and
// EC2 takes up to 1,000 instance ids per call. Items are keyed by id.
type batcher[I, R any] struct {
	window time.Duration
	max    int
	run    func(ctx context.Context, items []I) (map[string]R, error)

	mu   sync.Mutex
	open *batch[I, R]
}

type batch[I, R any] struct {
	items []I
	full  chan struct{}
	done  chan struct{}
	res   map[string]R
	err   error
}

// do adds item to the open batch (starting one if needed) and waits for its
// result. The run is detached from ctx: leaving early does not cancel the
// other callers' work.
func (b *batcher[I, R]) do(ctx context.Context, id string, item I) (R, bool, error) {
	b.mu.Lock()
	bt := b.open
	if bt == nil {
		bt = &batch[I, R]{full: make(chan struct{}), done: make(chan struct{})}
		b.open = bt
		go b.flush(context.WithoutCancel(ctx), bt)
	}
	bt.items = append(bt.items, item)
	if len(bt.items) >= b.max {
		b.open = nil
		close(bt.full)
	}
	b.mu.Unlock()

	select {
	case <-bt.done:
	case <-ctx.Done():
		var zero R
		return zero, false, ctx.Err()
	}
	r, ok := bt.res[id]
	return r, ok, bt.err
}

func (b *batcher[I, R]) flush(ctx context.Context, bt *batch[I, R]) {
	timer := time.NewTimer(b.window)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-bt.full:
	}
	b.mu.Lock()
	if b.open == bt {
		b.open = nil
	}
	items := bt.items
	b.mu.Unlock()
	bt.res, bt.err = b.run(ctx, items)
	close(bt.done)
}
