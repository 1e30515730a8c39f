package remote

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenLogPathAndModes(t *testing.T) {
	base := filepath.Join(t.TempDir(), ".diffuser", "ws", "runs", "20260101T000000Z-0a1b", "logs")
	l, err := OpenLog(base, `step.brick_mount["a/b"]`, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := filepath.Join(base, `step.brick_mount["a_b"]`, "node-1.log")
	if l.Path() != want {
		t.Errorf("path %s, want %s", l.Path(), want)
	}
	for p, mode := range map[string]os.FileMode{
		base: 0o700, filepath.Dir(want): 0o700, want: 0o600,
	} {
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
	// The result always stays under base.
	base := t.TempDir()
	l, err := OpenLog(base, "../..", "../../../tmp/evil")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if rel, err := filepath.Rel(base, l.Path()); err != nil || !filepath.IsLocal(rel) {
		t.Errorf("log escaped base: %s", l.Path())
	}
}

func TestLogHeaderOutputFooter(t *testing.T) {
	base := t.TempDir()
	l, err := OpenLog(base, "install", "h1")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }
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
	clock = clock.Add(time.Second)
	if err := l.End(-1, errors.New("connection lost")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := "=== 2026-11-03T10:00:00Z $ apt-get install -y glusterfs-server\n" +
		"Reading package lists...\n" +
		"\n=== exit 100 after 1.5s\n" +
		"=== 2026-11-03T10:00:01Z $ echo a &&\n    echo b\n" +
		"\n=== error: connection lost after 1s\n"
	if string(got) != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if _, err := l.Write([]byte("late")); err == nil {
		t.Error("write after Close succeeded")
	}

	// Reopening truncates: a log holds one apply.
	l2, err := OpenLog(base, "install", "h1")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if fi, _ := os.Stat(l2.Path()); fi.Size() != 0 {
		t.Errorf("reopened log has %d bytes", fi.Size())
	}
}
