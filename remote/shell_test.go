package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"diffuser/runner"
)

// TestShellRunsManyCommandsInOneSession: successive commands reuse one
// shell: one session on the server for 20 commands.
func TestShellRunsManyCommandsInOneSession(t *testing.T) {
	forDrivers(t, testShellRunsManyCommandsInOneSession)
}

func testShellRunsManyCommandsInOneSession(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	for i := range 20 {
		res, err := c.Run(context.Background(), fmt.Sprintf("echo %d", i), runner.Options{})
		if err != nil || res.Exit != 0 || res.Stdout != fmt.Sprintf("%d\n", i) {
			t.Fatalf("run %d: %+v %v", i, res, err)
		}
	}
	if got := sessionsRan(s.log.String()); got != 1 {
		t.Errorf("sshd started %d commands for 20 runs, want 1 shell", got)
	}
}

// TestShellHostileCommandText: text the driver loop must never interpret
// reaches sh -c unchanged, and the shell survives it.
func TestShellHostileCommandText(t *testing.T) { forDrivers(t, testShellHostileCommandText) }

func testShellHostileCommandText(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	texts := append([]string{}, hostile...)
	texts = append(texts,
		"diffuser-00000000000000000000000000000000",
		"diffuser-00000000000000000000000000000000 0",
		shellReady,
		"line1\n\nline3\n",
		"trailing backslash \\",
		"\\\n",
		"  leading and trailing spaces  ",
		"IFS=x; read",
		"\r\n",
		"\x01\x02\xff",
		strings.Repeat("x", 20000),
	)
	for _, text := range texts {
		// printf '%s' of a quoted word prints the text exactly.
		res, err := c.Run(ctx, "printf '%s' "+ShellQuote(text), runner.Options{})
		if err != nil || res.Exit != 0 || res.Stdout != text {
			t.Errorf("text %q: got %+v, %v", text, res, err)
		}
	}
	// A script whose lines look like the protocol: each is its own line of
	// the script, run in order.
	script := "echo a\ndiffuser-x diffuser-y\necho b\n"
	res, err := c.Run(ctx, script, runner.Options{})
	if err != nil || res.Stdout != "a\nb\n" || !strings.Contains(res.Stderr, "diffuser-x") || res.Exit != 0 {
		t.Errorf("protocol-like lines: %+v, %v", res, err)
	}
	if got := sessionsRan(s.log.String()); got != 1 {
		t.Errorf("sshd started %d commands, want 1 shell for all", got)
	}
}

// TestShellOutputs: binary output, no trailing newline, stderr apart from
// stdout, huge output capped, the log getting everything.
func TestShellOutputs(t *testing.T) { forDrivers(t, testShellOutputs) }

func testShellOutputs(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	res, err := c.Run(ctx, `printf '\000\001\377\nx'; printf 'e\000' >&2; exit 4`, runner.Options{})
	if err != nil || res.Exit != 4 || res.Stdout != "\x00\x01\xff\nx" || res.Stderr != "e\x00" {
		t.Errorf("binary: %+v %v", res, err)
	}
	var log bytes.Buffer
	res, err = c.Run(ctx, "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo done >&2", runner.Options{Output: &log})
	if err != nil || res.Exit != 0 {
		t.Fatalf("huge: %v %+v", err, res.Exit)
	}
	if len(res.Stdout) != MaxCapture || res.Stderr != "done\n" || !strings.HasSuffix(res.Stdout, "aaa\n") {
		t.Errorf("huge: kept %d bytes of stdout (want %d), stderr %q", len(res.Stdout), MaxCapture, res.Stderr)
	}
	if log.Len() != 3000000+1+5 {
		t.Errorf("log got %d bytes, want %d", log.Len(), 3000000+1+5)
	}
	// The output token of a previous command printed by this one is plain
	// output: only this command's token ends it.
	res, err = c.Run(ctx, "echo diffuser-0123456789abcdef0123456789abcdef 0; echo diffuser-0123456789abcdef0123456789abcdef >&2", runner.Options{})
	if err != nil || res.Stdout != "diffuser-0123456789abcdef0123456789abcdef 0\n" || res.Stderr != "diffuser-0123456789abcdef0123456789abcdef\n" {
		t.Errorf("token-like output: %+v %v", res, err)
	}
}

