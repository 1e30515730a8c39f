package views

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"diffuser/engine"

	"golang.org/x/term"
)

// Progress modes (--progress), docker compose's convention.
const (
	ProgressAuto  = "auto"  // tty on a terminal, else plain
	ProgressTTY   = "tty"   // live view: one line per host
	ProgressPlain = "plain" // timestamped lines
	ProgressJSON  = "json"  // JSON lines
	ProgressQuiet = "quiet" // nothing until the summary
)

// ProgressModes lists the --progress values.
var ProgressModes = []string{ProgressAuto, ProgressTTY, ProgressPlain, ProgressJSON, ProgressQuiet}

// Terminal is how a view writes to the person: where output goes and
// whether it may use color (a terminal that takes it: not -no-color,
// NO_COLOR or TERM=dumb).
type Terminal struct {
	Out   io.Writer
	Color bool
}

// IsTerminal says whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ProgressMode resolves --progress to the renderer to use: auto is tty
// when the output is a terminal that takes color, plain otherwise (CI,
// pipes, -no-color, NO_COLOR, TERM=dumb).
func ProgressMode(mode string, t Terminal) (string, error) {
	switch mode {
	case "", ProgressAuto:
		if IsTerminal(t.Out) && t.Color {
			return ProgressTTY, nil
		}
		return ProgressPlain, nil
	case ProgressTTY, ProgressPlain, ProgressJSON, ProgressQuiet:
		return mode, nil
	}
	return "", fmt.Errorf("unknown --progress %q: use one of %s", mode, strings.Join(ProgressModes, ", "))
}

// Progress renders engine events in one of the modes. Events arrive from
// many goroutines; mu serializes them, so renderers need no locking of
// their own for what Event touches.
type Progress struct {
	mu   sync.Mutex
	w    io.Writer
	mode string
	enc  *json.Encoder
	live *liveView
	logs *LogRouter // set while the live view takes provider log lines
}

// NewProgress starts the renderer (a mode from ProgressMode) for an apply
// or destroy of plan. In tty mode, provider log lines sent to logs are
// printed above the live view while it runs.
func NewProgress(t Terminal, mode string, plan *engine.Plan, logs *LogRouter) *Progress {
	p := &Progress{w: t.Out, mode: mode}
	switch mode {
	case ProgressJSON:
		p.enc = json.NewEncoder(t.Out)
	case ProgressTTY:
		width, height := 0, 0
		if f, ok := t.Out.(*os.File); ok {
			width, height, _ = term.GetSize(int(f.Fd()))
		}
		p.live = newLiveView(t.Out, hostTotals(plan), hostRanks(plan), liveOptions{color: t.Color, width: width, height: height})
		if logs != nil {
			p.logs = logs
			p.logs.setAbove(p.live)
		}
	}
	return p
}

// LogRouter is where provider log lines go: its writer, or above the live
// view while one runs. Safe for concurrent use.
type LogRouter struct {
	mu    sync.Mutex
	w     io.Writer
	above io.Writer
}

// NewLogRouter routes to w until a live view takes the lines.
func NewLogRouter(w io.Writer) *LogRouter { return &LogRouter{w: w} }

func (r *LogRouter) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.above != nil {
		return r.above.Write(b)
	}
	return r.w.Write(b)
}

func (r *LogRouter) setAbove(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.above = w
}

// hostTotals counts the planned changes per host (launches included), the
// denominators of the live view's per-host counts.
func hostTotals(plan *engine.Plan) map[string]int {
	out := map[string]int{}
	if plan == nil {
		return out
	}
	for _, c := range plan.Changes {
		out[c.Host]++
	}
	for _, c := range plan.Destroys {
		out[c.Host]++
	}
	return out
}

// hostRanks orders hosts as the recipe declares them (group order, then
// index), for the live view's lines; hosts only state knows come last.
func hostRanks(plan *engine.Plan) map[string]int {
	out := map[string]int{}
	if plan == nil || plan.Loaded == nil || plan.Loaded.Graph == nil {
		return out
	}
	for i, h := range plan.Loaded.Graph.Hosts {
		out[h.Name] = i
	}
	return out
}

// Event renders one engine event.
func (p *Progress) Event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case ProgressJSON:
		_ = p.enc.Encode(jsonEventOf(e))
	case ProgressTTY:
		p.live.event(e)
	case ProgressPlain:
		if line := plainLine(e); line != "" {
			fmt.Fprintln(p.w, line)
		}
	}
}

// Close stops the live view (leaving its last frame on screen).
func (p *Progress) Close() {
	if p.logs != nil {
		p.logs.setAbove(nil)
	}
	if p.live != nil {
		p.live.close()
	}
}

// plainLine is one progress line: `12:03:04 server[1] glusterd: done (3.2s) [5/12]`,
// control characters of its message (a host's output) escaped.
func plainLine(e engine.Event) string { return Printable(plainText(e)) }

