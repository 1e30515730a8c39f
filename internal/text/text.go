package text

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problem says why s cannot be a value's text, "" when it can: it holds a
// NUL byte, or bytes that are not UTF-8 (JSON would record each as U+FFFD,
// so a value read back would differ from the one used). It names byte
// offsets, never the text: the caller's value may be a secret.
func Problem(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Sprintf("holds a NUL byte (at byte %d)", i)
	}
	if i := Invalid(s); i >= 0 {
		return fmt.Sprintf("is not UTF-8 text (the first invalid byte at byte %d)", i)
	}
	return ""
}

// Invalid is the offset of the first byte of s that is not part of UTF-8
// text, -1 when s is UTF-8 text.
func Invalid(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
