package engine

import (
	"errors"
	"strings"
	"testing"

	"diffuser/runner"
)

// A retry warning of a sensitive step tells the attempt and the exit
// status, never the error's text, which may quote the step's values or
// output; a step that is not sensitive keeps the error's first line.
func TestRetryMessageHidesSensitive(t *testing.T) {
	const secret = "RETRY-SECRET-77"
	for _, err := range []error{
		errors.New("writing " + secret + ": permission denied"),
		&runner.ExitError{What: "install " + secret, Status: 3, Tail: secret},
	} {
		msg := retryMessage(1, err, true)
		if strings.Contains(msg, secret) || !strings.Contains(msg, "hidden") {
			t.Errorf("sensitive: %q", msg)
		}
		if msg := retryMessage(2, err, false); !strings.Contains(msg, secret) || !strings.HasPrefix(msg, "attempt 2 failed") {
			t.Errorf("not sensitive: %q", msg)
		}
	}
	if msg := retryMessage(1, &runner.ExitError{What: "command", Status: 3}, true); !strings.Contains(msg, "exit status 3") {
		t.Errorf("the exit status is lost: %q", msg)
	}
}
