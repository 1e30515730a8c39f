package engine

import (
	"testing"

	"diffuser/runner"
)

// TestTrimTail: an error that ends with the output tail (as
// runner.ExitError's does) loses it, with its separator; anything else is
// kept whole, so no message is ever cut short.
func TestTrimTail(t *testing.T) {
	exit := (&runner.ExitError{What: "command", Status: 3, Tail: "line 1\nline 2\n"}).Error()
	for _, tc := range []struct{ msg, tail, want string }{
		{exit, "line 1\nline 2\n", "command exited with status 3"},
		{"retrying: " + exit, "line 1\nline 2\n", "retrying: command exited with status 3"},
		{exit, "line 2\n", "command exited with status 3:\nline 1"}, // only what repeats goes
		{"command exited with status 3 (no output)", "", "command exited with status 3 (no output)"},
		{"sensitive step failed with exit status 3", "(output hidden: sensitive step)", "sensitive step failed with exit status 3"},
		{exit + " (and 2 more failures)", "line 1\nline 2\n", exit + " (and 2 more failures)"},
		{"no capacity", "no capacity", "no capacity"}, // the whole message, not after a newline: kept
	} {
		if got := TrimTail(tc.msg, tc.tail); got != tc.want {
			t.Errorf("TrimTail(%q, %q) = %q, want %q", tc.msg, tc.tail, got, tc.want)
		}
	}
}
