package steptest

import (
	"bytes"
	"errors"
	"os/exec"

	"diffuser/runner"
)

// RunCmd runs c (a real command, such as /bin/sh -c with a kind's script,
// set up with the caller's directory, environment and stdin) as a host
// would for a Runner: its output captured, a non-zero exit a Result, not
// an error.
func RunCmd(c *exec.Cmd) (runner.Result, error) {
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return runner.Result{Exit: ee.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}, nil
	}
	return runner.Result{Stdout: stdout.String(), Stderr: stderr.String()}, err
}
