package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterPrefixRefusesAnotherWorkspacesState: with WithClusterPrefix,
// a state.json of another cluster is a *ForeignError naming the file;
// this workspace's own, and a state that has no cluster yet, load.
func TestClusterPrefixRefusesAnotherWorkspacesState(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		foreign bool
	}{
		{"w-abc123", false},
		{"", false},
		{"other-abc123", true},
		{"w", true},       // no lineage part: not a name Cluster makes for w
		{"ww-abc1", true}, // a longer name sharing the first letters
		// Workspace w-b's cluster starts with w-, this workspace's
		// prefix, too: its state copied into w was taken for w's own,
		// and destroy here removed w-b's machines.
		{"w-b-abc123", true},
		{"w--abc123", true}, // workspace w. (w- once sanitized)
	} {
		dir := t.TempDir()
		s := Open(dir)
		unlock, err := s.Lock(context.Background(), CurrentHolder("test"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		st.Cluster = tc.cluster
		if err := s.Save(st); err != nil {
			t.Fatal(err)
		}
		_ = unlock()
		before, _ := os.ReadFile(filepath.Join(dir, StateFile))
		_, err = Open(dir, WithClusterPrefix("w-")).Load()
		var fe *ForeignError
		if got := errors.As(err, &fe); got != tc.foreign {
			t.Errorf("cluster %q: Load says %v, want foreign %v", tc.cluster, err, tc.foreign)
		}
		if tc.foreign && (err == nil || !strings.Contains(err.Error(), filepath.Join(dir, StateFile)+" records cluster "+tc.cluster)) {
			t.Errorf("cluster %q: the error does not name the file and cluster: %v", tc.cluster, err)
		}
		after, _ := os.ReadFile(filepath.Join(dir, StateFile))
		if string(before) != string(after) {
			t.Errorf("cluster %q: state.json changed", tc.cluster)
		}
	}
}

// TestSymlinkedStateRefused: a state.json or journal that is a symbolic
// link is refused (a save would replace the link, leaving its target
// stale), also when the link dangles; the target is left as it was.
func TestSymlinkedStateRefused(t *testing.T) {
	for _, name := range []string{StateFile, JournalFile} {
		for _, dangling := range []bool{false, true} {
			dir, away := t.TempDir(), t.TempDir()
			target := filepath.Join(away, "target")
			if !dangling {
				if err := os.WriteFile(target, []byte(`{"version": 1, "lineage": "x"}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir).Load()
			if err == nil || !strings.Contains(err.Error(), name+" is a symbolic link (to "+target+")") {
				t.Errorf("%s (dangling %v): Load says %v", name, dangling, err)
			}
			if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("%s: the link is gone (%v)", name, err)
			}
		}
	}
}

// TestLockThroughSymlinkRefused: state.lock that is a symbolic link is
// refused by Lock, and the file it points to keeps its content (the
// holder used to be written into it, truncating it first).
func TestLockThroughSymlinkRefused(t *testing.T) {
	dir, away := t.TempDir(), t.TempDir()
	precious := filepath.Join(away, "authorized_keys")
	if err := os.WriteFile(precious, []byte("ssh-ed25519 AAAA precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(precious, filepath.Join(dir, LockFile)); err != nil {
		t.Fatal(err)
	}
	unlock, err := Open(dir).Lock(context.Background(), CurrentHolder("test"))
	if err == nil {
		_ = unlock()
		t.Fatal("Lock took a lock file that is a symbolic link")
	}
	if !strings.Contains(err.Error(), LockFile+" is a symbolic link (to "+precious+")") {
		t.Errorf("Lock: %v", err)
	}
	if b, _ := os.ReadFile(precious); string(b) != "ssh-ed25519 AAAA precious\n" {
		t.Errorf("the link's target changed: %q", b)
	}
}

// TestSpecialStateFilesRefusedAtOnce: a state.json, journal or lock file
// that is a named pipe, a directory or a socket is refused at once naming
// what it is; a pipe used to block Load (and every command, past Ctrl-C)
// forever, waiting for a writer.
func TestSpecialStateFilesRefusedAtOnce(t *testing.T) {
	for _, name := range []string{StateFile, JournalFile, LockFile} {
		for kind, mk := range map[string]func(p string) error{
			"a named pipe": func(p string) error { return syscall.Mkfifo(p, 0o600) },
			"a directory":  func(p string) error { return os.Mkdir(p, 0o700) },
		} {
			dir := t.TempDir()
			if err := mk(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				s := Open(dir)
				if name == LockFile {
					_, err := s.LockInfo()
					if err == nil {
						var unlock func() error
						unlock, err = s.Lock(context.Background(), CurrentHolder("test"))
						if err == nil {
							_ = unlock()
						}
					}
					done <- err
					return
				}
				_, err := s.Load()
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("%s as %s: %v", name, kind, err)
				}
				if name != LockFile && (err == nil || !strings.Contains(err.Error(), kind)) {
					t.Errorf("%s as %s: the error does not say what it is: %v", name, kind, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s as %s: still blocked after 5s", name, kind)
			}
		}
	}
}

// TestOversizedStateRefusedBeforeReading: a state.json or journal past
// MaxFileSize is refused naming the file and its size, before it is read
// (the files are sparse: no gigabytes are written, and a read of one
// would take seconds and gigabytes of memory).
func TestOversizedStateRefusedBeforeReading(t *testing.T) {
	for _, name := range []string{StateFile, JournalFile} {
		dir := t.TempDir()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, MaxFileSize+1); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := Open(dir).Load()
		if err == nil {
			t.Fatalf("%s of %d bytes: loaded", name, int64(MaxFileSize+1))
		}
		mustContain(t, err.Error(), p+" is 1.0 GiB (1073741825 bytes), more than the 1.0 GiB of state diffuser reads", "move it aside")
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refusing took %v: the file was read", name, d)
		}
	}
}

// TestCheckSizeAtTheCap: the cap is inclusive, and sizes are named in
// the unit that reads best.
func TestCheckSizeAtTheCap(t *testing.T) {
	if err := CheckSize("f", MaxFileSize); err != nil {
		t.Errorf("a file of exactly MaxFileSize is refused: %v", err)
	}
	err := CheckSize("f", 3<<30+1<<29)
	if err == nil {
		t.Fatal("3.5 GiB accepted")
	}
	mustContain(t, err.Error(), "f is 3.5 GiB (3758096384 bytes)")
}
