package remote

import (
	"os/exec"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"plain", "plain"},
		{"/etc/fstab", "/etc/fstab"},
		{"a-b_c.d:e,f@g%h+i", "a-b_c.d:e,f@g%h+i"},
		{"two words", "'two words'"},
		{"$(touch /tmp/pwned)", "'$(touch /tmp/pwned)'"},
		{"`id`", "'`id`'"},
		{"; rm -rf /", "'; rm -rf /'"},
		{"it's", `'it'"'"'s'`},
		{"'", `''"'"''`},
		{`"double"`, `'"double"'`},
		{"line1\nline2", "'line1\nline2'"},
		{"$HOME", "'$HOME'"},
		{"a=b", "a=b"}, // an argument: diffuser never quotes a word for the command's place
		{"~", "'~'"},
		{"*", "'*'"},
		{"back\\slash", "'back\\slash'"},
		{"-n", "-n"},
	} {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestShellQuoteRoundTrip has /bin/sh read quoted strings back.
func TestShellQuoteRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	inputs := append([]string{"\x01\x7f", "ünïcödé", "a\tb", "\\'\\", "!event", "$((1+1))", "-e"}, hostile...)
	for _, in := range inputs {
		out, err := exec.Command("sh", "-c", "printf '%s' "+ShellQuote(in)).Output()
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if string(out) != in {
			t.Errorf("sh read %q back as %q", in, out)
		}
	}
}

func TestIsEnvName(t *testing.T) {
	for name, want := range map[string]bool{
		"PATH": true, "_x1": true, "a": true,
		"": false, "1A": false, "A-B": false, "A B": false, "A;B": false, "A=B": false, "Ä": false,
	} {
		if got := isEnvName(name); got != want {
			t.Errorf("isEnvName(%q) = %v", name, got)
		}
	}
}
