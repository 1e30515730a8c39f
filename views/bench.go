package views

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"diffuser/probe"
)

// WriteBench prints a bench report: a table per client, the aggregate
// and how reads avoided caches to w, client errors to errw.
func WriteBench(w, errw io.Writer, rep *probe.BenchReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CLIENT\tPATH\tFS\tTOOL\tWRITE MB/s\tREAD MB/s\t")
	var failed []probe.BenchClient
	for _, c := range rep.Clients {
		w, r := "-", "-"
		if c.Write.Duration > 0 {
			w = fmt.Sprintf("%.1f", c.Write.MBps())
		}
		if c.Read.Duration > 0 {
			r = fmt.Sprintf("%.1f", c.Read.MBps())
		}
		tool := c.Tool
		if tool == "" {
			tool = "-"
		}
		fs := Printable(c.FSType) // what the host's stat said
		if fs == "" {
			fs = "-"
		}
		// The filesystem type, the notes and the errors quote what the
		// client printed: shown, never interpreted by the terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", oneLine(c.Host), oneLine(c.Path), oneLine(fs), oneLine(tool), w, r)
		if c.Err != "" {
			failed = append(failed, c)
		}
	}
	if len(rep.Clients) > 1 {
		fmt.Fprintf(tw, "all %d clients\t\t\t\t%.1f\t%.1f\t\n", len(rep.Clients), rep.Write.MBps(), rep.Read.MBps())
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nWrite: %s in %s (%d x %s per client, flushed to stable storage before the clock stops).\n",
		FmtBytes(rep.Write.Bytes), rep.Write.Duration.Round(10*time.Millisecond), rep.Threads, FmtBytes(rep.PerThread))
	fmt.Fprintf(w, "Read:  %s in %s.\n", FmtBytes(rep.Read.Bytes), rep.Read.Duration.Round(10*time.Millisecond))
	modes := map[string][]string{}
	for _, c := range rep.Clients {
		if c.ReadMode != "" {
			modes[c.ReadMode] = append(modes[c.ReadMode], c.Host)
		}
	}
	for _, m := range sortedKeys(modes) {
		fmt.Fprintf(w, "Reads on %s: %s.\n", Printable(strings.Join(modes[m], ", ")), Printable(m))
	}
	for _, c := range rep.Clients {
		if c.Note != "" {
			fmt.Fprintf(w, "%s: %s.\n", Printable(c.Host), Printable(c.Note))
		}
	}
	for _, c := range failed {
		// An error may quote what a command printed on the host.
		fmt.Fprintf(errw, "%s: %s\n", Printable(c.Host), Printable(c.Err))
	}
}

// FmtBytes prints a byte count in binary units.
func FmtBytes(n int64) string {
	for _, u := range []struct {
		size float64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if float64(n) >= u.size {
			return strconv.FormatFloat(math.Round(float64(n)/u.size*100)/100, 'f', -1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}

// BenchJSON is `diffuser bench -json`: the aggregate phases (every
// client's bytes over the phase's wall time) and each client's.
type BenchJSON struct {
	Recipe         string            `json:"recipe"`
	Threads        int               `json:"threads"`
	PerThreadBytes int64             `json:"per_thread_bytes"`
	Write          PhaseJSON         `json:"write"`
	Read           PhaseJSON         `json:"read"`
	Clients        []BenchClientJSON `json:"clients"`
}

// PhaseJSON is the bytes moved in one phase, how long it took and the
// throughput in MB/s (10^6 bytes per second).
type PhaseJSON struct {
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	MBps    float64 `json:"mb_per_s"`
}

// BenchClientJSON is one client's measurement.
type BenchClientJSON struct {
	Verify   string    `json:"verify"`
	Host     string    `json:"host"`
	Path     string    `json:"path"`
	FSType   string    `json:"fstype,omitempty"`
	Tool     string    `json:"tool,omitempty"`      // fio or dd
	ReadMode string    `json:"read_mode,omitempty"` // how reads avoided the page cache
	Note     string    `json:"note,omitempty"`      // why the tool is not the one asked for
	Write    PhaseJSON `json:"write"`
	Read     PhaseJSON `json:"read"`
	Error    string    `json:"error,omitempty"`
}

func phaseJSON(p probe.BenchPhase) PhaseJSON {
	return PhaseJSON{Bytes: p.Bytes, Seconds: p.Duration.Seconds(), MBps: math.Round(p.MBps()*10) / 10}
}

// NewBenchJSON is a bench report in its JSON shape (clients never null).
func NewBenchJSON(recipe string, rep *probe.BenchReport) BenchJSON {
	out := BenchJSON{Recipe: recipe, Threads: rep.Threads, PerThreadBytes: rep.PerThread, Write: phaseJSON(rep.Write),
		Read: phaseJSON(rep.Read), Clients: []BenchClientJSON{}}
	for _, c := range rep.Clients {
		out.Clients = append(out.Clients, BenchClientJSON{Verify: c.Verify, Host: c.Host, Path: c.Path, FSType: c.FSType, Tool: c.Tool,
			ReadMode: c.ReadMode, Note: c.Note, Write: phaseJSON(c.Write), Read: phaseJSON(c.Read), Error: c.Err})
	}
	return out
}
