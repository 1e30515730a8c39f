package runner

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LastLines returns the last n lines of s, each ending in a newline ("" for
// ""): the tail of a command's output that an ExitError carries.
func LastLines(s string, n int) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// maxQuoted is how much of a command's output QuoteOutput quotes.
const maxQuoted = 256

// QuoteOutput quotes a command's output for an error saying it was not
// what was expected: Go-quoted (control characters escaped, so that
// terminal escapes print as text), its first 256 bytes only, saying how
// long it was when cut. A broken or hostile host may answer a megabyte,
// and the error reaches terminals and state (a failed instance's error).
func QuoteOutput(s string) string {
	head, more := Clip(s, maxQuoted)
	return strconv.Quote(head) + more
}

// Clip is s's first n bytes at most, cut on a character boundary, and
// what says it was cut: "" when s is not longer, else "… (N bytes in
// all)".
func Clip(s string, n int) (head, more string) {
	if len(s) <= n {
		return s, ""
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], fmt.Sprintf("… (%d bytes in all)", len(s))
}
