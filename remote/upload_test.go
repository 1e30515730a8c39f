package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The test sshd runs on this machine, so uploaded files are checked
// directly on the local filesystem.

func TestUploadWritesModeAndContent(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"secret.key", "private\n", 0o600},
		{"run.sh", "#!/bin/sh\necho hi\n", 0o755},
		{"empty", "", 0o644},
		{"setgid", "x", os.ModeSetgid | 0o750},
	} {
		dst := filepath.Join(dir, tc.name)
		if err := c.Upload(context.Background(), strings.NewReader(tc.data), dst, tc.mode); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != tc.data {
			t.Errorf("%s: content %q, %v", tc.name, got, err)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if want := tc.mode.Perm() | tc.mode&os.ModeSetgid; fi.Mode()&(os.ModePerm|os.ModeSetgid) != want {
			t.Errorf("%s: mode %v, want %v", tc.name, fi.Mode(), want)
		}
	}
	// Replacing an existing file changes its mode too, and leaves no
	// temporary file behind.
	dst := filepath.Join(dir, "secret.key")
	if err := c.Upload(context.Background(), strings.NewReader("v2"), dst, 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after replace %v", fi.Mode())
	}
	assertNoTemp(t, dir)

	if err := c.Upload(context.Background(), strings.NewReader("x"), "relative/path", 0o644); err == nil {
		t.Error("relative path accepted")
	}
	err := c.Upload(context.Background(), strings.NewReader("x"), filepath.Join(dir, "missing-dir", "f"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "missing-dir") {
		t.Errorf("upload into a missing directory: %v", err)
	}
}

func TestUploadIsAtomic(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	dst := filepath.Join(t.TempDir(), "big.conf")
	const size = 4 << 20
	versions := [][]byte{bytes.Repeat([]byte("a"), size), bytes.Repeat([]byte("b"), size)}
	if err := os.WriteFile(dst, versions[0], 0o644); err != nil {
		t.Fatal(err)
	}
	// A reader checks the file over and over while it is replaced.
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Errorf("read during upload: %v", err)
				return
			}
			reads.Add(1)
			if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
				t.Errorf("reader saw a partial file: %d bytes", len(got))
				return
			}
		}
	}()
	for i := range 6 {
		if err := c.Upload(context.Background(), bytes.NewReader(versions[(i+1)%2]), dst, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if reads.Load() < 6 {
		t.Errorf("only %d reads during the uploads: the test proved little", reads.Load())
	}
}

func TestUploadCancelLeavesTargetAndNoTemp(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	dir := t.TempDir()
	dst := filepath.Join(dir, "f")
	if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("n"), 1<<20))
		// The source stalls after 1 MiB; the caller gives up once the
		// upload has sent it all and waits in the source's Read.
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	err := c.Upload(ctx, pr, dst, 0o644)
	_ = pw.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "old" {
		t.Errorf("target changed by a cancelled upload: %d bytes", len(got))
	}
	assertNoTemp(t, dir)
	if err := c.Upload(context.Background(), strings.NewReader("new"), dst, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUploadWithSudo(t *testing.T) {
	env, _, c := newTestClient(t, sshdOptions{})
	requireRootSudo(t, env)
	c.sudo = true // the path a non-root user with Sudo takes
	dir := t.TempDir()
	dst := filepath.Join(dir, "it's a file")
	before := tmpUploads(t)
	if err := c.Upload(context.Background(), strings.NewReader("via sudo"), dst, 0o604); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != "via sudo" {
		t.Fatalf("content %q, %v", got, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o604 {
		t.Errorf("mode %v", fi.Mode())
	}
	// Special bits survive the sudo path, given as Unix bits (as the file
	// and distribute kinds parse "4755") or as Go's mode bits.
	for _, m := range []struct {
		mode os.FileMode
		want os.FileMode
	}{
		{0o4755, os.ModeSetuid | 0o755},
		{0o2750, os.ModeSetgid | 0o750},
		{os.ModeSticky | 0o777, os.ModeSticky | 0o777},
	} {
		special := filepath.Join(dir, "special")
		if err := c.Upload(context.Background(), strings.NewReader("x"), special, m.mode); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(special)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky); got != m.want {
			t.Errorf("upload with mode %o through sudo: %v, want %v", uint32(m.mode), got, m.want)
		}
	}
	assertNoTemp(t, dir)
	if after := tmpUploads(t); after > before {
		t.Errorf("the /tmp staging file was left behind")
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".diffuser-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func tmpUploads(t *testing.T) int {
	t.Helper()
	m, err := filepath.Glob("/tmp/.diffuser-upload-*")
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}
