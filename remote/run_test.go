package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/runner"
)

// hostile are values a shell must not interpret.
var hostile = []string{
	"$(touch /tmp/pwned)",
	"`id`",
	"; rm -rf /",
	"it's",
	`say "hi"`,
	"a\nb\n",
	"tab\there",
	"",
	"$HOME",
	"\\",
	"* ?",
	"'; exit 7; '",
}

func newTestClient(t *testing.T, opt sshdOptions) (*testEnv, *testSSHD, *Client) {
	t.Helper()
	env := newTestEnv(t)
	s := env.newSSHD(t, opt)
	p := NewPool()
	t.Cleanup(func() { _ = p.Close() })
	c, err := p.Connect(context.Background(), env.config(s))
	if err != nil {
		t.Fatal(err)
	}
	return env, s, c
}

func TestRunExitAndOutput(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	ctx := context.Background()
	for _, tc := range []struct {
		cmd            string
		exit           int
		stdout, stderr string
	}{
		{"echo out; echo err >&2", 0, "out\n", "err\n"},
		{"printf 'no newline'; exit 3", 3, "no newline", ""},
		{"echo oops >&2; false", 1, "", "oops\n"},
		{"kill -TERM $$", 128 + 15, "", ""},
		{"exit 255", 255, "", ""},
		// The first line printed is the command's, not eaten by the
		// process group header.
		{"echo diffuser-pgid:1", 0, "diffuser-pgid:1\n", ""},
	} {
		res, err := c.Run(ctx, tc.cmd, runner.Options{})
		if err != nil {
			t.Fatalf("%q: %v", tc.cmd, err)
		}
		if res.Exit != tc.exit || res.Stdout != tc.stdout || res.Stderr != tc.stderr {
			t.Errorf("%q: got exit %d stdout %q stderr %q; want %d %q %q",
				tc.cmd, res.Exit, res.Stdout, res.Stderr, tc.exit, tc.stdout, tc.stderr)
		}
	}
}

