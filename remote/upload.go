package remote

import (
	"context"
	"crypto/rand"
	quote "diffuser/internal/shell"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"diffuser/runner"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

const posixRenameExt = "posix-rename@openssh.com"

// cleanupTimeout bounds removing the temporary file of a cancelled upload.
const cleanupTimeout = 5 * time.Second

// Upload writes r to the absolute path dst on the host with mode, so that
// a reader sees the old file or the whole new one, never a part: the data
// goes over SFTP to a temporary file in dst's directory, which is chmodded
// and then renamed over dst. With sudo (non-root user) the data goes to
// /tmp first and a sudo script copies it to a temporary file beside dst,
// owned by root, and renames that. ctx aborts the transfer.
func (c *Client) Upload(ctx context.Context, r io.Reader, dst string, mode os.FileMode) error {
	if !path.IsAbs(dst) {
		return fmt.Errorf("host %s: upload %s: path must be absolute", c.cfg.Name, dst)
	}
	dst = path.Clean(dst)
	suffix, err := randomSuffix()
	if err != nil {
		return fmt.Errorf("host %s: upload %s: %w", c.cfg.Name, dst, err)
	}
	dir, base := path.Split(dst)
	tmp := path.Join(dir, "."+base+".diffuser-"+suffix)
	if c.sudo {
		tmp = "/tmp/.diffuser-upload-" + suffix
	}
	if err := c.sftpWrite(ctx, r, tmp, dst, mode); err != nil {
		if ctx.Err() != nil {
			c.removeAbandoned(ctx, tmp)
		}
		return fmt.Errorf("host %s: upload %s: %w", c.cfg.Name, dst, err)
	}
	if !c.sudo {
		return nil
	}
	res, err := c.Run(ctx, sudoInstallScript(tmp, dst, mode), runner.Options{})
	if err != nil {
		return fmt.Errorf("host %s: upload %s: moving into place with sudo: %w", c.cfg.Name, dst, err)
	}
	if res.Exit != 0 {
		return fmt.Errorf("host %s: upload %s: moving into place with sudo: exit status %d: %s",
			c.cfg.Name, dst, res.Exit, lastLine(res.Stderr))
	}
	return nil
}

// sftpWrite writes r to tmp with mode. Without sudo it then renames tmp to
// dst; with sudo the caller moves it.
//
// ctx ends the transfer even where nothing of it could notice: a source
// whose Read blocks (a stalled pipe), or a host that stopped answering
// (closing the session does not end the SFTP client's wait for replies).
// The session is closed, the exchange is given abandonGrace to end on
// its own, and is then left to end in the background, reading r no more
// once its next read or request fails.
func (c *Client) sftpWrite(ctx context.Context, r io.Reader, tmp, dst string, mode os.FileMode) error {
	sess, _, release, err := c.session(ctx)
	if err != nil {
		return err
	}
	defer release()
	defer func() { _ = sess.Close() }()
	done := make(chan error, 1)
	go func() { done <- c.sftpExchange(sess, r, tmp, dst, mode) }()
	select {
	case err := <-done:
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return err
	case <-ctx.Done():
	}
	_ = sess.Close()
	t := time.NewTimer(abandonGrace)
	defer t.Stop()
	select {
	case err := <-done:
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	case <-t.C:
		return ctx.Err()
	}
}

// abandonGrace is how long a cancelled upload waits for its SFTP exchange
// to end once its session is closed.
const abandonGrace = time.Second

// sftpExchange is sftpWrite's SFTP part, on an open session.
func (c *Client) sftpExchange(sess *ssh.Session, r io.Reader, tmp, dst string, mode os.FileMode) error {
	w, err := sess.StdinPipe()
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	rd, err := sess.StdoutPipe()
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return fmt.Errorf("starting sftp subsystem: %w", err)
	}
	sc, err := sftp.NewClientPipe(rd, w, sftp.UseConcurrentWrites(true))
	if err != nil {
		return fmt.Errorf("sftp: %w", err)
	}
	defer func() { _ = sc.Close() }()

	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	written := false
	defer func() {
		if !written {
			_ = sc.Remove(tmp)
		}
	}()
	// Private until complete: the create mode was the server's default.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if _, err := f.ReadFrom(r); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if c.sudo {
		written = true
		return nil
	}
	if _, ok := sc.HasExtension(posixRenameExt); !ok {
		return fmt.Errorf("server lacks the %s sftp extension needed to replace %s atomically", posixRenameExt, dst)
	}
	if err := sc.PosixRename(tmp, dst); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, dst, err)
	}
	written = true
	return nil
}

// removeAbandoned removes the temporary file of an upload cut short by
// ctx, whose SFTP session could not do it, best effort.
func (c *Client) removeAbandoned(ctx context.Context, tmp string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = c.Run(ctx, "rm -f "+ShellQuote(tmp), runner.Options{})
}

// sudoInstallScript copies src (in /tmp, owned by the login user) to a
// root-owned temporary file beside dst, sets mode, renames it over dst and
// removes src. cp, not mv: /tmp is often another filesystem, where mv is
// not atomic.
//
// The temporary file is written and chmodded through a descriptor, never
// through its name: where a user other than root may write dst's
// directory, that user could put a link to /etc/shadow (or root's empty
// authorized_keys) in its place after mktemp, and a redirection and chmod
// follow links. The descriptor must be the file mktemp made: a regular,
// empty file of root's with one link (lstat: not following a link), the
// same device and inode.
func sudoInstallScript(src, dst string, mode os.FileMode) string {
	dir, base := path.Split(dst)
	q := ShellQuote
	return fmt.Sprintf(`set -e
src=%s
t=$(mktemp %s)
trap 'rm -f "$t" "$src"' EXIT
me=$(id -u)
if ! %s; then
  echo "diffuser: the temporary file $t was replaced by another process before it was written: nothing was written through it. Someone else writes into "%s" (a user who owns it, or may write it without the sticky bit?)" >&2
  exit 3
fi
cat "$src" >&3
chmod %s /proc/self/fd/3
mv -f "$t" %s
`, q(src), q(path.Join(dir, "."+base+".diffuser-XXXXXX")), quote.OpenChecked("t", 3, ">>", true), q(path.Clean(dir)), octalMode(mode), q(dst))
}

// octalMode renders mode for chmod, including setuid, setgid and sticky,
// given either as Go's mode bits (os.ModeSetuid) or as the Unix bits
// 04000, 02000, 01000 that step kinds parse from "4755" (as the SFTP
// path's Chmod takes both).
func octalMode(mode os.FileMode) string {
	m := uint32(mode & (os.ModePerm | 0o7000))
	if mode&os.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&os.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&os.ModeSticky != 0 {
		m |= 0o1000
	}
	return fmt.Sprintf("%04o", m)
}

func randomSuffix() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random temp name: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func lastLine(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	if s == "" {
		return "(no output)"
	}
	return s
}
