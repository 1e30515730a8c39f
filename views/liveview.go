package views

import (
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"diffuser/engine"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// liveView is the terminal view of an apply: a total line, then one line
// per host with a spinner, the step it is running, a bar of its finished
// share, done/total and elapsed time. Failures and warnings scroll above
// the bars as they happen, failures in red. mpb draws and redraws; the
// view only keeps the state its decorators read.
//
// Lock order: events arrive serialized by progress.mu; mu guards what the
// decorators (called on mpb's goroutine) read.
type liveView struct {
	p       *mpb.Progress
	opt     liveOptions
	start   time.Time
	totals  map[string]int
	ranks   map[string]int // line order of hosts
	nameW   int
	maxRows int

	mu      sync.Mutex
	hosts   map[string]*hostRow
	rows    int // host bars currently shown
	hidden  int // hosts with work under way and no bar (more hosts than rows)
	all     int
	done    int
	failed  int
	skipped int
	total   *mpb.Bar
}

type liveOptions struct {
	color         bool
	width, height int // of the terminal; 0 when unknown
	refresh       time.Duration
}

// hostRow is one host's line.
type hostRow struct {
	host    string // as events name it ("" for cluster-wide work)
	name    string
	bar     *mpb.Bar // nil while the host has no line
	adding  bool     // a line is being added
	total   int
	settled int                  // finished, failed or skipped
	running map[string]time.Time // step instance address -> start
	current string               // what the line says it runs
	failed  bool
	skipped int
	first   time.Time // first start
	last    time.Time // last finish
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newLiveView(w io.Writer, totals, ranks map[string]int, opt liveOptions) *liveView {
	if opt.refresh <= 0 {
		opt.refresh = 120 * time.Millisecond
	}
	l := &liveView{opt: opt, start: time.Now(), totals: totals, ranks: ranks, hosts: map[string]*hostRow{}}
	for h, n := range totals {
		l.all += n
		l.nameW = max(l.nameW, len(displayHost(h)))
	}
	l.maxRows = 40
	if opt.height > 0 {
		l.maxRows = max(opt.height-3, 3)
	}
	width := opt.width
	if width <= 0 {
		width = 100
	}
	l.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(width), mpb.WithRefreshRate(opt.refresh), mpb.WithAutoRefresh())
	l.total = l.p.New(int64(max(l.all, 1)), barStyle(), mpb.BarWidth(20), mpb.BarPriority(math.MinInt32),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return l.totalLabel() }, decor.WC{W: l.nameW + 24, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return l.totalCounts() })))
	return l
}

func barStyle() mpb.BarStyleComposer {
	return mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding("-").Rbound("]")
}

func displayHost(h string) string {
	if h == "" {
		return "cluster"
	}
	return h
}

