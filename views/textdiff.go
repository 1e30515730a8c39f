package views

import (
	"fmt"
	"io"
	"strings"
)

// WriteUnifiedDiff writes the difference between two versions of the file
// name as a unified diff (diff -u, 3 lines of context, `patch -p1`
// applies it), or nothing when they are equal.
func WriteUnifiedDiff(w io.Writer, name string, before, after []byte) error {
	a, b := splitTextLines(string(before)), splitTextLines(string(after))
	ops := diffLines(a, b)
	hunks := hunksOf(ops, 3)
	if len(hunks) == 0 {
		return nil
	}
	var sb strings.Builder
	// The name as text (as git quotes one): a file named with terminal
	// escapes is not to set a terminal's title. The lines are the patch.
	name = Printable(name)
	fmt.Fprintf(&sb, "--- a/%s\n+++ b/%s\n", name, name)
	for _, h := range hunks {
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(h.aStart, h.aLen), hunkRange(h.bStart, h.bLen))
		for _, o := range ops[h.from:h.to] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func splitTextLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineOp is one line of an edit script: ' ' kept, '-' removed, '+' added.
type lineOp struct {
	kind byte
	line string
}

// diffLines is Myers' O((N+M)D) shortest edit script from a to b.
func diffLines(a, b []string) []lineOp {
	n, m := len(a), len(b)
	limit := n + m
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	done := false
	for d := 0; d <= limit && !done; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				done = true
				break
			}
		}
	}
	// Walk the trace back from (n, m), collecting the script in reverse.
	var rev []lineOp
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		vd := trace[d]
		k := x - y
		var pk int
		if k == -d || (k != d && vd[off+k-1] < vd[off+k+1]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := vd[off+pk]
		py := px - pk
		for x > px && y > py {
			rev = append(rev, lineOp{' ', a[x-1]})
			x--
			y--
		}
		if d > 0 {
			if x == px {
				rev = append(rev, lineOp{'+', b[y-1]})
			} else {
				rev = append(rev, lineOp{'-', a[x-1]})
			}
		}
		x, y = px, py
	}
	ops := make([]lineOp, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

type hunk struct {
	from, to     int // ops[from:to]
	aStart, aLen int // 1-based first line in a, line count
	bStart, bLen int
}

// hunksOf groups changed lines with ctx lines of context around them,
// merging groups whose context touches.
func hunksOf(ops []lineOp, ctx int) []hunk {
	var out []hunk
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		from := max(0, i-ctx)
		to := i
		for to < len(ops) {
			if ops[to].kind != ' ' {
				to++
				continue
			}
			run := to
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-to > 2*ctx {
				to = min(to+ctx, len(ops))
				break
			}
			to = run
		}
		out = append(out, hunk{from: from, to: to})
		i = to
	}
	// Line numbers: count a and b lines before each hunk.
	aLine, bLine, j := 1, 1, 0
	for h := range out {
		for ; j < out[h].from; j++ {
			aLine, bLine = advance(ops[j].kind, aLine, bLine)
		}
		out[h].aStart, out[h].bStart = aLine, bLine
		for ; j < out[h].to; j++ {
			if ops[j].kind != '+' {
				out[h].aLen++
			}
			if ops[j].kind != '-' {
				out[h].bLen++
			}
			aLine, bLine = advance(ops[j].kind, aLine, bLine)
		}
	}
	return out
}

func advance(kind byte, aLine, bLine int) (int, int) {
	if kind != '+' {
		aLine++
	}
	if kind != '-' {
		bLine++
	}
	return aLine, bLine
}

// hunkRange is a hunk header's start,count; an empty side names the line
// before it, as diff -u does.
func hunkRange(start, n int) string {
	if n == 0 {
		start--
	}
	return fmt.Sprintf("%d,%d", start, n)
}
