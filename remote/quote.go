package remote

import quote "diffuser/internal/shell"

// ShellQuote returns s quoted for a POSIX shell so that the shell reads it
// back as exactly one word equal to s (shell.Quote).
func ShellQuote(s string) string { return quote.Quote(s) }

// isEnvName reports whether name can be the name of a shell variable.
func isEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
