package views

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"diffuser/engine"
)

// The timeline page is self-contained: inline CSS, SVG and a few lines of
// script, nothing fetched from the network, so it opens from disk on a
// machine with no connectivity and can be attached to a ticket.

var timelineTmpl = template.Must(template.New("timeline").Funcs(template.FuncMap{
	"px":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"dur": fmtElapsed,
}).Parse(timelineSrc))

// Layout of the chart, in SVG user units.
const (
	tlLabelW = 170.0
	tlChartW = 1000.0
	tlRowH   = 22.0
	tlBarH   = 14.0
	tlAxisH  = 28.0
	tlLaneH  = 17.0 // extra height per lane of overlapping steps
)

type timelinePage struct {
	Title       string
	Operation   string
	Recipe      string
	Started     string
	Wall        time.Duration
	StepTime    time.Duration
	Parallelism string
	Ran         int
	Failed      int
	Skipped     int
	Spans       int
	Critical    []tlSpan
	CritTime    time.Duration
	Width       float64
	Height      float64
	LabelW      float64
	ChartW      float64
	Rows        []tlRow
	Ticks       []tlTick
	CritLine    string // SVG polyline points through the critical path
	Kinds       []tlKind
}

type tlRow struct {
	Host  string
	Y     float64 // top of the row
	H     float64
	TextY float64
	Odd   bool
	Bars  []tlBar
}

type tlBar struct {
	X, Y, W, H float64
	Class      string
	Color      string
	Critical   bool
	Title      string
	Addr       string
}

type tlTick struct {
	X     float64
	Label string
}

type tlKind struct {
	Name, Color string
}

type tlSpan struct {
	Addr     string
	Host     string
	Offset   time.Duration
	Duration time.Duration
	Status   string
}

var kindColors = map[string]string{
	"launch": "#8c8c8c", "run": "#4e79a7", "package": "#59a14f", "file": "#b07aa1", "format": "#edc948",
	"mount": "#76b7b2", "service": "#f28e2b", "wait": "#bab0ac",
}

func kindColor(k string) string {
	if c, ok := kindColors[k]; ok {
		return c
	}
	return "#9c755f"
}

// WriteTimeline writes the timeline page of an apply's result to path
// (0600, atomically) and returns path ("" when nothing ran).
func WriteTimeline(path, operation string, plan *engine.Plan, res *engine.Result) (string, error) {
	if res == nil || len(res.Spans) == 0 {
		return "", nil
	}
	var g *engine.Instances
	recipe := ""
	if plan != nil && plan.Loaded != nil {
		g = plan.Loaded.Graph
		if plan.Loaded.Recipe != nil {
			recipe = plan.Loaded.Recipe.Name
		}
	}
	var buf bytes.Buffer
	provider := map[string]string{} // host -> provider key, in a cluster over several
	if g != nil {
		for _, h := range g.Hosts {
			if p := plan.GroupProvider(h.Group); p != "" {
				provider[h.Name] = p
			}
		}
	}
	if err := renderTimeline(&buf, operation, recipe, g, res, provider); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return path, nil
}

