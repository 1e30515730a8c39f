package views

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"diffuser/compare"
	"diffuser/engine"
)

// The comparison report: a markdown page (a table per recipe and per
// client, failures with their log tails), a CSV of the same numbers (one
// row per recipe and per client) and an HTML page with charts
// (compare_html.go). compare.json, the record a re-run resumes from, is
// package compare's.

// Report files in the report directory.
const (
	CompareMarkdownFile = "report.md"
	CompareCSVFile      = "report.csv"
	CompareHTMLFile     = "report.html"
)

func fmtNum(f float64, prec int) string {
	if f == 0 {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// hostsText is "2 client, 2 server": hosts per group, groups sorted.
func hostsText(h map[string]int) string {
	var gs []string
	for g := range h {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	var out []string
	for _, g := range gs {
		out = append(out, fmt.Sprintf("%d %s", h[g], g))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

func statusText(r compare.Result) string {
	s := string(r.Status)
	if r.Failure != nil && r.Status != compare.Measured {
		s += ": " + r.Failure.Phase
	}
	if r.DestroyError != "" {
		s += " (destroy failed)"
	}
	return s
}

// paramsText is the one-line description of what every recipe ran.
func paramsText(p compare.Params) string {
	return fmt.Sprintf("%s and %s asked of each recipe · sequential: %s per client in %s · small files: %s × %s per client · provider %s",
		countOf(p.Servers, "server"), countOf(p.Clients, "client"), FmtBytes(p.Bytes), countOf(p.Threads, "thread"),
		countOf(p.Workers, "worker"), countOf(p.Files, "file"), orDash(p.Provider))
}

// countOf is "1 client" or "2 clients".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func machineText(m compare.Machine) string {
	var parts []string
	if m.Hostname != "" {
		parts = append(parts, m.Hostname)
	}
	parts = append(parts, fmt.Sprintf("%d CPUs", m.CPUs))
	if m.MemoryBytes > 0 {
		parts = append(parts, FmtBytes(m.MemoryBytes)+" memory")
	}
	if m.Kernel != "" {
		parts = append(parts, "Linux "+m.Kernel)
	}
	return strings.Join(parts, ", ")
}

// mdText keeps text that hosts, errors, paths or variables said from being
// read as markup by a markdown renderer: no HTML ('<', '&'), no link or
// image ('[', ']': "[x](javascript:...)", "![](http://tracker)"), no
// backslash that would undo the escapes after it; control and bidi
// characters are shown as escapes (Printable).
func mdText(s string) string { return mdEscaper.Replace(Printable(s)) }

var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `\`, `\\`, "[", `\[`, "]", `\]`)

// mdCell makes text safe in a markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(mdText(s), "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}

// fence is a code fence longer than any run of backticks in s.
func fence(s string) string {
	n, run := 3, 0
	for _, c := range s {
		if c == '`' {
			run++
			if run >= n {
				n = run + 1
			}
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", n)
}

// WriteCompareMarkdown writes the report as markdown.
func WriteCompareMarkdown(w io.Writer, rep *compare.Report) {
	fmt.Fprintf(w, "# diffuser compare\n\n%s.\n\nRun from %s; started %s, updated %s.\n\n",
		paramsText(rep.Params), machineText(rep.Machine), rep.Started.Format("2006-01-02 15:04:05 MST"), rep.Updated.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintln(w, "| filesystem | status | hosts | ready (s) | write MB/s | read MB/s | create/s | stat/s | delete/s | destroy (s) |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCell(r.Label), mdCell(statusText(r)), hostsText(r.Hosts),
			fmtNum(r.ReadySeconds, 1), fmtNum(r.Write.MBps, 1), fmtNum(r.Read.MBps, 1),
			fmtNum(r.Create.OpsPerSec, 0), fmtNum(r.Stat.OpsPerSec, 0), fmtNum(r.Delete.OpsPerSec, 0), fmtNum(r.DestroySeconds, 1))
	}
	fmt.Fprintln(w, "\nready: apply plus verify, from no host to a verified mount. write, read: all clients at once, every byte over the phase's wall time. create, stat, delete: small-file operations per second, all clients at once. docs/compare.md says what each number can and cannot show.")

	fmt.Fprint(w, "\n## Per client\n\n")
	fmt.Fprintln(w, "| filesystem | client | fs type | tool | write MB/s | read MB/s | create/s | stat/s | delete/s | reads | notes |")
	fmt.Fprintln(w, "|---|---|---|---|--:|--:|--:|--:|--:|---|---|")
	for _, r := range rep.Results {
		for _, c := range r.Clients {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCell(r.Label), mdCell(c.Host), mdCell(orDash(c.FSType)),
				mdCell(orDash(c.Tool)), fmtNum(c.Write.MBps, 1), fmtNum(c.Read.MBps, 1), fmtNum(c.Create.OpsPerSec, 0), fmtNum(c.Stat.OpsPerSec, 0),
				fmtNum(c.Delete.OpsPerSec, 0), mdCell(orDash(c.ReadMode)), mdCell(orDash(clientNotes(c))))
		}
	}

	var failed []compare.Result
	for _, r := range rep.Results {
		if r.Failure != nil || r.DestroyError != "" {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintln(w, "\n## Failures")
		for _, r := range failed {
			if f := r.Failure; f != nil {
				fmt.Fprintf(w, "\n### %s: %s\n\n", r.Label, f.Phase)
				where := ""
				if f.Step != "" {
					where = "`" + strings.ReplaceAll(f.Step, "`", "'") + "`"
				}
				if f.Host != "" {
					where = strings.TrimSpace(where + " on " + mdText(f.Host))
				}
				if where != "" {
					fmt.Fprintf(w, "%s: ", where)
				}
				fmt.Fprintf(w, "%s\n", mdText(strings.TrimSpace(engine.TrimTail(f.Error, f.Tail))))
				if f.Log != "" {
					fmt.Fprintf(w, "\nlog: `%s`\n", strings.ReplaceAll(f.Log, "`", "'"))
				}
				if t := strings.TrimRight(Printable(f.Tail), "\n"); t != "" { // a file people cat
					fc := fence(t)
					fmt.Fprintf(w, "\n%s\n%s\n%s\n", fc, t, fc)
				}
			}
			if r.DestroyError != "" {
				fmt.Fprintf(w, "\n%s: destroy: %s\n", r.Label, mdText(r.DestroyError))
			}
		}
	}

	fmt.Fprint(w, "\n## Recipes\n\n")
	for _, r := range rep.Results {
		vars := strings.Join(r.Vars, " ")
		if vars == "" {
			vars = "defaults"
		}
		fmt.Fprintf(w, "- %s: %s in workspace %s, %s", mdText(r.Label), mdText(r.Source), mdText(r.Workspace), mdText(vars))
		for _, n := range r.Notes {
			fmt.Fprintf(w, "; %s", mdText(n))
		}
		fmt.Fprintln(w)
	}
}

// clientNotes is a client's error and note, either or both.
func clientNotes(c compare.Client) string {
	return strings.Trim(c.Error+"; "+c.Note, "; ")
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet
// (OWASP's CSV injection list: '=', '+', '-', '@', tab, CR, and the
// full-width '＝', '＋', '－', '＠' some spreadsheets take as well): such a
// cell starts with a "'".
func csvSafe(s string) string {
	if r, _ := utf8.DecodeRuneInString(s); s != "" && strings.ContainsRune("=+-@\t\r＝＋－＠", r) {
		return "'" + s
	}
	return s
}

func csvNum(f float64, prec int) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// WriteCompareCSV writes one row per recipe (scope "all": the aggregates
// and times) and one per client; empty cells were not measured.
func WriteCompareCSV(w io.Writer, rep *compare.Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"label", "recipe", "status", "scope", "hosts", "ready_s", "apply_s", "verify_s", "destroy_s",
		"write_mb_s", "read_mb_s", "create_ops_s", "stat_ops_s", "delete_ops_s", "failed_phase", "error"})
	for _, r := range rep.Results {
		phase, msg := "", r.DestroyError
		if r.Failure != nil {
			phase, msg = r.Failure.Phase, r.Failure.Error
		}
		_ = cw.Write([]string{csvSafe(r.Label), csvSafe(r.Recipe), string(r.Status), "all", hostsText(r.Hosts),
			csvNum(r.ReadySeconds, 2), csvNum(r.ApplySeconds, 2), csvNum(r.VerifySeconds, 2), csvNum(r.DestroySeconds, 2),
			csvNum(r.Write.MBps, 1), csvNum(r.Read.MBps, 1), csvNum(r.Create.OpsPerSec, 1), csvNum(r.Stat.OpsPerSec, 1), csvNum(r.Delete.OpsPerSec, 1),
			phase, csvSafe(strings.TrimSpace(msg))})
		for _, c := range r.Clients {
			_ = cw.Write([]string{csvSafe(r.Label), csvSafe(r.Recipe), string(r.Status), csvSafe(c.Host), "", "", "", "", "",
				csvNum(c.Write.MBps, 1), csvNum(c.Read.MBps, 1), csvNum(c.Create.OpsPerSec, 1), csvNum(c.Stat.OpsPerSec, 1), csvNum(c.Delete.OpsPerSec, 1),
				"", csvSafe(clientNotes(c))})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCompareEvent prints one line of a comparison's progress:
// "07:01:02 glusterfs  apply  done in 3m21s".
func WriteCompareEvent(w io.Writer, label, phase, state string, elapsed time.Duration, detail string) {
	line := fmt.Sprintf("%s %s  %s  %s", time.Now().Format("15:04:05"), label, phase, state)
	if state == "start" {
		line = fmt.Sprintf("%s %s  %s...", time.Now().Format("15:04:05"), label, phase)
	}
	if elapsed > 0 {
		line += " in " + fmtElapsed(elapsed)
	}
	if detail != "" {
		line += ": " + Printable(detail) // an error may quote a host
	}
	fmt.Fprintln(w, line)
}

// WriteCompareSummary prints the comparison on a terminal: one line per
// recipe and where the report is.
func WriteCompareSummary(w io.Writer, rep *compare.Report, dir string) {
	fmt.Fprintln(w)
	WriteCompareTable(w, rep)
	fmt.Fprintf(w, "\nReport: %s/%s (also %s, %s, %s)\n", dir, CompareHTMLFile, CompareMarkdownFile, CompareCSVFile, compare.ReportFile)
}

// WriteCompareTable prints the per-recipe table.
func WriteCompareTable(w io.Writer, rep *compare.Report) {
	rows := [][]string{{"FILESYSTEM", "STATUS", "READY s", "WRITE MB/s", "READ MB/s", "CREATE/s", "STAT/s", "DELETE/s"}}
	for _, r := range rep.Results {
		rows = append(rows, []string{r.Label, statusText(r), fmtNum(r.ReadySeconds, 1), fmtNum(r.Write.MBps, 1), fmtNum(r.Read.MBps, 1),
			fmtNum(r.Create.OpsPerSec, 0), fmtNum(r.Stat.OpsPerSec, 0), fmtNum(r.Delete.OpsPerSec, 0)})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i < 2 {
				b.WriteString(c + strings.Repeat(" ", widths[i]-len(c)+2))
			} else {
				b.WriteString(strings.Repeat(" ", widths[i]-len(c)) + c + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
