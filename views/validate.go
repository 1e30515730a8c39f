package views

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ValidateFormatVersion is the version of `validate -json`'s schema
// (ValidateJSON). Terraform's `validate -json` has the same shape, so
// editors and CI tools that read one read the other; a field is only ever
// added within a major version.
const ValidateFormatVersion = "1.0"

// ValidateJSON is the document `validate -json` prints.
type ValidateJSON struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []DiagnosticJSON `json:"diagnostics"`
}

// DiagnosticJSON is one diagnostic. Range is absent when the problem has
// no place in a file (a recipe that does not exist); Snippet when the
// file's source is not at hand.
type DiagnosticJSON struct {
	Severity string       `json:"severity"` // "error" or "warning"
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *RangeJSON   `json:"range,omitempty"`
	Snippet  *SnippetJSON `json:"snippet,omitempty"`
}

// RangeJSON is a span of a file; lines and columns count from 1, bytes
// from 0, End is exclusive.
type RangeJSON struct {
	Filename string  `json:"filename"`
	Start    PosJSON `json:"start"`
	End      PosJSON `json:"end"`
}

// PosJSON is a position in a file.
type PosJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// SnippetJSON is the source around a diagnostic: Code holds the whole
// lines the range covers, starting at StartLine; the highlight offsets are
// byte offsets into Code. Context names the enclosing block
// (`hosts "server"`) when there is one; Values are the values of the
// variables the offending expression read, where the diagnostic knows them.
type SnippetJSON struct {
	Context              *string         `json:"context"`
	Code                 string          `json:"code"`
	StartLine            int             `json:"start_line"`
	HighlightStartOffset int             `json:"highlight_start_offset"`
	HighlightEndOffset   int             `json:"highlight_end_offset"`
	Values               []ExprValueJSON `json:"values"`
}

// ExprValueJSON is one value an expression read: "var.servers" "is 3".
type ExprValueJSON struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

// ValidateDocument builds `validate -json`'s document from diagnostics and
// the files they point into.
func ValidateDocument(files map[string]*hcl.File, diags hcl.Diagnostics) ValidateJSON {
	doc := ValidateJSON{FormatVersion: ValidateFormatVersion, Valid: !diags.HasErrors(), Diagnostics: []DiagnosticJSON{}}
	lines := fileLines{}
	for _, d := range diags {
		dj := DiagnosticJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			dj.Severity = "warning"
			doc.WarningCount++
		} else {
			doc.ErrorCount++
		}
		if d.Subject != nil {
			dj.Range = rangeJSON(*d.Subject)
			dj.Snippet = snippet(files[d.Subject.Filename], d, lines)
		}
		doc.Diagnostics = append(doc.Diagnostics, dj)
	}
	return doc
}

