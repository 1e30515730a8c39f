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
		fs := c.FSType
		if fs == "" {
			fs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Host, c.Path, fs, tool, w, r)
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
		fmt.Fprintf(w, "Reads on %s: %s.\n", strings.Join(modes[m], ", "), m)
	}
	for _, c := range failed {
		fmt.Fprintf(errw, "%s: %s\n", c.Host, c.Err)
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
