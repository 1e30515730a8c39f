package text

import "testing"

func TestProblem(t *testing.T) {
	for s, want := range map[string]string{
		"":                  "",
		"plain":             "",
		"ünïcödé ✓ 日本":      "",
		"\ufffd is valid":   "",
		"tab\tnewline\n":    "",
		"ab\x00cd":          "holds a NUL byte (at byte 2)",
		"\ufffdcaf\xe9":     "is not UTF-8 text (the first invalid byte at byte 6)",
		"cut rune \xe2\x82": "is not UTF-8 text (the first invalid byte at byte 9)",
		"\xff\x00":          "holds a NUL byte (at byte 1)",
	} {
		if got := Problem(s); got != want {
			t.Errorf("Problem(%q) = %q, want %q", s, got, want)
		}
	}
}
