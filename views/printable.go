package views

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable is s with every control character but newline and tab, and
// every bidirectional formatting character, written as a Go escape
// (\x1b, \r, \u202e): values from users and hosts (a variable, an output,
// a failed step's last output) are shown to the terminal, never
// interpreted by it (a colour, a window title, a cleared screen, a line
// overwritten after \r, text shown reversed).
func Printable(s string) string {
	if strings.IndexFunc(s, escaped) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if escaped(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func escaped(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r))
}

// PrintableSource is a file's text for a diagnostic's snippet: every rune
// Printable would escape (bar the \r of a \r\n line end) replaced by as
// many '?' as it has bytes, so that the diagnostics' byte ranges still fall
// on the same text. A recipe, site or variables file from elsewhere is
// shown, never interpreted by the terminal. b itself is returned when it
// holds nothing to replace.
func PrintableSource(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if escaped(r) && !(r == '\r' && i+1 < len(b) && b[i+1] == '\n') {
			if out == nil {
				out = append([]byte(nil), b...)
			}
			for j := i; j < i+n; j++ {
				out[j] = '?'
			}
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
}
