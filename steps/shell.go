package steps

import (
	"strings"

	"diffuser/internal/shell"
)

// ShellQuote quotes s for a POSIX shell as one word (shell.Quote).
func ShellQuote(s string) string { return shell.Quote(s) }

// shellJoin quotes each word and joins them with spaces.
func shellJoin(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ShellQuote(w)
	}
	return strings.Join(q, " ")
}
