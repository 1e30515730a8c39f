package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/engine"
)

// progressEvents is an apply as the engine reports it: launches, steps
// running at once on one host, a retry warning, a failure with an exit
// status, a skipped dependent, an instance with nothing to do, and undo
// work of a destroy.
func progressEvents() []engine.Event {
	t0 := time.Date(2026, 11, 21, 12, 3, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	step := func(ty engine.EventType, ms int, step, host, kind string, dur, done int) engine.Event {
		addr := engine.InstanceAddr(step, host)
		if kind == "launch" {
			addr = engine.LaunchAddr(host)
			step = ""
		}
		return engine.Event{Time: at(ms), Type: ty, Addr: addr, Step: step, Host: host, Kind: kind, Action: "create",
			Duration: d(dur), Done: done, Total: 9}
	}
	ev := []engine.Event{
		step(engine.EvStart, 0, "", "server[0]", "launch", 0, 0),
		step(engine.EvStart, 5, "", "server[1]", "launch", 0, 0),
		step(engine.EvDone, 3100, "", "server[0]", "launch", 3100, 1),
		step(engine.EvStart, 3110, "packages", "server[0]", "package", 0, 1),
		step(engine.EvStart, 3120, "brick", "server[0]", "format", 0, 1),
		step(engine.EvDone, 3300, "", "server[1]", "launch", 3295, 2),
		step(engine.EvDone, 4000, "brick", "server[0]", "format", 880, 3),
		step(engine.EvDone, 9800, "packages", "server[0]", "package", 6690, 4),
		step(engine.EvStart, 9810, "glusterd", "server[0]", "service", 0, 4),
	}
	warn := step(engine.EvWarn, 10500, "glusterd", "server[0]", "service", 0, 4)
	warn.Message = "attempt 1 failed, retrying: systemctl start glusterd exited with status 1"
	ev = append(ev, warn)
	unchanged := step(engine.EvDone, 10600, "glusterd", "server[0]", "service", 790, 5)
	unchanged.Message = "unchanged"
	fail := step(engine.EvFail, 12000, "volume", "server[1]", "run", 1200, 6)
	fail.Exit = 2
	fail.Message = "command exited with status 2:\nvolume create: gv0: failed: brick is already part of a volume"
	failNoExit := step(engine.EvFail, 12100, "mount", "server[0]", "mount", 100, 7)
	failNoExit.Exit = -1
	failNoExit.Message = "connecting to server[0]: host unreachable"
	skip := step(engine.EvSkip, 12200, "mount", "client[0]", "mount", 0, 7)
	skip.Message = "a prerequisite failed"
	undo := engine.Event{Time: at(13000), Type: engine.EvDone, Addr: engine.InstanceAddr("old", "server[1]"), Step: "old",
		Host: "server[1]", Kind: "run", Action: "destroy", Duration: d(420), Done: 8, Total: 9}
	return append(ev, unchanged, fail, failNoExit, skip, undo)
}

func renderProgress(t *testing.T, mode string, events []engine.Event) string {
	t.Helper()
	var out bytes.Buffer
	p := NewProgress(Terminal{Out: &out}, mode, nil, nil)
	for _, e := range events {
		p.Event(e)
	}
	p.Close()
	return out.String()
}

// TestProgressGolden compares plain lines and JSON events with golden
// files (go test ./views -run TestProgressGolden -update).
func TestProgressGolden(t *testing.T) {
	dir := filepath.Join("testdata", "progress", "apply")
	golden(t, filepath.Join(dir, "plain.golden"), renderProgress(t, ProgressPlain, progressEvents()))
	js := renderProgress(t, ProgressJSON, progressEvents())
	golden(t, filepath.Join(dir, "json.golden"), js)
	for i, line := range strings.Split(strings.TrimSpace(js), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		for _, k := range []string{"time", "type", "address", "done", "total"} {
			if _, ok := e[k]; !ok {
				t.Errorf("line %d has no %q: %s", i+1, k, line)
			}
		}
		if ty := e["type"]; ty == "step_finished" || ty == "step_failed" {
			if _, ok := e["duration_s"]; !ok {
				t.Errorf("line %d: %s without duration_s", i+1, ty)
			}
		}
	}
	if got := renderProgress(t, ProgressQuiet, progressEvents()); got != "" {
		t.Errorf("quiet printed:\n%s", got)
	}
}

// syncBuffer is a bytes.Buffer safe to read while mpb writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// lastFrame is what a terminal shows last: the text after the final
// cursor-up-and-erase, without color codes.
func lastFrame(out string) string {
	if i := strings.LastIndex(out, "\x1b[J"); i >= 0 {
		out = out[i:]
	}
	return ansiRE.ReplaceAllString(out, "")
}

func TestLiveView(t *testing.T) {
	events := progressEvents()
	totals := map[string]int{}
	for _, e := range events {
		if e.Type == engine.EvDone || e.Type == engine.EvFail || e.Type == engine.EvSkip {
			totals[e.Host]++
		}
	}
	var out syncBuffer
	l := newLiveView(&out, totals, map[string]int{"server[0]": 0, "server[1]": 1, "client[0]": 2},
		liveOptions{color: true, width: 120, refresh: 5 * time.Millisecond})
	for i, e := range events {
		l.event(e)
		if i == 4 {
			time.Sleep(30 * time.Millisecond) // a frame with two steps running on server[0]
			if f := lastFrame(out.String()); !strings.Contains(f, "server[0]") {
				t.Errorf("no server[0] line while it runs:\n%s", f)
			}
		}
	}
	l.close()
	raw := out.String()
	frame := lastFrame(raw)
	lines := strings.Split(strings.TrimRight(frame, "\r\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("last frame has %d lines, want the total and 3 hosts:\n%s", len(lines), frame)
	}
	for i, want := range []string{"total:", "server[0]", "server[1]", "client[0]"} {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), want) {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], want)
		}
	}
	for _, want := range []string{"9/9", "5/5", "3/3", "1/1", "2 failed", "1 skipped", "mount failed", "volume failed", "– 1 skipped"} {
		if !strings.Contains(frame, want) {
			t.Errorf("last frame lacks %q:\n%s", want, frame)
		}
	}
	if !strings.Contains(raw, "\x1b[31m✗ server[1] volume failed after 1.2s, exit status 2: command exited with status 2: volume create: gv0: failed: brick is already part of a volume\x1b[0m") {
		t.Errorf("the failure is not printed in red above the bars:\n%q", raw)
	}
	if !strings.Contains(ansiRE.ReplaceAllString(raw, ""), "! server[0] glusterd: attempt 1 failed, retrying") {
		t.Errorf("the warning is not printed above the bars")
	}

	// Without color: no color codes, same content.
	out.Reset()
	l = newLiveView(&out, totals, nil, liveOptions{width: 120, refresh: 5 * time.Millisecond})
	for _, e := range events {
		l.event(e)
	}
	l.close()
	if strings.Contains(out.String(), "\x1b[3") {
		t.Errorf("color codes with color off:\n%q", out.String())
	}
}

