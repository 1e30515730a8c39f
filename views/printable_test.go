package views

import (
	"bytes"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/probe"
	"diffuser/state"
)

// TestPrintable: control characters but newline and tab, and bidi
// overrides, become escapes; everything else, other scripts included,
// stays as it is.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcödé, 日本語\tand a tab\nnext line": "plain text, ünïcödé, 日本語\tand a tab\nnext line",
		"\x1b]0;pwned\x07": `\x1b]0;pwned\a`,
		"\x1b[2J\x1b[1;1H": `\x1b[2J\x1b[1;1H`,
		"safe\rrm -rf /":   `safe\rrm -rf /`,
		"a\x00b\x7fc":      `a\x00b\x7fc`,
		"\u009b31m":        `\u009b31m`,   // the 8-bit CSI
		"\x9b31m raw":      `\x9b31m raw`, // the same byte alone: CSI to a terminal not in UTF-8
		"ok\xff\xfe\xc3é":  `ok\xff\xfe\xc3é`,
		"abc\u202edcba":    `abc\u202edcba`,
		"":                 "",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSummaryAndOutputsEscapeControl: what a host printed (a failed step's
// last output, its error) and what an output holds reach the terminal as
// text, never as escape sequences.
func TestSummaryAndOutputsEscapeControl(t *testing.T) {
	hostile := "ok\x1b]0;owned\x07\x1b[2J\rline\u202e"
	var out, errw bytes.Buffer
	o := engine.Outcome{Failures: []engine.FailureRecord{{Address: `step.x["server[0]"]`, Host: "server[0]", Exit: 1, Error: "failed: " + hostile, Tail: hostile + "\nmore"}},
		Warnings: []string{"retry: " + hostile}}
	Summary(&out, &errw, "Apply", o, nil)
	WriteOutputs(&out, map[string]state.Output{"o": {Value: hostile + "\nsecond line"}}, "  ", false)
	plain := plainLine(engine.Event{Type: engine.EvFail, Host: "server[0]", Step: "x", Message: hostile})
	// verify's detail is what its command printed on the host.
	var checks bytes.Buffer
	WriteChecks(&checks, []probe.Check{{Verify: "roundtrip", Name: "write", Host: "client[0]", Detail: "exit status 1: " + hostile}})
	// bench's client errors and filesystem type come from the host too.
	var bench, benchErr bytes.Buffer
	WriteBench(&bench, &benchErr, &probe.BenchReport{Clients: []probe.BenchClient{
		{Host: "client[0]", Path: "/mnt", FSType: "fuse" + hostile, Err: "probe: exit status 1: " + hostile}}})
	for name, s := range map[string]string{"stdout": out.String(), "stderr": errw.String(), "progress": plain, "verify": checks.String(),
		"bench": bench.String(), "bench errors": benchErr.String()} {
		if strings.ContainsAny(s, "\x1b\x07\r\u202e") {
			t.Errorf("%s holds a control character: %q", name, s)
		}
		if !strings.Contains(s, `\x1b]0;owned\a\x1b[2J`) {
			t.Errorf("%s does not show the escapes as text: %q", name, s)
		}
	}
	if !strings.Contains(out.String(), "  o = ok") || !strings.Contains(out.String(), "\nsecond line") {
		t.Errorf("outputs lost their lines: %q", out.String())
	}
}

// TestWriteRunCommandQuoted: show RUN prints the command line a word per
// argument, quoted as a shell reads it, with control characters escaped.
func TestWriteRunCommandQuoted(t *testing.T) {
	var b bytes.Buffer
	WriteRun(&b, RunInfo{ID: "r1", Workspace: "w", Operation: "apply", Status: "failed", Error: "boom\x1b[2J",
		Command: []string{"diffuser", "apply", "w.hcl", "-var", "s=a b\x1b]0;t\x07", "-var", "x=$(id)"}})
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters printed:\n%q", out)
	}
	for _, want := range []string{`diffuser apply w.hcl -var 's=a b\x1b]0;t\a' -var 'x=$(id)'`, `Error: boom\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}

// TestPrintableSource: a snippet's text keeps its length in bytes (the
// diagnostics' ranges are byte offsets) and its CRLF line ends; every
// control and bidi character becomes '?'s; text without any is returned
// as it is.
func TestPrintableSource(t *testing.T) {
	for in, want := range map[string]string{
		"plain ünïcödé\r\nnext\tline\n": "plain ünïcödé\r\nnext\tline\n",
		"a\x1b[2Jb\r\n":                 "a?[2Jb\r\n",
		"cr\roverwrite\r":               "cr?overwrite?",
		"rtl \u202e x \u009b y":         "rtl ??? x ?? y",
		"bell\x07 del\x7f":              "bell? del?",
		"raw \x9b31m \xff é":            "raw ?31m ? é",
	} {
		got := string(PrintableSource([]byte(in)))
		if got != want || len(got) != len(in) {
			t.Errorf("PrintableSource(%q) = %q, want %q", in, got, want)
		}
	}
	b := []byte("no control here\r\n")
	if got := PrintableSource(b); &got[0] != &b[0] {
		t.Error("text without control characters was copied")
	}
}
