package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"diffuser/engine"

	"golang.org/x/term"
)

// progress renders engine events: plain timestamped lines (non-terminals,
// -no-color, --progress=plain), JSON lines (-json or --progress=json), or
// nothing (quiet). Events arrive from many goroutines; a mutex serializes.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	mode string
	enc  *json.Encoder
	now  func() time.Time
	live *liveView
}

func (a *app) newProgress() *progress {
	mode := a.flags.progress
	if a.flags.json {
		mode = "json"
	}
	if mode == "" || mode == "auto" {
		mode = "plain"
		if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.flags.noColor {
			mode = "tty"
		}
	}
	p := &progress{w: a.stdout, mode: mode, now: time.Now}
	switch mode {
	case "json":
		p.enc = json.NewEncoder(a.stdout)
	case "tty":
		p.live = newLiveView(a.stdout)
	}
	return p
}

func (p *progress) event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "json":
		_ = p.enc.Encode(e)
	case "tty":
		p.live.event(e)
	case "plain":
		if line := plainLine(e); line != "" {
			fmt.Fprintln(p.w, line)
		}
	}
}

func (p *progress) close() {
	if p.live != nil {
		p.live.close()
	}
}

// plainLine is one progress line: `12:03:04 server[1] glusterd: done (3.2s)`.
func plainLine(e engine.Event) string {
	who := e.Host
	what := e.Step
	if e.Kind == "launch" {
		what = "launch"
	}
	if e.Action == "destroy" {
		what += " (destroy)"
	}
	ts := e.Time.Format("15:04:05")
	d := e.Duration.Round(100 * time.Millisecond).Seconds()
	switch e.Type {
	case engine.EvStart:
		return fmt.Sprintf("%s %s %s: started", ts, who, what)
	case engine.EvDone:
		if e.Message != "" {
			return fmt.Sprintf("%s %s %s: %s (%.1fs) [%d/%d]", ts, who, what, e.Message, d, e.Done, e.Total)
		}
		return fmt.Sprintf("%s %s %s: done (%.1fs) [%d/%d]", ts, who, what, d, e.Done, e.Total)
	case engine.EvFail:
		return fmt.Sprintf("%s %s %s: FAILED (%.1fs): %s", ts, who, what, d, firstLineOf(e.Message))
	case engine.EvSkip:
		return fmt.Sprintf("%s %s %s: skipped (%s)", ts, who, what, e.Message)
	case engine.EvWarn:
		return fmt.Sprintf("%s %s %s: warning: %s", ts, who, what, firstLineOf(e.Message))
	}
	return ""
}

func firstLineOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
