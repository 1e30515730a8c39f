package remote

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenRunLogPathAndModes(t *testing.T) {
	base := filepath.Join(t.TempDir(), ".diffuser", "ws", "runs", "20260101T000000Z-0a1b", "logs")
	r, err := OpenRunLog(base)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := filepath.Join(base, "steps.log")
	if r.Path() != want || r.Log(`step.brick_mount["a/b"]`, "node-1").Path() != want {
		t.Errorf("path %s, want %s", r.Path(), want)
	}
	for p, mode := range map[string]os.FileMode{base: 0o700, want: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"node-1":          "node-1",
		"../../etc":       ".._.._etc",
		"..":              "__",
		".":               "_",
		"":                "_",
		`a\b`:             "a_b",
		"c:/x":            "c__x",
		"tab\there\nline": "tab_here_line",
		"x[0]":            "x[0]",
	} {
		got := LogName(in)
		if got != want {
			t.Errorf("LogName(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(got, `/\`) || got == "." || got == ".." {
			t.Errorf("LogName(%q) = %q is not one safe path element", in, got)
		}
	}
}

// readInstance reads back the log of step on host from r's file.
func readInstance(t *testing.T, r *RunLog, step, host string) string {
	t.Helper()
	_, texts, err := InstanceLogs(r.Path(), step)
	if err != nil {
		t.Fatal(err)
	}
	return string(texts[LogName(host)])
}

func TestLogHeaderOutputFooter(t *testing.T) {
	r, err := OpenRunLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	l := r.Log("install", "h1")
	if err := l.Begin("apt-get install -y glusterfs-server\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("Reading package lists...\n")); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(1500 * time.Millisecond)
	if err := l.End(100, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Begin("echo a &&\necho b"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write([]byte("no newline")); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if err := l.End(-1, errors.New("connection lost")); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := "=== 2026-11-03T10:00:00Z $ apt-get install -y glusterfs-server\n" +
		"Reading package lists...\n" +
		"\n=== exit 100 after 1.5s\n" +
		"=== 2026-11-03T10:00:01Z $ echo a &&\n    echo b\n" +
		"no newline" +
		"\n=== error: connection lost after 1s\n"
	if got := readInstance(t, r, "install", "h1"); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	// The file reads as text: every record starts a line.
	b, _ := os.ReadFile(r.Path())
	if !strings.Contains(string(b), "@@ 10\th1\tinstall\nno newline\n@@ ") {
		t.Errorf("file:\n%s", b)
	}
	if _, err := l.Write([]byte("late")); err == nil {
		t.Error("write after Close succeeded")
	}

	// Reopening appends: a run that applies twice keeps both.
	r2, err := OpenRunLog(filepath.Dir(r.Path()))
	if err != nil {
		t.Fatal(err)
	}
	_ = r2.Log("install", "h1").Begin("again")
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readInstance(t, r2, "install", "h1"); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "$ again\n") {
		t.Errorf("reopened log:\n%s", got)
	}
}

// TestLogBoundsACommandsOutput: a command that prints without end (a host
// flooding its output) writes at most MaxCommandLog bytes of it to the
// run's log, the rest counted in its footer, and every write still
// succeeds (the command is not failed for it); the next command, also on
// the Switch path, logs from zero again. It used to write everything: a
// host could fill the operator's disk.
func TestLogBoundsACommandsOutput(t *testing.T) {
	r, err := OpenRunLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.maxCommandLog = 1000
	clock := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	l := r.Log("flood", "h1")
	_ = l.Begin("yes")
	chunk := []byte(strings.Repeat("y\n", 150)) // 300 bytes
	for i := 0; i < 10; i++ {
		if n, err := l.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	_ = l.Switch(1)
	_ = l.Begin("echo ok")
	_, _ = l.Write([]byte(strings.Repeat("o", 900)))
	_ = l.End(0, nil)
	_ = l.Begin("yes again")
	_, _ = l.Write([]byte(strings.Repeat("z", 2500)))
	_ = l.End(0, nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := "=== 2026-11-03T10:00:00Z $ yes\n" + strings.Repeat("y\n", 500) +
		"\n=== 2000 more bytes of output not logged (a command logs at most 1000)\n=== exit 1 after 0s\n" +
		"=== 2026-11-03T10:00:00Z $ echo ok\n" + strings.Repeat("o", 900) + "\n=== exit 0 after 0s\n" +
		"=== 2026-11-03T10:00:00Z $ yes again\n" + strings.Repeat("z", 1000) +
		"\n=== 1500 more bytes of output not logged (a command logs at most 1000)\n=== exit 0 after 0s\n"
	if got := readInstance(t, r, "flood", "h1"); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(r.Path()); err != nil || fi.Size() > 4000 {
		t.Errorf("the run log holds %v bytes (%v)", fi.Size(), err)
	}
}

// Instances writing at once, several steps on one host and one step on
// several hosts, each in chunks that split lines: every instance's log
// reads back whole and in order.
func TestRunLogConcurrentInstances(t *testing.T) {
	r, err := OpenRunLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	type inst struct{ step, host string }
	var insts []inst
	for _, h := range []string{"server[0]", "server[1]"} {
		for _, s := range []string{"packages", "glusterd", "mount", "step\twith\ttabs"} {
			insts = append(insts, inst{s, h})
		}
	}
	want := map[inst]string{}
	var wg sync.WaitGroup
	for _, in := range insts {
		var buf bytes.Buffer
		for i := range 300 {
			fmt.Fprintf(&buf, "%s on %s: line %d\n", in.step, in.host, i)
		}
		text := buf.Bytes()
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := r.Log(in.step, in.host)
			for b := text; len(b) > 0; {
				n := min(len(b), 7+len(b)%13) // split lines anywhere
				if _, err := l.Write(b[:n]); err != nil {
					t.Error(err)
					return
				}
				b = b[n:]
			}
		}()
		want[in] = string(text)
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for in, w := range want {
		if got := readInstance(t, r, in.step, in.host); got != w {
			t.Errorf("%s on %s: %d bytes read back, want %d", in.step, in.host, len(got), len(w))
		}
	}
	steps, hosts, err := LoggedInstances(r.Path())
	if err != nil || len(steps) != 4 || len(hosts["step_with_tabs"]) != 2 {
		t.Errorf("logged instances: %v %v %v", steps, hosts, err)
	}
}

// A failing command's footer, and what it printed, are in the file when
// End returns; a succeeding one's within FlushEvery.
func TestRunLogFlushes(t *testing.T) {
	r, err := OpenRunLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.flushEvery = 50 * time.Millisecond
	inFile := func(s string) bool {
		b, _ := os.ReadFile(r.Path())
		return strings.Contains(string(b), s)
	}
	ok := r.Log("ok", "h")
	_ = ok.Begin("true")
	_ = ok.End(0, nil)
	bad := r.Log("bad", "h")
	_ = bad.Begin("false")
	_, _ = bad.Write([]byte("E: no space left\n"))
	if inFile("no space left") {
		t.Fatal("output written before its command ended: not buffered")
	}
	_ = bad.End(1, nil)
	if !inFile("E: no space left\n") || !inFile("=== exit 1 after") {
		t.Fatal("a failure's output is not in the file when End returns")
	}
	_ = ok.Begin("later")
	deadline := time.Now().Add(5 * time.Second)
	for !inFile("$ later") {
		if time.Now().After(deadline) {
			t.Fatal("a buffered record did not reach the file")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A record cut short (the process ended while writing) reads as far as it
// goes; what is not a record is an error naming its line.
func TestScanRunLogCutAndMalformed(t *testing.T) {
	var got []string
	err := ScanRunLog(strings.NewReader("@@ 5\th\ts\nabc\n\n@@ 20\th\ts\ncut sh"), func(h, s string, text []byte) error {
		got = append(got, h+"/"+s+":"+string(text))
		return nil
	})
	if err != nil || len(got) != 2 || got[0] != "h/s:abc\n\n" || got[1] != "h/s:cut sh" {
		t.Errorf("cut log: %q %v", got, err)
	}
	err = ScanRunLog(strings.NewReader("@@ 4\th\ts\nabc\nnot a record\n"), func(string, string, []byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("malformed log: %v", err)
	}
}
