// Package shell quotes words for a POSIX shell: the one quoting every
// command diffuser builds, the recipe function shellquote and the commands
// its messages suggest share. It imports nothing of diffuser's.
package shell

import "strings"

// Quote returns s quoted for a POSIX shell so that the shell reads it back
// as exactly one word equal to s, with nothing in it expanded. Words made
// only of characters that are never special ([A-Za-z0-9] and @%+=:,./_-,
// the set Python's shlex.quote leaves alone) are returned unchanged for
// readability; everything else, the empty string included, is wrapped in
// single quotes, each ' inside written as '"'"'. The form is part of what
// recipes render (shellquote): changing it changes the digests of steps
// whose arguments quote a value with a single quote.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"
