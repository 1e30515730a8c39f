package views

import (
	"fmt"
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
//
// A byte that is not UTF-8 is written as \xNN too: raw, 0x9b is the
// 8-bit CSI of a terminal not in UTF-8 mode (and 0x1b's twin for C1
// controls), and a replacement character would hide which byte it was.
func Printable(s string) string {
	if strings.IndexFunc(s, escaped) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case escaped(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
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
		if (escaped(r) || r == utf8.RuneError && n == 1) && !(r == '\r' && i+1 < len(b) && b[i+1] == '\n') {
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
