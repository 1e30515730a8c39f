package dockertest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Serialize makes real deployments one at a time on this machine, across
// test binaries: `go test ./...` runs packages in parallel, and two
// clusters building at once on a small machine time each other out. It
// holds an exclusive flock on a file in the temp directory until the test
// ends.
func Serialize(t testing.TB) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "diffuser-dockertest.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("the real-deployment lock %s: %v", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("the real-deployment lock %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the flock
}
