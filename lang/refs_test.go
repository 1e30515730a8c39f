package lang_test

import (
	"testing"

	"diffuser/lang"
)

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"step.x", "step.x", 0},
		{"kitten", "sitting", 3}, {"module.data.step.format", "module.data.step.fromat", 2},
		{"abc", "xyz", 3}, {"a", "ab", 1},
	} {
		if got := lang.EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