// TestShellStdin: a command reading stdin gets end of file at once and
// cannot eat the next command; a command given stdin runs in a session.
func TestShellStdin(t *testing.T) { forDrivers(t, testShellStdin) }

func testShellStdin(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	res, err := c.Run(ctx, "cat; read x; echo read=$? x=$x", runner.Options{})
	if err != nil || res.Stdout != "read=1 x=\n" {
		t.Fatalf("reading stdin: %+v %v", res, err)
	}
	res, err = c.Run(ctx, "echo next", runner.Options{})
	if err != nil || res.Stdout != "next\n" {
		t.Fatalf("after: %+v %v", res, err)
	}
	res, err = c.Run(ctx, "cat", runner.Options{Stdin: strings.NewReader("given\n")})
	if err != nil || res.Stdout != "given\n" {
		t.Fatalf("with stdin: %+v %v", res, err)
	}
	if got := sessionsRan(s.log.String()); got != 2 {
		t.Errorf("sshd started %d commands, want 2 (a shell, a session for stdin)", got)
	}
}

// TestShellTimeoutKeepsShell: a timed-out command is killed with its
// children; the same shell runs the next command.
func TestShellTimeoutKeepsShell(t *testing.T) { forDrivers(t, testShellTimeoutKeepsShell) }

func testShellTimeoutKeepsShell(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	// A fractional duration only this test uses, so waitGone finds it.
	marker := fmt.Sprintf("%d.%03d", 500+time.Now().Nanosecond()%1000, time.Now().Nanosecond()%983)
	start := time.Now()
	// A background child and a foreground one: both die with the group.
	res, err := c.Run(ctx, "echo started; sleep "+marker+" & sleep "+marker+"; wait", runner.Options{Timeout: 500 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || res.Exit != -1 || res.Stdout != "started\n" {
		t.Fatalf("timeout: %+v %v", res, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("timeout took %s", d)
	}
	waitGone(t, "sleep", marker)
	res, err = c.Run(ctx, "echo again", runner.Options{})
	if err != nil || res.Stdout != "again\n" {
		t.Fatalf("after timeout: %+v %v", res, err)
	}
	// The shell and the kill (sent in a session of its own); a third
	// would be a new shell.
	if got := sessionsRan(s.log.String()); got != 2 {
		t.Errorf("sshd started %d commands, want 2 (the shell, the kill): the shell outlives the timeout", got)
	}
}

// TestShellDiesMidCommand: a command that kills its shell is an error
// (it may have run in part); the next command gets a new shell.
func TestShellDiesMidCommand(t *testing.T) {
	slowInShort(t)
	forDrivers(t, testShellDiesMidCommand)
}

func testShellDiesMidCommand(t *testing.T, driver string) {
	_, s, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	if _, err := c.Run(ctx, "true", runner.Options{}); err != nil {
		t.Fatal(err)
	}
	// The command's parent is the driver loop.
	res, err := c.Run(ctx, "echo before; kill -KILL $PPID; sleep 1; echo after", runner.Options{Timeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "may have run in part") {
		t.Fatalf("shell killed: want an error saying it may have run in part, got %+v %v", res, err)
	}
	res, err = c.Run(ctx, "echo next", runner.Options{})
	if err != nil || res.Stdout != "next\n" {
		t.Fatalf("after the shell died: %+v %v", res, err)
	}
	if got := sessionsRan(s.log.String()); got != 2 {
		t.Errorf("sshd started %d commands, want 2 shells", got)
	}
}

// TestShellCancelWhileOthersRun: cancelling one of several concurrent
// commands on a host leaves the others' results intact.
func TestShellCancelWhileOthersRun(t *testing.T) { forDrivers(t, testShellCancelWhileOthersRun) }

func testShellCancelWhileOthersRun(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, "sleep 30", runner.Options{})
		errc <- err
	}()
	type out struct {
		res runner.Result
		err error
	}
	outs := make(chan out, 4)
	for i := range 4 {
		go func() {
			res, err := c.Run(context.Background(), fmt.Sprintf("sleep 0.5; echo %d; echo e%d >&2", i, i), runner.Options{})
			outs <- out{res, err}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for range 4 {
		o := <-outs
		if o.err != nil || len(o.res.Stdout) != 2 || o.res.Stderr != "e"+o.res.Stdout[:1]+"\n" {
			t.Errorf("concurrent: %+v %v", o.res, o.err)
		}
	}
}

// forDrivers runs test with each loop a remote shell may run: bash's
// (with job control) and the setsid one of hosts without bash.
func forDrivers(t *testing.T, test func(t *testing.T, driver string)) {
	for _, d := range []struct{ name, script string }{{"bash", driverScript}, {"setsid", setsidDriver}} {
		t.Run(d.name, func(t *testing.T) { test(t, d.script) })
	}
}

// newDriverClient is newTestClient whose shells run driver.
func newDriverClient(t *testing.T, opt sshdOptions, driver string) (*testEnv, *testSSHD, *Client) {
	t.Helper()
	env, s, c := newTestClient(t, opt)
	c.driver = driver
	return env, s, c
}

// TestShellDriverRunsSh: with either loop the command runs under sh (not
// the loop's bash), in a process group of its own, a child of the loop.
func TestShellDriverRunsSh(t *testing.T) { forDrivers(t, testShellDriverRunsSh) }

func testShellDriverRunsSh(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	ctx := context.Background()
	want := map[string]string{driverScript: "bash", setsidDriver: "sh"}[driver]
	for range 3 {
		res, err := c.Run(ctx, `echo "bash=${BASH_VERSION:-none}"; read -r _ _ _ _ pgid _ </proc/$$/stat; [ "$pgid" = $$ ] && echo own-group; read -r _ parent _ </proc/$PPID/stat; echo "parent=$parent"`, runner.Options{})
		if err != nil || res.Exit != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		if !strings.Contains(res.Stdout, "bash=none\n") || !strings.Contains(res.Stdout, "own-group\n") {
			t.Errorf("want sh in a group of its own, got %q", res.Stdout)
		}
		// /proc/PID/stat's second field is (comm): dash shows as (sh) on
		// Debian only when sh is dash; accept any sh-like name for the setsid loop.
		if parent := strings.TrimSpace(strings.SplitAfter(res.Stdout, "parent=")[1]); want == "bash" && parent != "(bash)" ||
			want == "sh" && parent == "(bash)" {
			t.Errorf("the command's parent is %s, want the %s loop", parent, want)
		}
	}
}

// TestShellStoppedCommand: a command that is stopped and continued is
// waited for until it ends, with either loop.
func TestShellStoppedCommand(t *testing.T) { forDrivers(t, testShellStoppedCommand) }

func testShellStoppedCommand(t *testing.T, driver string) {
	_, _, c := newDriverClient(t, sshdOptions{}, driver)
	// The helper sends SIGCONT until the shell is gone: one SIGCONT sent
	// before a slow (loaded) shell stopped itself would leave it stopped.
	res, err := c.Run(context.Background(), "(while kill -0 $$ 2>/dev/null; do sleep 0.2; kill -CONT $$ 2>/dev/null; done) & kill -STOP $$; echo resumed; exit 4", runner.Options{Timeout: 20 * time.Second})
	if err != nil || res.Exit != 4 || res.Stdout != "resumed\n" {
		t.Fatalf("stopped and continued: %+v %v", res, err)
	}
}
