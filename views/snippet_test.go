package views

import (
	"bufio"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestSnippetWindowMatchesScan: the snippet found through the line index
// is the one a scan of the whole file finds, for every range of a file
// (empty lines, a last line without a newline, ranges at a newline).
func TestSnippetWindowMatchesScan(t *testing.T) {
	src := []byte("recipe \"t\" {}\n\nhosts \"s\" {\n  count = 2\n}\n\nstep \"x\" {\n  on  = hosts.s\n  run = \"true\"\n}")
	file, diags := hclsyntax.ParseConfig(src, "main.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	scan := func(subj hcl.Range) (int, string) {
		first, last, line := -1, -1, 0
		sc := hcl.NewRangeScanner(src, subj.Filename, bufio.ScanLines)
		for sc.Scan() {
			lr := sc.Range()
			overlaps := lr.Start.Byte < subj.End.Byte && subj.Start.Byte < lr.End.Byte
			startsHere := lr.Start.Byte <= subj.Start.Byte && subj.Start.Byte <= lr.End.Byte
			if !overlaps && !startsHere {
				continue
			}
			if first < 0 {
				first, line = lr.Start.Byte, lr.Start.Line
			}
			last = lr.End.Byte
		}
		if first < 0 {
			return 0, "<none>"
		}
		return line, string(src[first:last])
	}
	fl := fileLines{}
	n := 0
	for a := 0; a <= len(src); a++ {
		for b := a; b <= len(src); b++ {
			subj := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Byte: a}, End: hcl.Pos{Byte: b}}
			wantLine, wantCode := scan(subj)
			got := snippet(file, &hcl.Diagnostic{Subject: &subj}, fl)
			gotLine, gotCode := 0, "<none>"
			if got != nil {
				gotLine, gotCode = got.StartLine, got.Code
			}
			if gotLine != wantLine || gotCode != wantCode {
				t.Fatalf("range %d-%d: got line %d %q, want line %d %q", a, b, gotLine, gotCode, wantLine, wantCode)
			}
			n++
		}
	}
	if len(fl) != 1 {
		t.Errorf("the file was indexed %d times' worth of entries", len(fl))
	}
	t.Logf("%d ranges agree", n)
}
