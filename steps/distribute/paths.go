package distribute

import (
	"diffuser/internal/shell"
	"fmt"
	"path"
	"strings"

	"diffuser/steps"
)

// The part file and dest are written, truncated, chmodded, renamed and
// removed only by names relative to dest's directory, entered one
// component at a time (steps.EnterDir), and written and chmodded only
// through a descriptor checked to be the right file. dest's directory
// may be writable by a user other than root (a home directory), who
// could put a link to /etc/shadow at the part file's predictable name
// (.NAME.diffuser-KEY.part), in the part's place between two commands,
// or in dest's place between its hash and its chmod; a redirection, tee,
// truncate and chmod follow links, and a link on the directory's path
// would take every name in it elsewhere.

// inDestDir returns a script that sets d (dest's directory), f (dest's
// name) and p (the part file's name), makes d the working directory
// (steps.EnterDir; with mk, steps.EnterOrMakeDir, making what is missing)
// and then runs body.
func (t *transfer) inDestDir(mk bool, body string) string {
	q := steps.ShellQuote
	enter := steps.EnterDir
	if mk {
		enter = steps.EnterOrMakeDir
	}
	// s: the stage EnterDir removes when it refuses; distribute has none.
	return fmt.Sprintf("d=%s f=%s p=%s s=\n%s\n%s", q(path.Dir(t.a.dest)), q(path.Base(t.a.dest)), q(path.Base(t.part)), enter, body)
}

// newPart (shell, in dest's directory: inDestDir, after umask 077)
// replaces whatever is at the part's name (a stale part, or a link a
// user put there: rm does not follow links) by a new, empty file made
// with O_EXCL (dd conv=excl), which never follows a link either: a name
// that appears again meanwhile fails it.
const newPart = `rm -f -- "$p"
if ! dd if=/dev/null of="$p" conv=excl status=none; then
  echo "diffuser: could not make the part file $d/$p anew; if dd says it exists, another process put something there meanwhile: someone else writes into $d (a user who owns it, or may write it without the sticky bit?)" >&2
  exit 3
fi`

// openPart (shell, in dest's directory: inDestDir) opens the part file
// as descriptor 3, read only, after making sure it is one this user
// wrote: a regular file of this user's with one link (lstat: a link is
// not followed), and the descriptor the same file (device and inode), so
// that a link or another file put in its place after the lstat is caught
// too. Then what the script writes, truncates or chmods goes through
// /proc/self/fd/3, never through the name. Otherwise the name is removed
// (rm does not follow a link) and the script fails (exit 3): resuming
// starts again from byte 0.
var openPart = `if [ ! -e "$p" ] && [ ! -L "$p" ]; then
  echo "diffuser: the part file $d/$p is gone (another process removed it)" >&2
  exit 3
fi
if ! ` + shell.OpenChecked("p", 3, "<", true) + `; then
  rm -f -- "$p"
  echo "diffuser: the part file $d/$p is not the one diffuser wrote (a link, or a file of another user's, was put at its name): nothing was written through it, and the name was removed. Someone else writes into $d (a user who owns it, or may write it without the sticky bit?)" >&2
  exit 3
fi`

// openDest (shell, in dest's directory: inDestDir) opens dest as
// descriptor 4, read only, when it is a regular file with one link
// (lstat) and the descriptor is that file; otherwise it fails with exit
// 5. A mode fix and a relay sender go through it: a link put at dest (to
// /etc/shadow) after dest was hashed is neither chmodded nor read.
var openDest = `if ! ` + shell.OpenChecked("f", 4, "<", false) + `; then
  echo "diffuser: $d/$f is no longer the regular file diffuser hashed (another process put a link or another file there)" >&2
  exit 5
fi`

// receiveCmd appends stdin to the part file from byte start (cutting the
// part there, after checking that it is diffuser's: openPart); when
// start is 0 the part is made anew (newPart) and the script prints the
// stream's sha256. dest's directory is made when missing.
func (t *transfer) receiveCmd(start int64) string {
	if start == 0 {
		return t.inDestDir(true, "umask 077\n"+newPart+"\n"+openPart+"\ntee -- /proc/self/fd/3 | { "+sha256Stdin+"; }")
	}
	return t.inDestDir(false, openPart+fmt.Sprintf(`
n=$(stat -L -c %%s /proc/self/fd/3) || exit 3
if [ "$n" -lt %[1]d ]; then
  echo "diffuser: the part file $d/$p has $n bytes, the stream starts at %[1]d" >&2
  exit 3
fi
truncate -s %[1]d /proc/self/fd/3 && cat >>/proc/self/fd/3`, start))
}

// installCmd checks that the part is diffuser's (openPart) and has size
// bytes, gives it mode through its descriptor and renames it over dest
// (mv -T: never into a directory put there).
func (t *transfer) installCmd(size int64) string {
	return t.inDestDir(false, openPart+fmt.Sprintf(`
n=$(stat -L -c %%s /proc/self/fd/3) || exit 3
if [ "$n" != %[1]d ]; then
  echo "the part file has $n bytes, want %[1]d" >&2
  exit 4
fi
chmod %04[2]o /proc/self/fd/3 && mv -fT -- "$p" "$f"`, size, t.a.fileMode))
}

// modeCmd gives dest mode through a descriptor (openDest); exit 5 when
// dest is no longer a regular file with one link.
func (t *transfer) modeCmd() string {
	return t.inDestDir(false, openDest+fmt.Sprintf("\nchmod %04o /proc/self/fd/4", t.a.fileMode))
}

// removePartCmd removes the part file.
func (t *transfer) removePartCmd() string {
	return t.inDestDir(false, `rm -f -- "$p"`)
}

// hopEnv is the relay's $D/env for dest and the part file (relay/hop.sh).
func hopEnv(dest, part, ssh string) string {
	q := steps.ShellQuote
	return fmt.Sprintf("DIR=%s\nDEST=%s\nPART=%s\nSSH='%s'\n", q(path.Dir(dest)), q(path.Base(dest)), q(path.Base(part)), ssh)
}

// hopProgram is relay/hop.sh with the shell functions it enters dest's
// directory and opens the part file and dest with: the same checks as
// the operator's commands (steps.EnterDir, newPart, openPart, openDest).
func hopProgram() string {
	fns := fmt.Sprintf(`enter_dir() {
	d=$DIR s=
%s
}
new_part() {
	p=$PART
%s
}
open_part() {
	p=$PART
%s
}
open_dest() {
	f=$DEST
%s
}
`, steps.EnterDir, newPart, openPart, openDest)
	const marker = "# @FUNCTIONS@\n"
	if !strings.Contains(hopScript, marker) {
		panic("relay/hop.sh lacks " + marker)
	}
	return strings.Replace(hopScript, marker, fns, 1)
}