// TestLiveViewManyHosts: with more hosts than rows, hosts that are done
// leave the screen and the total line counts those not shown.
func TestLiveViewManyHosts(t *testing.T) {
	totals := map[string]int{}
	var hosts []string
	for i := range 30 {
		h := "node[" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "]"
		hosts = append(hosts, h)
		totals[h] = 1
	}
	var out syncBuffer
	l := newLiveView(&out, totals, nil, liveOptions{width: 100, height: 10, refresh: 5 * time.Millisecond})
	now := time.Now()
	for _, h := range hosts {
		l.event(engine.Event{Time: now, Type: engine.EvStart, Addr: engine.LaunchAddr(h), Host: h, Kind: "launch"})
	}
	time.Sleep(30 * time.Millisecond)
	if f := lastFrame(out.String()); !strings.Contains(f, "hosts not shown") || strings.Count(f, "node[") > 7 {
		t.Errorf("30 running hosts on a 10-line terminal:\n%s", f)
	}
	for _, h := range hosts {
		l.event(engine.Event{Time: now, Type: engine.EvDone, Addr: engine.LaunchAddr(h), Host: h, Kind: "launch"})
	}
	l.close()
	if f := lastFrame(out.String()); !strings.Contains(f, "30/30") {
		t.Errorf("final frame:\n%s", f)
	}
}

func TestProgressMode(t *testing.T) {
	for _, c := range []struct {
		progress string
		color    bool
		want     string
		err      bool
	}{
		{"auto", true, ProgressPlain, false}, // a buffer is not a terminal
		{"", true, ProgressPlain, false},
		{"tty", false, ProgressTTY, false},
		{"json", true, ProgressJSON, false},
		{"quiet", false, ProgressQuiet, false},
		{"fancy", false, "", true},
	} {
		got, err := ProgressMode(c.progress, Terminal{Out: &bytes.Buffer{}, Color: c.color})
		if (err != nil) != c.err || got != c.want {
			t.Errorf("--progress=%q color=%v: %q, %v; want %q", c.progress, c.color, got, err, c.want)
		}
	}
}

// TestProviderLogAboveLiveView: provider messages go above the live view
// while it runs (not straight to the terminal, tearing it), to stderr
// otherwise.
func TestProviderLogAboveLiveView(t *testing.T) {
	var out syncBuffer
	var errs bytes.Buffer
	logs := NewLogRouter(&errs)
	fmt.Fprintln(logs, "before")
	p := NewProgress(Terminal{Out: &out}, ProgressTTY, nil, logs)
	fmt.Fprintln(logs, "docker: created network diffuser-x")
	p.Event(engine.Event{Time: time.Now(), Type: engine.EvStart, Addr: engine.LaunchAddr("h[0]"), Host: "h[0]", Kind: "launch"})
	p.Close()
	fmt.Fprintln(logs, "after")
	if !strings.Contains(out.String(), "docker: created network diffuser-x") {
		t.Errorf("the provider line is not above the view:\n%q", out.String())
	}
	if errs.String() != "before\nafter\n" {
		t.Errorf("stderr: %q", errs.String())
	}
}