// WriteValidateJSON prints `validate -json`'s document, indented.
func WriteValidateJSON(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	b, err := json.MarshalIndent(ValidateDocument(files, diags), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteValid prints validate's line of success, and the module calls
// turned off (their steps, not counted, have no instances), if any.
func WriteValid(w io.Writer, recipe string, hosts, instances, edges int, off []string) {
	fmt.Fprintf(w, "The recipe %q is valid: %d host(s), %d step instance(s), %d graph edge(s).\n", recipe, hosts, instances, edges)
	if len(off) > 0 {
		fmt.Fprintf(w, "Turned off, with no instances: %s.\n", strings.Join(off, ", "))
	}
}

func rangeJSON(r hcl.Range) *RangeJSON {
	return &RangeJSON{Filename: r.Filename,
		Start: PosJSON{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:   PosJSON{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}}
}

// fileLines holds each file's lines, scanned once: a file with thousands
// of diagnostics was scanned from its start for each one (800 errors in a
// large recipe took 18 s).
type fileLines map[*hcl.File][]hcl.Range

func (fl fileLines) of(file *hcl.File, filename string) []hcl.Range {
	if lines, ok := fl[file]; ok {
		return lines
	}
	var lines []hcl.Range
	sc := hcl.NewRangeScanner(file.Bytes, filename, bufio.ScanLines)
	for sc.Scan() {
		lines = append(lines, sc.Range())
	}
	fl[file] = lines
	return lines
}

// snippet is the source of the lines d.Subject covers, as the text writer
// prints them.
func snippet(file *hcl.File, d *hcl.Diagnostic, fl fileLines) *SnippetJSON {
	if file == nil || file.Bytes == nil {
		return nil
	}
	subj := *d.Subject
	src := file.Bytes
	if subj.Start.Byte < 0 || subj.End.Byte > len(src) || subj.Start.Byte > subj.End.Byte {
		return nil
	}
	sn := &SnippetJSON{Values: []ExprValueJSON{}}
	type contextStringer interface{ ContextString(offset int) string }
	if cs, ok := file.Nav.(contextStringer); ok {
		if c := cs.ContextString(subj.Start.Byte); c != "" {
			sn.Context = &c
		}
	}
	first, last := -1, -1
	// Only lines ending at or after the range's start and starting at or
	// before its end can hold it: a window found by binary search.
	lines := fl.of(file, subj.Filename)
	from := sort.Search(len(lines), func(k int) bool { return lines[k].End.Byte >= subj.Start.Byte })
	for _, lr := range lines[from:] {
		if lr.Start.Byte > subj.End.Byte {
			break
		}
		// The lines the range overlaps, and the one it starts on (at the
		// end of a line, its newline, for an error there).
		overlaps := lr.Start.Byte < subj.End.Byte && subj.Start.Byte < lr.End.Byte
		startsHere := lr.Start.Byte <= subj.Start.Byte && subj.Start.Byte <= lr.End.Byte
		if !overlaps && !startsHere {
			continue
		}
		if first < 0 {
			first = lr.Start.Byte
			sn.StartLine = lr.Start.Line
		}
		last = lr.End.Byte
	}
	if first < 0 {
		return nil
	}
	sn.Code = string(src[first:last])
	sn.HighlightStartOffset = subj.Start.Byte - first
	sn.HighlightEndOffset = min(subj.End.Byte, last) - first
	sn.Values = exprValues(d)
	return sn
}

// exprValues lists the values of the variables d.Expression reads, the
// way the text writer shows them; sensitive ones are not shown.
func exprValues(d *hcl.Diagnostic) []ExprValueJSON {
	out := []ExprValueJSON{}
	if d.Expression == nil || d.EvalContext == nil {
		return out
	}
	seen := map[string]bool{}
	for _, tr := range d.Expression.Variables() {
		v, diags := tr.TraverseAbs(d.EvalContext)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			continue
		}
		name := traversalString(tr)
		if seen[name] {
			continue
		}
		seen[name] = true
		stmt := ""
		switch {
		case v.IsMarked() || v.ContainsMarked():
			stmt = "has a sensitive value"
		case v.IsNull():
			stmt = "is null"
		default:
			stmt = "is " + shortValue(v)
		}
		out = append(out, ExprValueJSON{Traversal: name, Statement: stmt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Traversal < out[j].Traversal })
	return out
}

func traversalString(tr hcl.Traversal) string { return traversalWith(tr, shortValue) }

// traversalWith names a traversal, an index key shown by show.
func traversalWith(tr hcl.Traversal, show func(cty.Value) string) string {
	var b strings.Builder
	for _, s := range tr {
		switch s := s.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().IsPrimitiveType() && s.Key.IsKnown() && !s.Key.IsNull() {
				b.WriteString("[" + show(s.Key) + "]")
			} else {
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// shortValue renders a value in a few words: scalars in full (a long
// string cut, saying how long it was), collections by their size.
func shortValue(v cty.Value) string {
	ty := v.Type()
	switch {
	case ty == cty.String:
		return lang.QuoteShown(v.AsString()) // cut when long, as the text's with lines (ClipWithLines)
	case ty == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case ty == cty.Bool:
		return fmt.Sprint(v.True())
	case ty.IsCollectionType() || ty.IsTupleType():
		return fmt.Sprintf("%s with %d element(s)", ty.FriendlyName(), v.LengthInt())
	case ty.IsObjectType():
		return fmt.Sprintf("object with %d attribute(s)", len(ty.AttributeTypes()))
	}
	return ty.FriendlyName()
}