func plainText(e engine.Event) string {
	who := e.Host
	if who == "" {
		who = "cluster"
	}
	what := eventWhat(e)
	ts := e.Time.Format("15:04:05")
	d := e.Duration.Round(100 * time.Millisecond).Seconds()
	switch e.Type {
	case engine.EvStart:
		return fmt.Sprintf("%s %s %s: started", ts, who, what)
	case engine.EvDone:
		msg := "done"
		if e.Message != "" {
			msg = e.Message
		}
		return fmt.Sprintf("%s %s %s: %s (%.1fs) [%d/%d]", ts, who, what, msg, d, e.Done, e.Total)
	case engine.EvFail:
		status := fmt.Sprintf("%.1fs", d)
		if e.Exit > 0 {
			status += fmt.Sprintf(", exit status %d", e.Exit)
		}
		return fmt.Sprintf("%s %s %s: FAILED (%s) [%d/%d]: %s", ts, who, what, status, e.Done, e.Total, firstLineOf(e.Message))
	case engine.EvSkip:
		return fmt.Sprintf("%s %s %s: skipped (%s)", ts, who, what, e.Message)
	case engine.EvWarn:
		return fmt.Sprintf("%s %s %s: warning: %s", ts, who, what, firstLineOf(e.Message))
	}
	return ""
}

// eventWhat names what an event is about: the step, "launch", with
// " (destroy)" for undo work.
func eventWhat(e engine.Event) string {
	what := e.Step
	if e.Kind == "launch" || what == "" {
		what = "launch"
	}
	if e.Action == "destroy" {
		what += " (destroy)"
	}
	return what
}

// jsonEvent is one line of `--progress=json`: a stable, documented shape
// rather than engine.Event's Go field names.
type jsonEvent struct {
	Time     string   `json:"time"` // RFC 3339 with fractional seconds
	Type     string   `json:"type"` // step_started, step_finished, step_failed, step_skipped, step_warning
	Address  string   `json:"address"`
	Step     string   `json:"step,omitempty"`
	Host     string   `json:"host,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Action   string   `json:"action,omitempty"`
	Duration *float64 `json:"duration_s,omitempty"`  // on finished and failed
	Exit     *int     `json:"exit_status,omitempty"` // 0 when finished; a failure's status when it ran to one
	Message  string   `json:"message,omitempty"`
	Done     int      `json:"done"`
	Total    int      `json:"total"`
}

var jsonEventTypes = map[engine.EventType]string{
	engine.EvStart: "step_started", engine.EvDone: "step_finished", engine.EvFail: "step_failed",
	engine.EvSkip: "step_skipped", engine.EvWarn: "step_warning",
}

func jsonEventOf(e engine.Event) jsonEvent {
	j := jsonEvent{Time: e.Time.Format(time.RFC3339Nano), Type: jsonEventTypes[e.Type], Address: e.Addr, Step: e.Step,
		Host: e.Host, Kind: e.Kind, Action: e.Action, Message: e.Message, Done: e.Done, Total: e.Total}
	if j.Type == "" {
		j.Type = string(e.Type)
	}
	switch e.Type {
	case engine.EvDone, engine.EvFail:
		d := e.Duration.Seconds()
		j.Duration = &d
		exit := e.Exit
		if e.Type == engine.EvFail && exit < 0 {
			break
		}
		j.Exit = &exit
	}
	return j
}

// jsonSummary is the last line of `--progress=json`.
type jsonSummary struct {
	Type        string            `json:"type"` // "summary"
	Operation   string            `json:"operation"`
	Run         string            `json:"run,omitempty"`
	WallS       float64           `json:"wall_s"`
	StepS       float64           `json:"step_s"`
	Parallelism float64           `json:"parallelism"`
	Done        int               `json:"done"`
	Failed      int               `json:"failed"`
	Skipped     int               `json:"skipped"`
	Failures    []jsonFailure     `json:"failures,omitempty"`
	Outputs     map[string]string `json:"outputs,omitempty"`
	Timeline    string            `json:"timeline,omitempty"`
}

type jsonFailure struct {
	Address  string `json:"address"`
	Declared string `json:"declared,omitempty"`
	Host     string `json:"host,omitempty"`
	Exit     *int   `json:"exit_status,omitempty"`
	Error    string `json:"error"`
	Tail     string `json:"output_tail,omitempty"`
	Log      string `json:"log,omitempty"`
}

// firstLineOf is the first line of a message; when that line only
// introduces what follows ("... exited with status 2:"), the last line
// of the rest is added, usually the error the command printed.
func firstLineOf(s string) string {
	line, rest, _ := strings.Cut(s, "\n")
	if strings.HasSuffix(line, ":") {
		if lines := strings.Split(strings.TrimSpace(rest), "\n"); lines[len(lines)-1] != "" {
			line += " " + strings.TrimSpace(lines[len(lines)-1])
		}
	}
	return Printable(line)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