// renderTimeline writes the page: a Gantt chart with one row per host (in
// the recipe's host order), the critical path outlined and joined by a
// line, and a summary.
func renderTimeline(buf *bytes.Buffer, operation, recipe string, g *engine.Instances, res *engine.Result, provider map[string]string) error {
	spans := res.Spans
	start, end := res.Start, res.End
	for _, s := range spans {
		if s.Start.Before(start) {
			start = s.Start
		}
		if s.End.After(end) {
			end = s.End
		}
	}
	wall := end.Sub(start)
	if wall <= 0 {
		wall = time.Millisecond
	}
	var sum time.Duration
	failed := 0
	for _, s := range spans {
		sum += s.End.Sub(s.Start)
		if s.Status == "failed" || strings.HasSuffix(s.Status, " failed") {
			failed++
		}
	}
	crit := engine.CriticalPath(g, spans)
	onCrit := map[int]bool{}
	for _, i := range crit {
		onCrit[i] = true
	}

	// Rows: the recipe's hosts in order, then any others spans name.
	var hosts []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	used := map[string]bool{}
	for _, s := range spans {
		used[s.Host] = true
	}
	if g != nil {
		for _, h := range g.Hosts {
			if used[h.Name] {
				add(h.Name)
			}
		}
	}
	var rest []string
	for h := range used {
		if !seen[h] {
			rest = append(rest, h)
		}
	}
	sort.Strings(rest)
	for _, h := range rest {
		add(h)
	}
	rowOf := map[string]int{}
	for i, h := range hosts {
		rowOf[h] = i
	}

	// Steps that overlap on one host go to separate lanes of its row.
	lane := make([]int, len(spans))
	lanes := make([]int, len(hosts))
	byHost := make([][]int, len(hosts))
	for i, s := range spans {
		byHost[rowOf[s.Host]] = append(byHost[rowOf[s.Host]], i)
	}
	for r, idx := range byHost {
		sort.SliceStable(idx, func(a, b int) bool { return spans[idx[a]].Start.Before(spans[idx[b]].Start) })
		var ends []time.Time
		for _, i := range idx {
			l := 0
			for l < len(ends) && ends[l].After(spans[i].Start) {
				l++
			}
			if l == len(ends) {
				ends = append(ends, time.Time{})
			}
			ends[l] = spans[i].End
			lane[i] = l
		}
		lanes[r] = max(len(ends), 1)
	}

	x := func(t time.Time) float64 { return tlLabelW + float64(t.Sub(start))/float64(wall)*tlChartW }
	page := timelinePage{Operation: operation, Recipe: recipe, Started: start.Format("2006-01-02 15:04:05 MST"),
		Wall: wall, StepTime: sum, Parallelism: fmt.Sprintf("%.1f", float64(sum)/float64(wall)), Ran: res.Ran,
		Failed: failed, Skipped: res.Skipped, Spans: len(spans), LabelW: tlLabelW, ChartW: tlChartW,
		Width: tlLabelW + tlChartW + 20}
	page.Title = fmt.Sprintf("diffuser %s %s: timeline", operation, recipe)
	y := tlAxisH
	for i, h := range hosts {
		hgt := tlRowH + float64(lanes[i]-1)*tlLaneH
		label := displayHost(h)
		if p := provider[h]; p != "" {
			label += " · " + p
		}
		// Addresses and hosts are shown with control and bidi characters
		// as escapes: a for_each key from a variable can hold an RLO.
		page.Rows = append(page.Rows, tlRow{Host: Printable(label), Y: y, H: hgt, TextY: y + tlRowH/2 + 4, Odd: i%2 == 1})
		y += hgt
	}
	page.Height = y + 10
	barY := func(i int) float64 {
		return page.Rows[rowOf[spans[i].Host]].Y + (tlRowH-tlBarH)/2 + float64(lane[i])*tlLaneH
	}
	kinds := map[string]bool{}
	for i, s := range spans {
		r := &page.Rows[rowOf[s.Host]]
		w := x(s.End) - x(s.Start)
		if w < 1.5 {
			w = 1.5
		}
		d := s.End.Sub(s.Start)
		b := tlBar{X: x(s.Start), Y: barY(i), W: w, H: tlBarH, Color: kindColor(s.Kind), Critical: onCrit[i],
			Addr: Printable(s.Addr), Class: "bar"}
		kinds[s.Kind] = true
		if strings.Contains(s.Status, "failed") {
			b.Class += " failed"
		}
		if b.Critical {
			b.Class += " critical"
		}
		b.Title = Printable(fmt.Sprintf("%s on %s", s.Addr, displayHost(s.Host))) + fmt.Sprintf("\n%s, +%s → +%s (%s)", s.Status,
			fmtElapsed(s.Start.Sub(start)), fmtElapsed(s.End.Sub(start)), fmtElapsed(d))
		r.Bars = append(r.Bars, b)
	}
	var pts []string
	for _, i := range crit {
		s := spans[i]
		page.Critical = append(page.Critical, tlSpan{Addr: Printable(s.Addr), Host: Printable(displayHost(s.Host)), Offset: s.Start.Sub(start),
			Duration: s.End.Sub(s.Start), Status: s.Status})
		page.CritTime += s.End.Sub(s.Start)
		y := barY(i) + tlBarH/2
		pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(s.Start), y, x(s.End), y))
	}
	page.CritLine = strings.Join(pts, " ")
	step := tickStep(wall)
	for t := time.Duration(0); t <= wall; t += step {
		page.Ticks = append(page.Ticks, tlTick{X: tlLabelW + float64(t)/float64(wall)*tlChartW, Label: "+" + fmtTick(t)})
	}
	for _, k := range sortedKeys(kinds) {
		page.Kinds = append(page.Kinds, tlKind{Name: k, Color: kindColor(k)})
	}
	return timelineTmpl.Execute(buf, page)
}

// tickStep picks an axis step giving 5 to 12 ticks.
func tickStep(wall time.Duration) time.Duration {
	for _, s := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		if wall/s <= 12 {
			return s
		}
	}
	return wall / 10
}

func fmtTick(d time.Duration) string {
	if d < time.Minute {
		if d%time.Second != 0 {
			return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
		}
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmtElapsed(d)
}
