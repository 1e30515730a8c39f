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
	// O_NOFOLLOW: a link planted at the name in the shared temporary
	// directory would have this process create or open what it points at.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock %s is a symbolic link, not diffuser's lock file: remove it (another user may have planted it)", path)
	}
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
