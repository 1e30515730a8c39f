package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "''"},
		{"glusterd", "glusterd"},
		{"/dev/loop3", "/dev/loop3"},
		{"10.0.0.2:/gv0", "10.0.0.2:/gv0"},
		{"a b", "'a b'"},
		{"it's", `'it'"'"'s'`},
		{"$(touch /tmp/pwned)", "'$(touch /tmp/pwned)'"},
		{"; rm -rf /", "'; rm -rf /'"},
		{"`id`", "'`id`'"},
		{"a\nb", "'a\nb'"},
	} {
		if got := ShellQuote(c.in); got != c.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestShellQuoteRoundTrip hands quoted hostile words to a real sh: each must
// come back as exactly one argument, and nothing in it may run.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	for _, v := range []string{
		"$(touch " + pwned + ")",
		"`touch " + pwned + "`",
		"; touch " + pwned,
		"x' ; touch " + pwned + "; echo '",
		"a\nb\ttab  two spaces",
		"${IFS}*?[a]~ \\ \" ' # &|<>",
		"",
	} {
		// One printf argument gives one [...]; a word split by the shell would give several.
		cmd := exec.Command(sh, "-c", "printf '[%s]' "+ShellQuote(v))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh -c %q: %v", cmd.Args[2], err)
		}
		if got, want := string(out), "["+v+"]"; got != want {
			t.Errorf("sh saw %q for %q, want %q", got, v, want)
		}
		if _, err := os.Stat(pwned); err == nil {
			t.Fatalf("quoting %q let the shell run it", v)
		}
	}
}
