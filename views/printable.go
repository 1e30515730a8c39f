package views

import (
	"strconv"
	"strings"
	"unicode"
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
