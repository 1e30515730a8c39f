package steps

import "strings"

// ShellQuote returns s as one word for a POSIX shell. Words made only of
// characters no shell treats specially are returned bare so that logged
// commands stay readable; anything else is wrapped in single quotes, an
// embedded single quote being closed, escaped and reopened (quote,
// backslash, quote, quote). The empty string becomes two single quotes.
//
// ShellQuote does not protect against a word being read as an option
// (a leading "-"): kinds validate or use "--" for that.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !isShellSafe(c) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isShellSafe reports whether c needs no quoting anywhere in a word
// (the set Python's shlex.quote leaves alone).
func isShellSafe(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune("@%+=:,./_-", c)
}

// shellJoin quotes each word and joins them with spaces.
func shellJoin(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ShellQuote(w)
	}
	return strings.Join(q, " ")
}
