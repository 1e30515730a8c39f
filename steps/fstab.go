package steps

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"diffuser/runner"
)

// fstabPath is the file fstab = true manages.
const fstabPath = "/etc/fstab"

// fstabLockPath is the lock file every diffuser holds (flock(1), on the
// host) while it compares and replaces /etc/fstab. /run/lock is a tmpfs
// on Debian and RHEL, so a lock left by a crashed host is gone at boot.
const fstabLockPath = "/run/lock/diffuser-fstab.lock"

// fstabAttempts bounds how often edit reads, edits and tries to replace
// fstab. Each failed try means another writer replaced the file in
// between; tries are spaced by fstabBackoff, growing, with a spread that
// differs between edits, so that concurrent diffusers do not meet again.
// 20 tries wait about 10 s in all: at 10 (about 2.5 s), two diffusers and a peer
// rewriting fstab every 50 ms gave up in 2 of 5 runs on a loaded machine.
const fstabAttempts = 20

// fstabBackoff is the pause after the first failed try; the n-th is n
// times as long, times 0.5 to 1.5 (from the new content's hash).
const fstabBackoff = 40 * time.Millisecond

// fstabLockWait is how long the swap waits for another diffuser's swap
// (which holds the lock for milliseconds) before giving up.
const fstabLockWait = 30 * time.Second

// errFstabChanged is swapFstab's answer when another writer changed fstab
// between the read and the swap.
var errFstabChanged = errors.New("fstab changed since it was read")

// fstabFile is where MountKind keeps its lines: /etc/fstab and its lock
// in production; tests point it at a temporary directory.
type fstabFile struct {
	path, lock string
	clock      Clock
}

// fstabOf returns the file k manages.
func (k MountKind) fstabOf() fstabFile {
	f := fstabFile{path: fstabPath, lock: fstabLockPath, clock: k.Clock}
	if f.clock == nil {
		f.clock = SystemClock{}
	}
	if k.fstab != "" {
		f.path = k.fstab
	}
	if k.fstabLock != "" {
		f.lock = k.fstabLock
	}
	return f
}

// read returns the file's content; a missing file reads as empty
// (containers often have none).
func (f fstabFile) read(ctx context.Context, r runner.Runner) (string, error) {
	p := ShellQuote(f.path)
	cmd := "cat " + p + " 2>/dev/null || test ! -e " + p
	res, err := MustRun(ctx, r, "reading "+f.path, cmd)
	if err != nil {
		return "", err
	}
	return res.Stdout, nil
}

// edit replaces the file's content with what change makes of it, unless
// change says there is nothing to do. It is a compare-and-swap, so that
// an edit by another process (a second diffuser, Ansible's mount module, a
// person) between this read and this write is never lost: the new content
// is staged beside the file, then swap replaces the file only if it still
// holds what was read; otherwise the whole edit starts again from a new
// read, at most fstabAttempts times.
func (f fstabFile) edit(ctx context.Context, r runner.Runner, change func(content string) (string, bool)) error {
	for attempt := 1; ; attempt++ {
		content, err := f.read(ctx, r)
		if err != nil {
			return err
		}
		next, ok := change(content)
		if !ok {
			return nil
		}
		err = f.swap(ctx, r, content, next)
		if !errors.Is(err, errFstabChanged) {
			return err
		}
		if attempt == fstabAttempts {
			return fmt.Errorf("%s changed %d times between diffuser's read and its write: another process keeps rewriting it (a configuration tool, an editor, another diffuser); let it finish and apply again", f.path, attempt)
		}
		if err := f.clock.Sleep(ctx, backoff(attempt, next)); err != nil {
			return err
		}
	}
}

// backoff is the pause after the attempt-th failed try of an edit whose
// new content is next: attempt × fstabBackoff × [0.5, 1.5), the factor
// taken from next's hash so that two edits at once pause differently and
// a test's fake clock sees the same pauses every run.
func backoff(attempt int, next string) time.Duration {
	sum := sha256.Sum256([]byte(next))
	spread := 0.5 + float64(binary.BigEndian.Uint16(sum[:2]))/65536
	return time.Duration(float64(attempt) * float64(fstabBackoff) * spread)
}

// swap stages next beside the file and replaces the file with it when the
// file still holds old, in one remote command (fstabSwapScript). It
// returns errFstabChanged when the file changed.
func (f fstabFile) swap(ctx context.Context, r runner.Runner, old, next string) error {
	oldSum := sha256Hex(old)
	stage := stagePath(f.path, oldSum+"\x00"+next)
	if err := r.Upload(ctx, strings.NewReader(next), stage, 0o644); err != nil {
		return fmt.Errorf("staging %s: %w", f.path, err)
	}
	cmd := fstabSwapScript(f, stage, oldSum)
	res, err := Probe(ctx, r, "replacing "+f.path, cmd)
	if err != nil {
		return err
	}
	switch res.Exit {
	case 0:
		return nil
	case lockedChanged: // fstab no longer hashes to what was read
		return errFstabChanged
	case lockedNoFlock:
		return errNoFlock("replacing "+f.path, "edit "+f.path+" safely")
	case lockedTimeout:
		return fmt.Errorf("replacing %s: another process held %s for more than %s (diffusers hold it for milliseconds): find it with lslocks, let it finish or stop it, and apply again", f.path, f.lock, fstabLockWait)
	}
	return ExitError("replacing "+f.path, cmd, res)
}

// fstabSwapScript is the one remote command of swap. Under an exclusive
// flock of the lock file, which every diffuser takes (a peer tool that
// does not take it is still never overwritten: its change makes the hash
// differ), it compares the file's sha256 with want (a missing file hashes
// as empty, as read reads it), gives the stage the file's owner and mode
// and renames it over the file (atomic: readers see the old file or the
// new one). On any failure the stage is removed.
func fstabSwapScript(f fstabFile, stage, want string) string {
	q := ShellQuote
	return fmt.Sprintf(`f=%s s=%s want=%s lock=%s
(
%sif [ -e "$f" ]; then have=$(sha256sum < "$f") || exit; else have=$(sha256sum < /dev/null); fi
[ "${have%%%% *}" = "$want" ] || exit %d
if [ -e "$f" ]; then chown --reference="$f" -- "$s" && chmod --reference="$f" -- "$s" || exit; fi
mv -f -- "$s" "$f"
) 9>>"$lock"
st=$?; [ $st -eq 0 ] || rm -f -- "$s"; exit $st`,
		q(f.path), q(stage), q(want), q(f.lock), flockPrelude(fstabLockWait), lockedChanged)
}

// sha256Hex is the hex sha256 of s, as sha256sum prints it.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
