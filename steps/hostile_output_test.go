package steps

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"diffuser/runner"
)

// answerRunner answers every command with stdout.
type answerRunner struct{ stdout string }

func (r answerRunner) Run(context.Context, string, runner.Options) (runner.Result, error) {
	return runner.Result{Stdout: r.stdout}, nil
}

func (answerRunner) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// TestUnexpectedOutputBounded: a host answering a file's or a mount's
// look-up with a megabyte of escape sequences fails the step with an
// error that quotes the start of it only (and escaped), not the whole:
// the error is printed and kept in state as the instance's error.
func TestUnexpectedOutputBounded(t *testing.T) {
	big := strings.Repeat("\x1b[2J\x1b]0;owned\x07 x y z\n", 1<<16)
	r := answerRunner{stdout: big}
	_, ferr := readFileFacts(context.Background(), r, "/etc/x.conf")
	_, merr := mountArgs{target: "/mnt/x"}.readMount(context.Background(), r)
	for _, err := range []error{ferr, merr} {
		if err == nil {
			t.Fatal("accepted")
		}
		msg := err.Error()
		if len(msg) > 2048 || strings.Contains(msg, "\x1b") || !strings.Contains(msg, "bytes in all)") {
			t.Errorf("error of %d bytes: %.300q", len(msg), msg)
		}
	}
}