func (l *liveView) paint(code, s string) string {
	if !l.opt.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (l *liveView) event(e engine.Event) {
	l.mu.Lock()
	r := l.row(e.Host)
	var above string
	settle := false
	switch e.Type {
	case engine.EvStart:
		if r.first.IsZero() {
			r.first = e.Time
		}
		r.running[e.Addr] = e.Time
		r.current = eventWhat(e)
	case engine.EvDone:
		delete(r.running, e.Addr)
		l.done++
		settle = true
	case engine.EvFail:
		delete(r.running, e.Addr)
		l.failed++
		r.failed = true
		r.current = eventWhat(e) + " failed"
		settle = true
		exit := ""
		if e.Exit > 0 {
			exit = fmt.Sprintf(", exit status %d", e.Exit)
		}
		above = l.paint("31", fmt.Sprintf("✗ %s %s failed after %s%s: %s", displayHost(e.Host), eventWhat(e),
			e.Duration.Round(100*time.Millisecond), exit, firstLineOf(e.Message)))
	case engine.EvSkip:
		l.skipped++
		r.skipped++
		settle = true
	case engine.EvWarn:
		above = l.paint("33", fmt.Sprintf("! %s %s: %s", displayHost(e.Host), eventWhat(e), firstLineOf(e.Message)))
	}
	if settle {
		r.settled++
		r.last = e.Time
		if len(r.running) > 0 {
			r.current = l.runningStep(r)
		}
	}
	grow := l.wantsLine(r)
	bar, total := r.bar, l.total
	l.mu.Unlock()
	if grow {
		bar = l.addLine(r, settle)
	}
	if above != "" {
		fmt.Fprintln(l.p, above)
	}
	if settle {
		total.Increment()
		if bar != nil {
			bar.Increment()
		}
	}
}

// row returns the host's row, creating it on first sight.
func (l *liveView) row(host string) *hostRow {
	r := l.hosts[host]
	if r == nil {
		r = &hostRow{host: host, name: displayHost(host), total: max(l.totals[host], 1), running: map[string]time.Time{}}
		l.hosts[host] = r
	}
	return r
}

// runningStep is the step of the instance running longest on r.
func (l *liveView) runningStep(r *hostRow) string {
	var addr string
	var at time.Time
	for a, t := range r.running {
		if addr == "" || t.Before(at) || t.Equal(at) && a < addr {
			addr, at = a, t
		}
	}
	if step, _, ok := engine.ParseInstanceAddr(addr); ok {
		return step
	}
	return "launch"
}

// wantsLine reports whether r should get a line now: it has none and
// there is room. With more hosts than rows, a host's line goes away when
// its work is done, and the total line counts the hosts not shown.
// Called with mu held; the caller adds the line after unlocking (mpb calls
// the decorators, which take mu, while it adds a bar).
func (l *liveView) wantsLine(r *hostRow) bool {
	if r.bar != nil || r.adding {
		return false
	}
	if l.rows >= l.maxRows {
		l.hidden = 0
		for _, h := range l.hosts {
			if h.bar == nil && len(h.running) > 0 {
				l.hidden++
			}
		}
		return false
	}
	l.rows++
	r.adding = true
	return true
}

// addLine creates r's bar. Called without mu.
func (l *liveView) addLine(r *hostRow, settling bool) *mpb.Bar {
	compact := len(l.totals) > l.maxRows
	rank, ok := l.ranks[r.host]
	if !ok {
		rank = len(l.ranks) + 1
	}
	bar := l.p.New(int64(r.total), barStyle(), mpb.BarWidth(20), mpb.BarPriority(rank),
		mpb.BarOptional(mpb.BarRemoveOnComplete(), compact),
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string { return r.name }, decor.WC{W: l.nameW + 1, C: decor.DindentRight}),
			decor.Any(func(decor.Statistics) string { return l.status(r) }, decor.WC{W: 24, C: decor.DindentRight}),
		),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return l.counts(r) })))
	l.mu.Lock()
	r.bar, r.adding = bar, false
	settled := r.settled
	l.mu.Unlock()
	// Work settled before the line existed; the caller counts the event
	// being handled.
	if settling {
		settled--
	}
	if settled > 0 {
		bar.SetCurrent(int64(settled))
	}
	if compact {
		go func() {
			bar.Wait()
			l.mu.Lock()
			l.rows--
			r.bar = nil
			l.mu.Unlock()
		}()
	}
	return bar
}

// status is a row's spinner (or mark) and the step it runs.
func (l *liveView) status(r *hostRow) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case len(r.running) > 0:
		frame := spinnerFrames[int(time.Since(l.start)/(100*time.Millisecond))%len(spinnerFrames)]
		s := frame + " " + r.current
		if n := len(r.running); n > 1 {
			s += fmt.Sprintf(" +%d", n-1)
		}
		if r.failed {
			return l.paint("31", s)
		}
		return s
	case r.failed:
		return l.paint("31", "✗ "+r.current)
	case r.settled >= r.total && r.skipped > 0:
		return l.paint("33", fmt.Sprintf("– %d skipped", r.skipped))
	case r.settled >= r.total:
		return l.paint("32", "✓ done")
	}
	return "· waiting"
}

// counts is a row's done/total and elapsed time.
func (l *liveView) counts(r *hostRow) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := time.Now()
	if len(r.running) == 0 && !r.last.IsZero() {
		end = r.last
	}
	el := time.Duration(0)
	if !r.first.IsZero() {
		el = end.Sub(r.first)
	}
	return fmt.Sprintf(" %d/%d  %s", r.settled, r.total, fmtElapsed(el))
}

func (l *liveView) totalLabel() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	running := 0
	for _, r := range l.hosts {
		running += len(r.running)
	}
	s := fmt.Sprintf("total: %d running", running)
	if l.hidden > 0 {
		s += fmt.Sprintf(" (%d hosts not shown)", l.hidden)
	}
	return s
}

func (l *liveView) totalCounts() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf(" %d/%d: %d done", l.done+l.failed+l.skipped, l.all, l.done)
	if l.failed > 0 {
		s += ", " + l.paint("31", fmt.Sprintf("%d failed", l.failed))
	}
	if l.skipped > 0 {
		s += fmt.Sprintf(", %d skipped", l.skipped)
	}
	return s + "  " + fmtElapsed(time.Since(l.start))
}

// Write prints b above the lines (whole lines; mpb adds them on its next frame).
func (l *liveView) Write(b []byte) (int, error) {
	return l.p.Write(b)
}

// close completes every line (as it stands) and waits for the last frame.
func (l *liveView) close() {
	l.mu.Lock()
	var bars []*mpb.Bar
	names := make([]string, 0, len(l.hosts))
	for h := range l.hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if b := l.hosts[h].bar; b != nil {
			bars = append(bars, b)
		}
	}
	bars = append(bars, l.total)
	l.mu.Unlock()
	for _, b := range bars {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	l.p.Wait()
}

// fmtElapsed prints 4.2s, 1m05s, 1h02m.
func fmtElapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
