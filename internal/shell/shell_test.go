package shell

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":               "''",
		"plain":          "plain",
		"/etc/a=b,c.d":   "/etc/a=b,c.d",
		"two words":      "'two words'",
		"it's":           `'it'"'"'s'`,
		"$(touch x)`y`;": "'$(touch x)`y`;'",
		"ünï":            "'ünï'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteRoundTrip: sh reads every quoted word back as the one word given.
func TestQuoteRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"", "a b", "it's", `"$HOME" \n *`, "$(touch pwned)", "'", "''", "a\nb", "-n", "x;y|z&w"} {
		out, err := exec.Command("sh", "-c", "printf '%s' "+Quote(in)).Output()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if string(out) != in {
			t.Errorf("sh read %q back as %q", in, out)
		}
	}
}
