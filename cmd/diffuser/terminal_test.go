package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"diffuser/cloud"
	"diffuser/views"
	"diffuser/workspace"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its controlling side and
// the terminal a program writes to; it skips the test where there is none.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening /dev/pts/%d: %v", n, err)
	}
	t.Cleanup(func() { tty.Close() })
	_ = unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120})
	if !views.IsTerminal(tty) {
		t.Skip("the pseudo-terminal is not seen as a terminal")
	}
	return ptmx, tty
}

// TestProgressAutoHonoursNoColor: on a real terminal --progress=auto
// chooses the live view, unless NO_COLOR is set (to anything but ""),
// TERM is dumb or -no-color is given: then plain timestamped lines. Off a
// terminal it is always plain.
func TestProgressAutoHonoursNoColor(t *testing.T) {
	_, tty := openPTY(t)
	for _, c := range []struct {
		env     map[string]string
		noColor bool
		out     io.Writer
		want    string
	}{
		{env: map[string]string{"TERM": "xterm-256color"}, out: tty, want: views.ProgressTTY},
		{env: map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1"}, out: tty, want: views.ProgressPlain},
		{env: map[string]string{"NO_COLOR": ""}, out: tty, want: views.ProgressTTY},
		{env: map[string]string{"TERM": "dumb"}, out: tty, want: views.ProgressPlain},
		{noColor: true, out: tty, want: views.ProgressPlain},
		{out: &bytes.Buffer{}, want: views.ProgressPlain},
	} {
		a := &app{stdout: c.out, getenv: func(k string) string { return c.env[k] }}
		a.flags.noColor = c.noColor
		got, err := views.ProgressMode(views.ProgressAuto, a.terminal())
		if err != nil || got != c.want {
			t.Errorf("env %v, -no-color %v, terminal %v: --progress=auto chose %q (%v), want %q",
				c.env, c.noColor, c.out == tty, got, err, c.want)
		}
	}
}

// TestNoColorApplyOnATerminal: a whole apply writing to a terminal with
// NO_COLOR set prints plain progress lines, no escape sequences.
func TestNoColorApplyOnATerminal(t *testing.T) {
	ptmx, tty := openPTY(t)
	e := newSimCLI(t, nil)
	recipe := e.write("misc/main.hcl", miscRecipe)
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx) // until the terminal side is closed
		read <- string(b)
	}()
	var errb strings.Builder
	a := &app{stdin: strings.NewReader(""), stdout: tty, stderr: &errb,
		getenv: func(k string) string { return map[string]string{"NO_COLOR": "1", "TERM": "xterm-256color"}[k] },
		env:    workspace.Env{Factories: map[string]cloud.Factory{"sim": e.cloud.Factory()}, Connector: e.cloud.Connector()}}
	code := a.execute(context.Background(), []string{"--data-dir", e.data, "apply", recipe, "-provider", "sim", "-auto-approve"})
	tty.Close()
	out := <-read
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errb.String())
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("escape sequences on a NO_COLOR terminal:\n%q", out)
	}
	if !strings.Contains(out, "server[1] hello: started") || !strings.Contains(out, "Apply finished") {
		t.Errorf("no plain progress lines:\n%s", out)
	}
}
