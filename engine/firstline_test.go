package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFirstLineBounded: the line kept as a failed instance's error is cut
// at maxLine bytes, on a character boundary, saying how long it was; a
// short first line is kept whole.
func TestFirstLineBounded(t *testing.T) {
	if got := firstLine("exit status 1: no such unit\nmore"); got != "exit status 1: no such unit" {
		t.Errorf("short line: %q", got)
	}
	long := strings.Repeat("é", 600_000) // 1.2 MB on one line
	got := firstLine(long + "\nsecond")
	if len(got) > maxLine+40 || !utf8.ValidString(got) || !strings.HasSuffix(got, "… (1200000 bytes in all)") {
		t.Errorf("long line: %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[max(0, len(got)-40):])
	}
}
