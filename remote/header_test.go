package remote

import (
	"bytes"
	"testing"
)

func TestPgidHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		pgid   int
		out    string
	}{
		{"whole", []string{"diffuser-pgid:42\nhello\n"}, 42, "hello\n"},
		{"split", []string{"diff", "user-pgid:4", "2\nhel", "lo"}, 42, "hello"},
		{"header only", []string{"diffuser-pgid:7\n"}, 7, ""},
		// sudo failed before the script ran: output passes unchanged.
		{"no header", []string{"sudo: a password is required\n"}, 0, "sudo: a password is required\n"},
		{"short", []string{"di"}, 0, "di"},
		{"prefix without newline", []string{"diffuser-pgid:123456789012345678901234567890"}, 0, "diffuser-pgid:123456789012345678901234567890"},
		{"only the first line", []string{"diffuser-pgid:1\ndiffuser-pgid:2\n"}, 1, "diffuser-pgid:2\n"},
	} {
		var out bytes.Buffer
		h := &pgidHeader{next: &out}
		for _, w := range tc.writes {
			if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tc.name, n, err)
			}
		}
		h.flush()
		if h.pgid() != tc.pgid || out.String() != tc.out {
			t.Errorf("%s: pgid %d, out %q; want %d, %q", tc.name, h.pgid(), out.String(), tc.pgid, tc.out)
		}
	}
}

func TestTailBufferKeepsLastBytes(t *testing.T) {
	tb := &tailBuffer{max: 10}
	for i := range 100 {
		_, _ = tb.Write([]byte{byte('a' + i%26)})
	}
	_, _ = tb.Write([]byte("0123456789ABC"))
	if got := tb.String(); got != "3456789ABC" {
		t.Errorf("tail %q", got)
	}
	if cap(tb.buf) > 64 {
		t.Errorf("buffer grew to %d for a 10-byte tail", cap(tb.buf))
	}
}
