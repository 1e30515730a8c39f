package regfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadRefusesSpecialFilesAtOnce: a named pipe (which no one writes),
// a directory and a socket are refused without blocking, naming the path
// and what it is; a symbolic link to a regular file is read.
func TestReadRefusesSpecialFilesAtOnce(t *testing.T) {
	dir := t.TempDir()
	for kind, mk := range map[string]func(p string) error{
		"a named pipe": func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"a directory":  func(p string) error { return os.Mkdir(p, 0o700) },
		"a socket": func(p string) error {
			l, err := net.Listen("unix", p)
			if err == nil {
				t.Cleanup(func() { _ = l.Close() })
			}
			return err
		},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(kind, " ", "-"))
		if err := mk(p); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := Read(p, 1<<20); done <- err }()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || nr.Kind != kind || !strings.Contains(err.Error(), p+" is "+kind+", not a regular file") {
				t.Errorf("%s: %v", kind, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still blocked after 5s", kind)
		}
	}
}

func TestReadRegularAndLimits(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, link} {
		if b, err := Read(path, 5); err != nil || string(b) != "hello" {
			t.Errorf("Read(%s, 5) = %q, %v", path, b, err)
		}
	}
	if _, err := Read(p, 4); err == nil || !strings.Contains(err.Error(), p+" is 5 bytes, more than the 4") {
		t.Errorf("Read past the limit: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "none"), 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestReadDeviceNoRemoveAdvice: /dev/zero given for a file (an ssh_config
// setting, a key file) is refused at once, and the error does not tell
// the operator, maybe root, to rm /dev/zero; the size bound's error does
// not claim diffuser wrote the file (these are the operator's files).
func TestReadDeviceNoRemoveAdvice(t *testing.T) {
	_, err := Read(os.DevNull, 1<<20)
	var nr *NotRegularError
	if !errors.As(err, &nr) || nr.Kind != "a character device" || strings.Contains(err.Error(), "rm ") ||
		!strings.Contains(err.Error(), "name a regular file there instead") {
		t.Errorf("Read(%s): %v", os.DevNull, err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(big, 5); err == nil || strings.Contains(err.Error(), "diffuser wrote") || !strings.Contains(err.Error(), big+" is 10 bytes, more than the 5 read there") {
		t.Errorf("Read of 10 bytes, bound 5: %v", err)
	}
}
