package steps

import (
	"fmt"
	"path"
	"time"
)

// Exit statuses of a remote script that takes an exclusive flock on its
// file descriptor 9 (flockPrelude) before it changes something, besides 0
// and its commands' own: what it guards changed since it was read, the
// host has no flock(1), the lock was not had in time.
const (
	lockedChanged = 90
	lockedNoFlock = 91
	lockedTimeout = 92
)

// flockPrelude is the first two lines of the subshell of such a script:
// exit lockedNoFlock without flock(1), else wait at most wait for an
// exclusive flock on fd 9 (opened by the subshell's redirection) and exit
// lockedTimeout without it.
func flockPrelude(wait time.Duration) string {
	return fmt.Sprintf("command -v flock >/dev/null 2>&1 || exit %d\nflock -w %d 9 || exit %d\n", lockedNoFlock, int(wait/time.Second), lockedTimeout)
}

// errNoFlock is the error of a script that exited lockedNoFlock: doing
// says what failed ("replacing /etc/fstab"), need what diffuser needs the
// lock for.
func errNoFlock(doing, need string) error {
	return fmt.Errorf("%s: the host has no flock command (util-linux), which diffuser needs to %s: install util-linux", doing, need)
}

// stagePath is where a new version of the file p is uploaded before it is
// renamed over p: beside it (the same filesystem, so the rename is
// atomic), hidden, and named by key's hash so that two different new
// versions never share a stage.
func stagePath(p, key string) string {
	dir, base := path.Split(p)
	return path.Join(dir, "."+base+".diffuser-"+sha256Hex(key)[:16])
}
