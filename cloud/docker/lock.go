package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on <tmp>/<name>, a lock between the
// diffuser processes of this machine (parallel applies, tests). While
// another process holds it, waiting is called once and the lock is polled
// until ctx ends. The lock dies with the process; unlock releases it.
func lockFile(ctx context.Context, name string, waiting func(path string)) (unlock func(), err error) {
	path := lockPath(name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for said := false; ; said = true {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !said && waiting != nil {
			waiting(path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lockPath is where lockFile keeps the lock called name.
func lockPath(name string) string { return filepath.Join(os.TempDir(), name) }
