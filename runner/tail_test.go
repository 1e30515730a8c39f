package runner

import (
	"strings"
	"testing"
)

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a", 3, "a\n"},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 5, "a\nb\nc\n"},
		{"a\n\nc\n", 2, "\nc\n"},
	} {
		if got := LastLines(c.in, c.n); got != c.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestQuoteOutput(t *testing.T) {
	if got := QuoteOutput("a\x1b[2Jb\n"); got != `"a\x1b[2Jb\n"` {
		t.Errorf("short: %s", got)
	}
	long := strings.Repeat("é", 200) // 400 bytes: the cut falls inside none of them
	got := QuoteOutput(long)
	if !strings.HasPrefix(got, `"`+strings.Repeat("é", 128)+`"… (400 bytes in all)`) || strings.Contains(got, `\x`) {
		t.Errorf("long: %s", got)
	}
}
