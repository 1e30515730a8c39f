package engine

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// The log file of a step instance is created while its first command
// runs: output that comes first (more than pendingMax of it too) lands in
// the file after the header, in order, and later commands append.
func TestLoggedRunnerFirstCommandDoesNotWaitForItsFile(t *testing.T) {
	for _, size := range []int{0, 100, pendingMax + 50_000} {
		dir := t.TempDir()
		out := bytes.Repeat([]byte("0123456789abcdef\n"), size/17+1)[:size]
		lr := &loggedRunner{r: writingRunner{out: out}, logDir: dir, step: "s", host: "h[0]"}
		if _, err := lr.Run(context.Background(), "echo first", runner.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := lr.Run(context.Background(), "echo second", runner.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := lr.Upload(context.Background(), strings.NewReader("x"), "/etc/x", 0o644); err != nil {
			t.Fatal(err)
		}
		path := lr.path()
		lr.close()
		if want := filepath.Join(dir, "s", "h[0].log"); path != want {
			t.Fatalf("log path %q, want %q", path, want)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
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

// A sensitive step's log holds neither its command nor its output.
func TestLoggedRunnerSensitiveFirstCommand(t *testing.T) {
	dir := t.TempDir()
	lr := &loggedRunner{r: writingRunner{out: []byte("s3cret\n")}, sensitive: true, logDir: dir, step: "s", host: "h"}
	if _, err := lr.Run(context.Background(), "echo s3cret", runner.Options{}); err != nil {
		t.Fatal(err)
	}
	lr.close()
	b, err := os.ReadFile(filepath.Join(dir, "s", "h.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "(sensitive command hidden)") {
		t.Fatalf("sensitive log:\n%s", b)
	}
}
