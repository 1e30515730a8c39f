package remote

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadUntilFrom: the bytes before the token reach w, those after it
// come back, whether the token is in what was already read, split across
// reads, or absent (an unexpected EOF, everything passed on).
func TestReadUntilFrom(t *testing.T) {
	const tok = "MARK"
	for _, tc := range []struct {
		name, have, stream string
		wantOut, wantRest  string
		wantErr            error
	}{
		{"in have", "abcMARKrest", "more", "abc", "rest", nil},
		{"starts have", "MARK", "", "", "", nil},
		{"have ends with a part of it", "abcMA", "RKxyz", "abc", "xyz", nil},
		{"have looks like a part, is not", "abcMA", "Xyz MARK!", "abcMAXyz ", "!", nil},
		{"in the stream", "", "hello MARK tail", "hello ", " tail", nil},
		{"absent", "ab", "cMAR", "abcMAR", "", io.ErrUnexpectedEOF},
	} {
		var out bytes.Buffer
		// One byte per read: the token is split across reads.
		r := iotest.OneByteReader(strings.NewReader(tc.stream))
		rest, err := readUntilFrom(r, []byte(tc.have), []byte(tok), &out)
		if err != tc.wantErr || out.String() != tc.wantOut || (err == nil && !strings.HasPrefix(tc.wantRest, string(rest))) {
			t.Errorf("%s: out %q rest %q err %v, want %q %q %v", tc.name, out.String(), rest, err, tc.wantOut, tc.wantRest, tc.wantErr)
		}
	}
}

// TestReadLineRest: the line and what follows it.
func TestReadLineRest(t *testing.T) {
	line, rest, err := readLineRest(strings.NewReader("23\nnext"), []byte("1"))
	if err != nil || string(line) != "123" || !strings.HasPrefix("next", string(rest)) {
		t.Fatalf("%q %q %v", line, rest, err)
	}
	line, rest, err = readLineRest(strings.NewReader(""), []byte("skip\nafter"))
	if err != nil || string(line) != "skip" || string(rest) != "after" {
		t.Fatalf("%q %q %v", line, rest, err)
	}
	if _, _, err := readLineRest(strings.NewReader("no newline"), nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("no newline: %v", err)
	}
}
