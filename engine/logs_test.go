package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/remote"
	"diffuser/runner"
)

// writingRunner writes out to opt.Output in chunks, as a command's output
// arrives.
type writingRunner struct {
	runner.Runner
	out []byte
}

func (r writingRunner) Run(_ context.Context, _ string, opt runner.Options) (runner.Result, error) {
	for b := r.out; len(b) > 0; {
		n := min(len(b), 4096)
		if opt.Output != nil {
			if _, err := opt.Output.Write(b[:n]); err != nil {
				return runner.Result{Exit: -1}, err
			}
		}
		b = b[n:]
	}
	return runner.Result{Stdout: string(r.out)}, nil
}

func (r writingRunner) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// instanceLog closes logs and reads back the log of step on host.
func instanceLog(t *testing.T, logs *runLogs, step, host string) string {
	t.Helper()
	if err := logs.close(); err != nil {
		t.Fatal(err)
	}
	_, texts, err := remote.InstanceLogs(filepath.Join(logs.dir, remote.RunLogName), step)
	if err != nil {
		t.Fatal(err)
	}
	return string(texts[remote.LogName(host)])
}

// A step instance's commands, uploads and output land in its log in
// order, whole, however much output there is; the file is the run's.
func TestLoggedRunnerCommandsInOrder(t *testing.T) {
	for _, size := range []int{0, 100, 300_000} {
		logs := &runLogs{dir: t.TempDir()}
		out := bytes.Repeat([]byte("0123456789abcdef\n"), size/17+1)[:size]
		lr := &loggedRunner{r: writingRunner{out: out}, logs: logs, step: "s", host: "h[0]"}
		if _, err := lr.Run(context.Background(), "echo first", runner.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := lr.Run(context.Background(), "echo second", runner.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := lr.Upload(context.Background(), strings.NewReader("x"), "/etc/x", 0o644); err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(logs.dir, "steps.log"); lr.path() != want {
			t.Fatalf("log path %q, want %q", lr.path(), want)
		}
		got := instanceLog(t, logs, "s", "h[0]")
		i1 := strings.Index(got, "$ echo first\n")
		i2 := strings.Index(got, "$ echo second\n")
		iu := strings.Index(got, "$ upload /etc/x\n")
		if i1 < 0 || i2 < i1 || iu < i2 {
			t.Fatalf("size %d: headers missing or out of order:\n%.300s", size, got)
		}
		if size > 0 && (!strings.Contains(got[i1:i2], string(out)) || !strings.Contains(got[i2:iu], string(out))) {
			t.Fatalf("size %d: the output is not whole in each command's part of the log", size)
		}
		if strings.Count(got, "=== exit 0 after") != 3 {
			t.Fatalf("size %d: want three exit lines:\n%.300s", size, got[len(got)-min(len(got), 300):])
		}
	}
}

// An apply whose instances run no command creates no log file; one
// whose instances do creates one, whatever their number.
func TestRunLogsOneFileOpenedOnFirstCommand(t *testing.T) {
	logs := &runLogs{dir: filepath.Join(t.TempDir(), "logs")}
	lr := &loggedRunner{r: writingRunner{}, logs: logs, step: "s", host: "h"}
	if lr.path() != "" {
		t.Fatal("an instance that ran nothing has a log path")
	}
	if _, err := os.Stat(logs.dir); !os.IsNotExist(err) {
		t.Fatalf("log directory made before any command: %v", err)
	}
	for i := range 50 {
		lr := &loggedRunner{r: writingRunner{out: []byte("hi\n")}, logs: logs, step: fmt.Sprintf("s%d", i%5), host: fmt.Sprintf("h%d", i)}
		if _, err := lr.Run(context.Background(), "true", runner.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := logs.close(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(logs.dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != "steps.log" {
		t.Fatalf("log directory holds %v (%v), want steps.log only", ents, err)
	}
}

// What a failed command printed is in the file when its failure is
// reported, before the log is closed or its buffer's time is up.
func TestLoggedRunnerFailureWrittenBeforeReported(t *testing.T) {
	logs := &runLogs{dir: t.TempDir()}
	lr := &loggedRunner{r: echoRunner{exits: map[string]int{"apt-get install x": 100}}, logs: logs, step: "s", host: "h"}
	res, err := lr.Run(context.Background(), "apt-get install x", runner.Options{})
	if err != nil || res.Exit != 100 {
		t.Fatal(res, err)
	}
	b, err := os.ReadFile(filepath.Join(logs.dir, "steps.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "out of apt-get install x\n") || !strings.Contains(string(b), "=== exit 100 after") {
		t.Fatalf("the failed command's output is not in the file yet:\n%s", b)
	}
	_ = logs.close()
}

// A sensitive step's log holds neither its command nor its output, only
// its exit status.
func TestLoggedRunnerSensitiveFirstCommand(t *testing.T) {
	logs := &runLogs{dir: t.TempDir()}
	lr := &loggedRunner{r: writingRunner{out: []byte("s3cret\n")}, sensitive: true, logs: logs, step: "s", host: "h"}
	if _, err := lr.Run(context.Background(), "echo s3cret", runner.Options{}); err != nil {
		t.Fatal(err)
	}
	got := instanceLog(t, logs, "s", "h")
	b, err := os.ReadFile(filepath.Join(logs.dir, "steps.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cret") || !strings.Contains(got, "(sensitive command hidden)") || !strings.Contains(got, "=== exit 0 after") {
		t.Fatalf("sensitive log:\n%s", b)
	}
}

// A log directory that cannot be made does not stop a step: it runs
// unlogged, and closing the logs says why (the apply warns with it).
func TestRunLogsUnwritableStillRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &runLogs{dir: filepath.Join(file, "logs")}
	lr := &loggedRunner{r: echoRunner{}, logs: logs, step: "s", host: "h"}
	res, err := lr.Run(context.Background(), "true", runner.Options{})
	if err != nil || res.Stdout != "out of true\n" {
		t.Fatalf("the command did not run: %+v %v", res, err)
	}
	if lr.path() != "" {
		t.Errorf("an unlogged instance names a log: %s", lr.path())
	}
	if err := logs.close(); err == nil || !strings.Contains(err.Error(), "creating log directory") {
		t.Errorf("close: %v, want why the log could not be opened", err)
	}
}
