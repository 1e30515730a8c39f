package runner

import "strings"

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
