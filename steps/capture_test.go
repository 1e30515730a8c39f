package steps_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/remote"
	"diffuser/steps"
	"diffuser/steps/steptest"
)

// TestCaptureRefusesWhatStateCannotHold: what a host prints for a capture
// becomes a value in state and in other hosts' commands. Bytes that are not
// UTF-8 (recorded as U+FFFD, so the next plan saw the step that used them
// as changed for good), a NUL, and output past the limit (a runner keeps
// only the tail, which was recorded as if it were the whole) are refused
// naming the capture, without quoting the value; text is taken as printed.
func TestCaptureRefusesWhatStateCannotHold(t *testing.T) {
	if steps.MaxCaptureBytes >= remote.MaxCapture {
		t.Fatalf("MaxCaptureBytes %d is not below what remote keeps (%d): a cut capture would pass", steps.MaxCaptureBytes, remote.MaxCapture)
	}
	k := steps.RunKind{}
	args, err := steptest.DecodeArgs(k.Schema().Spec(), []byte(`{"command": "true", "capture": {"tok": "print-token"}}`))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t"
	for _, c := range []struct {
		name, stdout, want string
	}{
		{"latin1", secret + "caf\xe9", "is not UTF-8 text (the first invalid byte at byte 9)"},
		{"cut rune", secret + "\xe2\x82", "not UTF-8"},
		{"nul", secret + "\x00x", "NUL byte (at byte 6)"},
		{"past the limit", secret + strings.Repeat("a", steps.MaxCaptureBytes), "past the limit"},
		{"a runner's tail", strings.Repeat(secret, remote.MaxCapture/len(secret)), "past the limit"},
	} {
		r := steptest.New(steptest.Fact{Match: "print-token", Stdout: c.stdout + "\n"})
		out, err := k.Capture(context.Background(), r, args)
		if err == nil {
			t.Errorf("%s: accepted as %d bytes", c.name, len(out["tok"]))
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, `capture "tok"`) || !strings.Contains(msg, "base64") {
			t.Errorf("%s: error %q, want it to name the capture, say %q and how to encode", c.name, msg, c.want)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("%s: the error quotes the value: %q", c.name, msg)
		}
		// Apply refuses the same way (it captures after the command).
		if _, err := k.Apply(context.Background(), steptest.New(steptest.Fact{Match: "print-token", Stdout: c.stdout}), args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Apply: %v", c.name, err)
		}
	}
	for _, v := range []string{"", "plain", "ünïcödé ✓ 日本", "tab\there\nline two", strings.Repeat("x", steps.MaxCaptureBytes)} {
		r := steptest.New(steptest.Fact{Match: "print-token", Stdout: "  " + v + "\n\n"})
		out, err := k.Capture(context.Background(), r, args)
		if err != nil || out["tok"] != v {
			t.Errorf("capture of %d bytes: %v (got %d bytes)", len(v), err, len(out["tok"]))
		}
	}
}
