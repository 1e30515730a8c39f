package probe

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/engine"
	"diffuser/runner"
	"diffuser/state"
)

// eachLive runs f on every item live keeps, all at once, and waits: a
// probe's phase, run on the clients that have not failed yet.
func eachLive[T any](items []T, live func(T) bool, f func(T)) {
	var wg sync.WaitGroup
	for _, it := range items {
		if !live(it) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(it)
		}()
	}
	wg.Wait()
}

// connectClient connects to the host a probe client runs on. A failure
// comes back as the client's error text: a host missing from the state
// means the recipe was not applied.
func connectClient(ctx context.Context, conn engine.Connector, st *state.State, host string) (runner.Runner, string) {
	h := st.Hosts[host]
	if h == nil {
		return nil, "host not in state: apply first"
	}
	r, err := engine.ConnectHost(ctx, conn, h, nil)
	if err != nil {
		return nil, err.Error()
	}
	return r, ""
}

// timedRun runs one client's script of a timed phase. It returns the
// fields of the script's marker line and the time the script measured
// itself ("ns"); a failure comes back as the client's error text, naming
// the phase.
func timedRun(ctx context.Context, r runner.Runner, phase, script string, timeout time.Duration) (map[string]string, time.Duration, string) {
	out, err := execWithin(ctx, r, script, timeout)
	if err != nil {
		return nil, 0, phase + ": " + err.Error()
	}
	f := markerFields(out)
	ns, perr := strconv.ParseInt(f["ns"], 10, 64)
	if perr != nil || ns <= 0 {
		return nil, 0, phase + ": no timing in the output: " + strings.TrimSpace(runner.LastLines(out, 2))
	}
	return f, time.Duration(ns), ""
}

// wallSpan adds up a phase across clients: what they moved and the wall
// time from the first client's start to the last one's end.
type wallSpan struct {
	mu          sync.Mutex
	first, last time.Time
	total       int64
}

func (s *wallSpan) add(start, end time.Time, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() || start.Before(s.first) {
		s.first = start
	}
	if end.After(s.last) {
		s.last = end
	}
	s.total += n
}

func (s *wallSpan) wall() time.Duration { return s.last.Sub(s.first) }
