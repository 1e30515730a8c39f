package views

import (
	"strings"
	"testing"
)

// verify that checked nothing says why: no verify block, or all off.
func TestNothingVerified(t *testing.T) {
	if s := NothingVerified(0); !strings.Contains(s, "has no verify block") || !strings.Contains(s, "#verify") {
		t.Errorf("no blocks: %q", s)
	}
	if s := NothingVerified(2); !strings.Contains(s, "every one of the recipe's 2 verify block(s) is turned off") {
		t.Errorf("two blocks off: %q", s)
	}
}