func TestRunEnvHostileValues(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	env := map[string]string{}
	var want strings.Builder
	for i, v := range hostile {
		name := fmt.Sprintf("V%02d", i)
		env[name] = v
		want.WriteString("[" + v + "]")
	}
	// printf's %s prints each value verbatim; sorted names fix the order.
	var cmd strings.Builder
	cmd.WriteString("printf '[%s]'")
	for i := range hostile {
		fmt.Fprintf(&cmd, ` "$V%02d"`, i)
	}
	cmd.WriteString("; test ! -e /tmp/pwned")
	res, err := c.Run(context.Background(), cmd.String(), runner.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exit != 0 {
		t.Fatalf("exit %d (is /tmp/pwned there?), stderr %q", res.Exit, res.Stderr)
	}
	if res.Stdout != want.String() {
		t.Errorf("stdout\n got %q\nwant %q", res.Stdout, want.String())
	}

	_, err = c.Run(context.Background(), "true", runner.Options{Env: map[string]string{"A;B": "x"}})
	if err == nil || !strings.Contains(err.Error(), "not a shell identifier") {
		t.Errorf("bad env name: err = %v, want 'not a shell identifier'", err)
	}
}

func TestRunStdin(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	in := strings.Repeat("line of input\n", 10000)
	res, err := c.Run(context.Background(), "wc -c; cat >/dev/null", runner.Options{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.Stdout); got != fmt.Sprint(len(in)) {
		t.Errorf("remote counted %s bytes, sent %d", got, len(in))
	}
	// No Stdin: the command reads EOF at once instead of hanging.
	res, err = c.Run(context.Background(), "cat; echo done", runner.Options{Timeout: 10 * time.Second})
	if err != nil || res.Stdout != "done\n" {
		t.Errorf("without stdin: %+v, %v", res, err)
	}
	// Stdin the command never reads does not fail the command.
	res, err = c.Run(context.Background(), "echo skipped", runner.Options{Stdin: strings.NewReader(strings.Repeat("x", 1<<20))})
	if err != nil || res.Exit != 0 {
		t.Errorf("unread stdin: %+v, %v", res, err)
	}
}

func TestRunOutputStreamAndCap(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	var mu sync.Mutex
	var streamed bytes.Buffer
	out := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return streamed.Write(p)
	})
	// 3 MiB of stdout ending in a marker, and a line on stderr.
	res, err := c.Run(context.Background(),
		"head -c 3145728 /dev/zero | tr '\\0' x; echo END; echo warn >&2", runner.Options{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != MaxCapture {
		t.Errorf("captured %d bytes of stdout, want the last %d", len(res.Stdout), MaxCapture)
	}
	if !strings.HasSuffix(res.Stdout, "xxEND\n") {
		t.Errorf("captured stdout does not end with the last output: %q", res.Stdout[len(res.Stdout)-20:])
	}
	if res.Stderr != "warn\n" {
		t.Errorf("stderr %q", res.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := streamed.Len(), 3145728+len("END\n")+len("warn\n"); got != want {
		t.Errorf("Output received %d bytes, want all %d", got, want)
	}
	if strings.Contains(streamed.String(), pgidPrefix) {
		t.Error("Output received the process group header")
	}
}

func TestRunOutputWriteErrorReported(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	broken := writerFunc(func([]byte) (int, error) { return 0, errors.New("disk full") })
	res, err := c.Run(context.Background(), "echo a; echo b; exit 4", runner.Options{Output: broken})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the Output write error", err)
	}
	if res.Exit != 4 || res.Stdout != "a\nb\n" {
		t.Errorf("the command must still run to its end: %+v", res)
	}
}

func TestRunTimeoutKillsCommand(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	marker := fmt.Sprintf("%d.%03d", 300+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%997)
	start := time.Now()
	// The sleep is a child of sh: killing sh alone would leave it running.
	res, err := c.Run(context.Background(), "echo started; sleep "+marker+"; echo finished",
		runner.Options{Timeout: 500 * time.Millisecond})
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Fatalf("err = %v, want a timeout wrapping context.DeadlineExceeded", err)
	}
	if res.Stdout != "started\n" {
		t.Errorf("output so far: %q", res.Stdout)
	}
	if elapsed >= 500*time.Millisecond+termGrace {
		t.Errorf("Run returned after %s: SIGTERM did not end the command", elapsed)
	}
	waitGone(t, "sleep", marker)
	// The connection is still usable.
	if res, err := c.Run(context.Background(), "echo ok", runner.Options{}); err != nil || res.Stdout != "ok\n" {
		t.Errorf("after timeout: %+v %v", res, err)
	}
}

func TestRunContextCancel(t *testing.T) {
	slowInShort(t)
	_, _, c := newTestClient(t, sshdOptions{})
	marker := fmt.Sprintf("%d.%03d", 400+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%991)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	// TERM is trapped: only the SIGKILL that follows ends it.
	_, err := c.Run(ctx, "trap '' TERM; sleep "+marker, runner.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	waitGone(t, "sleep", marker)
}

// A command cancelled after it was sent but before it printed its process
// group (a loaded host: here sshd's ForceCommand starts it a second late)
// is still killed: Run waits up to pgidGrace for the group. It closed the
// session only, and the command ran on after Run returned (CI, under
// load: TestRunContextCancel's sleep outlived the cancel).
func TestRunCancelledBeforeItSaysItsGroup(t *testing.T) {
	slowInShort(t)
	slow := filepath.Join(t.TempDir(), "slow-start")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nsleep 1\nexec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, shells := range []bool{false, true} {
		t.Run(fmt.Sprintf("shells=%v", shells), func(t *testing.T) {
			_, _, c := newTestClient(t, sshdOptions{Extra: "ForceCommand " + slow + "\n"})
			c.cfg.NoShell = !shells
			marker := fmt.Sprintf("%d.%03d", 500+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%983)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			// TERM is trapped: only the SIGKILL that follows ends it.
			_, err := c.Run(ctx, "trap '' TERM; sleep "+marker, runner.Options{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			waitGone(t, "sleep", marker)
		})
	}
}

func TestRunSudoWrapping(t *testing.T) {
	env, s, c := newTestClient(t, sshdOptions{})
	requireRootSudo(t, env)
	if got := c.wrap("echo 'x'"); got != `sh -c 'echo '"'"'x'"'"''` {
		t.Errorf("root login: wrap = %s, want no sudo", got)
	}
	// Force the path a non-root user with Sudo takes.
	c.sudo = true
	if got := c.wrap("id -u"); got != "sudo -n sh -c 'id -u'" {
		t.Errorf("wrap = %s", got)
	}
	res, err := c.Run(context.Background(), `printf '%s|%s' "$(id -u)" "$X"`,
		runner.Options{Env: map[string]string{"X": "$(touch /tmp/pwned) '\""}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Exit != 0 || res.Stdout != `0|$(touch /tmp/pwned) '"` {
		t.Errorf("through sudo: %+v (sshd log:\n%s)", res, s.log.String())
	}
}

// waitGone fails unless no process runs with args name, arg within 3s.
func waitGone(t *testing.T, name, arg string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for processWithArg(arg) {
		if time.Now().After(deadline) {
			// Not left behind by the failing test.
			_ = exec.Command("pkill", "-KILL", "-f", name+" "+arg).Run()
			t.Fatalf("%s %s still runs after the command was stopped", name, arg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestRunConnectionLostIsAnError(t *testing.T) {
	_, s, c := newTestClient(t, sshdOptions{})
	go func() {
		time.Sleep(500 * time.Millisecond)
		s.stop() // the host dies mid-command
	}()
	res, err := c.Run(context.Background(), "echo started; sleep 30", runner.Options{})
	if err == nil {
		t.Fatalf("lost connection reported as success: %+v", res)
	}
	if !strings.Contains(err.Error(), "may have run in part") {
		t.Errorf("err = %v, want it to say the command may have run in part", err)
	}
	if res.Exit == 0 {
		t.Errorf("exit 0 for a command whose status never came")
	}
}
