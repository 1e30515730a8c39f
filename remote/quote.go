package remote

import "strings"

// ShellQuote returns s quoted for a POSIX shell so that the shell reads it
// back as exactly one word equal to s. Strings made only of characters that
// are never special ([A-Za-z0-9] and @%+:,./_-) are returned unchanged for
// readability; everything else, including the empty string, is wrapped in
// single quotes with each embedded ' written as '"'"'.
func ShellQuote(s string) string {
	if s != "" && isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("@%+:,./_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

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
