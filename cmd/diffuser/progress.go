package main

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
	progressAuto  = "auto"  // tty on a terminal, else plain
	progressTTY   = "tty"   // live view: one line per host
	progressPlain = "plain" // timestamped lines
	progressJSON  = "json"  // JSON lines
	progressQuiet = "quiet" // nothing until the summary
)

var progressModes = []string{progressAuto, progressTTY, progressPlain, progressJSON, progressQuiet}

// progressMode resolves --progress (and -json, which implies json) to the
// renderer to use: auto is tty when stdout is a terminal that takes color,
// plain otherwise (CI, pipes, -no-color, TERM=dumb).
func (a *app) progressMode() (string, error) {
	mode := a.flags.progress
	if a.flags.json {
		mode = progressJSON
	}
	switch mode {
	case "", progressAuto:
		if a.stdoutIsTerminal() && !a.flags.noColor && os.Getenv("TERM") != "dumb" {
			return progressTTY, nil
		}
		return progressPlain, nil
	case progressTTY, progressPlain, progressJSON, progressQuiet:
		return mode, nil
	}
	return "", fmt.Errorf("unknown --progress %q: use one of %s", mode, strings.Join(progressModes, ", "))
}

func (a *app) stdoutIsTerminal() bool {
	f, ok := a.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress renders engine events in one of the modes. Events arrive from
// many goroutines; mu serializes them, so renderers need no locking of
// their own for what event touches.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	mode string
	enc  *json.Encoder
	live *liveView
	logs *logRouter // set while the live view takes provider log lines
}

// newProgress starts the renderer for an apply or destroy of plan.
func (a *app) newProgress(plan *engine.Plan) (*progress, error) {
	mode, err := a.progressMode()
	if err != nil {
		return nil, err
	}
	p := &progress{w: a.stdout, mode: mode}
	switch mode {
	case progressJSON:
		p.enc = json.NewEncoder(a.stdout)
	case progressTTY:
		width, height := 0, 0
		if f, ok := a.stdout.(*os.File); ok {
			width, height, _ = term.GetSize(int(f.Fd()))
		}
		p.live = newLiveView(a.stdout, hostTotals(plan), hostRanks(plan), liveOptions{color: !a.flags.noColor, width: width, height: height})
		// Provider messages printed straight to the terminal would tear
		// the view: print them above it while it runs.
		p.logs = a.providerLog()
		p.logs.setAbove(p.live)
	}
	return p, nil
}

// logRouter is where provider log lines go: stderr, or above the live
// view while one runs. Safe for concurrent use.
type logRouter struct {
	mu    sync.Mutex
	w     io.Writer
	above io.Writer
}

func (r *logRouter) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.above != nil {
		return r.above.Write(b)
	}
	return r.w.Write(b)
}

func (r *logRouter) setAbove(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.above = w
}

// providerLog is the writer providers log to.
func (a *app) providerLog() *logRouter {
	if a.logs == nil {
		a.logs = &logRouter{w: a.stderr}
	}
	return a.logs
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

func (p *progress) event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case progressJSON:
		_ = p.enc.Encode(jsonEventOf(e))
	case progressTTY:
		p.live.event(e)
	case progressPlain:
		if line := plainLine(e); line != "" {
			fmt.Fprintln(p.w, line)
		}
	}
}

// close stops the live view (leaving its last frame on screen).
func (p *progress) close() {
	if p.logs != nil {
		p.logs.setAbove(nil)
	}
	if p.live != nil {
		p.live.close()
	}
}

// plainLine is one progress line: `12:03:04 server[1] glusterd: done (3.2s) [5/12]`.
func plainLine(e engine.Event) string {
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
	Address string `json:"address"`
	Host    string `json:"host,omitempty"`
	Exit    *int   `json:"exit_status,omitempty"`
	Error   string `json:"error"`
	Tail    string `json:"output_tail,omitempty"`
	Log     string `json:"log,omitempty"`
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
	return line
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summarizeJSON writes the summary line of a JSON-lines apply or destroy.
// Human-readable failure details still go to stderr.
func (a *app) summarizeJSON(operation string, res *engine.Result, pl *planned, timeline string) {
	var sum time.Duration
	for _, s := range res.Spans {
		sum += s.End.Sub(s.Start)
	}
	wall := res.End.Sub(res.Start)
	js := jsonSummary{Type: "summary", Operation: operation, WallS: wall.Seconds(), StepS: sum.Seconds(),
		Parallelism: float64(sum) / float64(max(wall, 1)), Done: res.Ran, Failed: len(res.Failures), Skipped: res.Skipped,
		Timeline: timeline}
	for _, f := range res.Failures {
		jf := jsonFailure{Address: f.Addr, Host: f.Host, Error: f.Err.Error(), Tail: f.Tail, Log: f.Log}
		if f.Exit >= 0 {
			exit := f.Exit
			jf.Exit = &exit
		}
		js.Failures = append(js.Failures, jf)
	}
	if len(res.Failures) == 0 && len(pl.ws.st.Outputs) > 0 {
		js.Outputs = map[string]string{}
		for k, o := range pl.ws.st.Outputs {
			js.Outputs[k] = o.Value
			if o.Sensitive {
				js.Outputs[k] = "(sensitive)"
			}
		}
	}
	_ = json.NewEncoder(a.stdout).Encode(js)
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "Warning: %s\n", w)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(a.stderr, "%s failed: %s\n", f.Addr, firstLineOf(f.Err.Error()))
	}
}
