package steps

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"diffuser/facts"
	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// MountKind mounts a filesystem and, when fstab is true, keeps one
// /etc/fstab line for its target (an update to fstab false removes it:
// Leave). It never stacks mounts: a target that is
// already a mountpoint of another source is an error. The mounted source is
// compared after dropping a trailing slash and, for paths, after resolving
// symlinks on the host (/dev/disk/by-id/... = /dev/xvdf); the type matches
// when it is equal, "fuse.<fstype>" (glusterfs is shown as fuse.glusterfs)
// or nfs4 for nfs; "auto" matches any type; a FUSE mount of the declared
// source matches whatever its type. FUSE programs that show another
// source or type than the mount command names (ceph-fuse, mfsmount) are
// recognised as mountfuse.go describes. What a mount shows right after it
// is made is held to the same rules (mountOnce). Options are not
// compared with the live mount. Sources written as UUID=... or LABEL=... are not
// resolved: use a device path.
//
// /etc/fstab is edited by reading it, changing the target's line in Go and
// replacing the whole file atomically, only if it still holds what was
// read (fstab.go: a compare-and-swap under a host-side flock), so that
// another process editing it at the same time (a second diffuser, Ansible,
// a person) never loses its edit nor makes diffuser lose its own. HostLock
// serializes mount steps within one diffuser on top. Network filesystems
// need "_netdev" in options to be mounted at boot after the network;
// MountKind does not add it. Retrying a mount while a server comes up is
// the engine's business (the step's retries).
type MountKind struct {
	// Clock paces the retries of an fstab edit that met another writer's;
	// nil is the real clock.
	Clock Clock
	// fstab and fstabLock replace /etc/fstab and its lock in tests.
	fstab, fstabLock string
}

var (
	_ Kind       = MountKind{}
	_ Destroyer  = MountKind{}
	_ Replacer   = MountKind{}
	_ Leaver     = MountKind{}
	_ HostLocker = MountKind{}
)

type mountArgs struct {
	source  string
	target  string
	fstype  string
	options string
	fstab   bool
	mkdir   bool
}

// Name returns "mount".
func (MountKind) Name() string { return "mount" }

// HostLock returns "fstab": mount steps on one host run one at a time.
func (MountKind) HostLock() string { return "fstab" }

// mountSchema: source (required: a device path or server:/export),
// target (required, an absolute path), fstype (required), options (mount
// -o, default none and "defaults" in fstab), fstab (bool, default false),
// mkdir (bool, default true).
var mountSchema = &Schema{Kind: "mount", Args: []Arg{
	{Name: "source", Type: cty.String, Required: true,
		Check: StringRule(`a device path or "server:/export" (no tabs or newlines, not starting with "-")`, func(s string) bool {
			return s != "" && !strings.HasPrefix(s, "-") && !strings.ContainsAny(s, "\n\t\x00")
		}),
		Doc: "what to mount"},
	{Name: "target", Type: cty.String, Required: true, Check: AbsPath(`an absolute path such as "/mnt/data"`), Doc: "the mount point"},
	{Name: "fstype", Type: cty.String, Required: true, Check: Word(`a filesystem type such as "xfs" or "nfs" (no spaces, not starting with "-")`, ""),
		Doc: "the filesystem type; `auto` matches anything"},
	{Name: "options", Type: cty.String, Check: StringRule(`mount options separated by commas, such as "noatime,_netdev" (no spaces, not starting with "-")`, func(s string) bool {
		return !strings.HasPrefix(s, "-") && !strings.ContainsAny(s, " \t\n\r\x00")
	}),
		Doc: "`-o` options"},
	{Name: "fstab", Default: cty.False, Doc: "keep one /etc/fstab line for the target"},
	{Name: "mkdir", Default: cty.True, Doc: "create the target directory"},
}}

// Schema returns the mount kind's arguments.
func (MountKind) Schema() *Schema { return mountSchema }

func parseMountArgs(args cty.Value) (mountArgs, error) {
	var a mountArgs
	if err := mountSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.source, err = ReqString(args, "source"); err != nil {
		return a, err
	}
	if a.target, err = ReqString(args, "target"); err != nil {
		return a, err
	}
	a.target = path.Clean(a.target)
	if a.fstype, err = ReqString(args, "fstype"); err != nil {
		return a, err
	}
	if a.options, err = OptString(args, "options", ""); err != nil {
		return a, err
	}
	if a.fstab, err = boolOr(args, "fstab", false); err != nil {
		return a, err
	}
	if a.mkdir, err = boolOr(args, "mkdir", true); err != nil {
		return a, err
	}
	return a, nil
}

// mounted is what is mounted on the target; the zero value is nothing.
type mounted struct {
	source, fstype string
}

// readMount asks findmnt what is mounted on the target itself (not on a
// parent: --mountpoint). findmnt exits 1 when the target is no mountpoint.
// With stacked mounts the last line is the visible one.
func (a mountArgs) readMount(ctx context.Context, r runner.Runner) (mounted, error) {
	cmd := "findmnt -rn -o SOURCE,FSTYPE --mountpoint " + ShellQuote(a.target)
	res, err := Probe(ctx, r, "reading mounts", cmd)
	if err != nil {
		return mounted{}, err
	}
	if res.Exit == 1 {
		return mounted{}, nil
	}
	if res.Exit != 0 {
		return mounted{}, ExitError("findmnt", cmd, res)
	}
	m, ok := lastMount(res.Stdout)
	if !ok {
		return mounted{}, fmt.Errorf("findmnt: unexpected output %s", runner.QuoteOutput(res.Stdout))
	}
	return m, nil
}

// lastMount reads the last line of `findmnt -rn -o SOURCE,FSTYPE`'s
// output (with stacked mounts, the visible one); ok is false when there
// is no such line.
func lastMount(out string) (m mounted, ok bool) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 2 {
		return mounted{}, false
	}
	return mounted{source: facts.UnescapeHex(f[0]), fstype: facts.UnescapeHex(f[1])}, true
}

// normSource drops a trailing slash ("host:/gv0/" = "host:/gv0").
func normSource(s string) string {
	if len(s) > 1 && strings.HasSuffix(s, "/") && !strings.HasSuffix(s, ":/") {
		return strings.TrimRight(s, "/")
	}
	return s
}

// fstypeMatches reports whether a live mount's type is the declared one.
func fstypeMatches(live, want string) bool {
	return live == want || live == "fuse."+want || (want == "nfs" && live == "nfs4") || want == "auto"
}

// isFUSE reports whether a live mount's type is a FUSE one.
func isFUSE(fstype string) bool {
	return fstype == "fuse" || strings.HasPrefix(fstype, "fuse.")
}

// isOurs reports whether m is the declared mount, resolving path sources on
// the host when they differ as strings.
func (a mountArgs) isOurs(ctx context.Context, r runner.Runner, m mounted) (bool, error) {
	if ok, known := a.fuseMatches(m); known {
		return ok, nil
	}
	if isFUSE(m.fstype) && normSource(m.source) == normSource(a.source) {
		// A FUSE program that shows the declared source under a type of
		// its own choosing (davfs2: plain "fuse"; sshfs: "fuse.sshfs").
		return true, nil
	}
	if !fstypeMatches(m.fstype, a.fstype) {
		return false, nil
	}
	want, got := normSource(a.source), normSource(m.source)
	if want == got {
		return true, nil
	}
	if !strings.HasPrefix(want, "/") || !strings.HasPrefix(got, "/") {
		return false, nil
	}
	cmd := "readlink -f -- " + shellJoin(want, got)
	res, err := MustRun(ctx, r, "readlink", cmd)
	if err != nil {
		return false, err
	}
	l := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	return len(l) == 2 && l[0] == l[1], nil
}

// fstabFields is the line fstab = true keeps for the target.
func (a mountArgs) fstabFields() []string {
	opts := a.options
	if opts == "" {
		opts = "defaults"
	}
	return []string{escapeFstab(a.source), escapeFstab(a.target), a.fstype, opts, "0", "0"}
}

// escapeFstab writes spaces and tabs the way fstab(5) wants them.
func escapeFstab(s string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`).Replace(s)
}

// unescapeFstab undoes escapeFstab's octal escapes.
func unescapeFstab(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fstabTargetLines returns the indexes of lines whose mountpoint is target,
// and whether exactly one exists and equals want (first four fields).
func fstabTargetLines(lines []string, target string, want []string) (idx []int, ok bool) {
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || path.Clean(unescapeFstab(f[1])) != target {
			continue
		}
		idx = append(idx, i)
		ok = len(f) >= 4 && f[0] == want[0] && f[2] == want[2] && f[3] == want[3]
	}
	return idx, ok && len(idx) == 1
}

// fstabWith returns content with the target's line set to want: the first
// line for the target is replaced in place, other lines for it are dropped,
// and the line is appended when there was none.
func fstabWith(content, target string, want []string) string {
	lines := splitLines(content)
	idx, _ := fstabTargetLines(lines, target, want)
	line := strings.Join(want, " ")
	if len(idx) == 0 {
		return joinLines(append(lines, line))
	}
	lines[idx[0]] = line
	return joinLines(dropLines(lines, idx[1:]))
}

// splitLines splits content into lines without the trailing empty one.
func splitLines(content string) []string {
	if content == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(content, "\n"), "\n")
}

// joinLines joins lines, each ending in a newline.
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// dropLines returns lines without the indexes in drop.
func dropLines(lines []string, drop []int) []string {
	skip := map[int]bool{}
	for _, i := range drop {
		skip[i] = true
	}
	var out []string
	for i, l := range lines {
		if !skip[i] {
			out = append(out, l)
		}
	}
	return out
}

// Check is OK when the target has the source mounted with the declared
// type and, with fstab, /etc/fstab has exactly the declared line for it.
func (k MountKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseMountArgs(args)
	if err != nil {
		return Check{}, err
	}
	m, err := a.readMount(ctx, r)
	if err != nil {
		return Check{}, err
	}
	if m == (mounted{}) {
		return Check{Reason: a.target + " is not mounted"}, nil
	}
	ours, err := a.isOurs(ctx, r, m)
	if err != nil {
		return Check{}, err
	}
	if !ours {
		return Check{Reason: fmt.Sprintf("%s has %s (%s) mounted, not %s (%s)", a.target, m.source, m.fstype, a.source, a.fstype)}, nil
	}
	if a.fstab {
		f := k.fstabOf()
		content, err := f.read(ctx, r)
		if err != nil {
			return Check{}, err
		}
		switch idx, ok := fstabTargetLines(splitLines(content), a.target, a.fstabFields()); {
		case len(idx) == 0:
			return Check{Reason: f.path + " has no line for " + a.target}, nil
		case !ok:
			return Check{Reason: f.path + "'s line for " + a.target + " differs"}, nil
		}
	}
	return Check{OK: true}, nil
}

// Apply creates the target (mkdir), mounts the source unless it already is,
// and sets the fstab line when fstab is true.
func (k MountKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseMountArgs(args)
	if err != nil {
		return nil, err
	}
	m, err := a.readMount(ctx, r)
	if err != nil {
		return nil, err
	}
	if m != (mounted{}) {
		ours, err := a.isOurs(ctx, r, m)
		if err != nil {
			return nil, err
		}
		if !ours {
			return nil, fmt.Errorf("refusing to mount %s on %s: %s (%s) is mounted there; unmount it first", a.source, a.target, m.source, m.fstype)
		}
	} else {
		if a.mkdir {
			if _, err := MustRun(ctx, r, "mkdir", MakeDirCmd(a.target)); err != nil {
				return nil, err
			}
		}
		if err := a.mountOnce(ctx, r); err != nil {
			return nil, err
		}
	}
	if !a.fstab {
		return nil, nil
	}
	want := a.fstabFields()
	return nil, k.fstabOf().edit(ctx, r, func(content string) (string, bool) {
		if _, ok := fstabTargetLines(splitLines(content), a.target, want); ok {
			return "", false
		}
		return fstabWith(content, a.target, want), true
	})
}

// Exit statuses of mountOnceScript besides 0 and mount's own.
const (
	mountTaken   = 93 // something was mounted on the target since readMount
	mountStacked = 94 // after the mount, the target holds more than one mount
)

// mountOnce mounts the source on the target, which readMount found empty.
// A peer (an administrator, Ansible's mount module, automount) may have
// mounted something there since, a round trip or more ago: the one remote
// command (mountOnceScript) looks again right before mount and refuses,
// and looks after it, so a mount stacked on another (or another on it,
// within the microseconds between) is reported, never taken for success.
// What it finds after the mount must be the declared mount as Check sees
// it: a filesystem that shows itself otherwise would be reported done now
// and drift at every plan after (and the next apply would refuse to mount
// over it), so it is unmounted again and the step fails saying what showed.
func (a mountArgs) mountOnce(ctx context.Context, r runner.Runner) error {
	cmd := a.mountOnceScript()
	res, err := Probe(ctx, r, "mount", cmd)
	if err != nil {
		return err
	}
	switch res.Exit {
	case 0:
		return a.mountedAsDeclared(ctx, r, res.Stdout)
	case mountTaken:
		return fmt.Errorf("refusing to mount %s on %s: another process mounted %s there since this step looked; unmount it first if it should not be there", a.source, a.target, lastField(res.Stdout))
	case mountStacked:
		return fmt.Errorf("mounted %s on %s, but another process mounted there at the same moment, and the target now holds %s (last one visible): unmount the one that should not be there and apply again", a.source, a.target, strings.Join(strings.Split(strings.TrimSpace(res.Stdout), "\n"), ", "))
	}
	return ExitError("mount", cmd, res)
}

// mountedAsDeclared checks what mountOnceScript found on the target after
// mounting (the last line of its output).
func (a mountArgs) mountedAsDeclared(ctx context.Context, r runner.Runner, out string) error {
	m, ok := lastMount(out)
	if !ok {
		return fmt.Errorf("mount %s on %s reported success, but nothing is mounted there: look at the filesystem's own log (a FUSE daemon may have exited after mounting)", a.source, a.target)
	}
	ours, err := a.isOurs(ctx, r, m)
	if err != nil || ours {
		return err
	}
	what := fmt.Sprintf("mounted %s (%s) on %s, but the target shows %s (%s), which is not how this step recognises its mount (plan would call it drift and the next apply refuse to mount over it)", a.source, a.fstype, a.target, m.source, m.fstype)
	if _, err := MustRun(ctx, r, "umount", "umount "+ShellQuote(a.target)); err != nil {
		return fmt.Errorf("%s; unmounting it again failed too (%v): unmount it by hand, then declare source and fstype as the mount shows them, or mount with a run step guarded by findmnt", what, err)
	}
	return fmt.Errorf("%s; it was unmounted again: declare source and fstype as the mount shows them, or mount with a run step guarded by findmnt", what)
}

// lastField returns the last line of findmnt's output, its fields joined
// as "SOURCE (FSTYPE)".
func lastField(out string) string {
	m, ok := lastMount(out)
	if !ok {
		return "something"
	}
	return fmt.Sprintf("%s (%s)", m.source, m.fstype)
}

// mountOnceScript is mountOnce's command: the target's path checked
// (EnterDir, in a subshell: no symbolic link in a directory another user
// may write on it, since mount(8) follows links in its target and would
// mount wherever such a link points), findmnt before the mount (exit
// mountTaken, printing what is there), the mount, and findmnt after it,
// printing what is on the target (exit mountStacked when that is more
// than one mount). mount(8) resolves the target again: a link put on the
// path in the microseconds between the check and the mount is followed
// (docs/reliability.md).
func (a mountArgs) mountOnceScript() string {
	words := []string{"mount", "-t", a.fstype}
	if a.options != "" {
		words = append(words, "-o", a.options)
	}
	words = append(words, a.source, a.target)
	return fmt.Sprintf(`t=%s
(d=$t s=
%s
) || exit
if findmnt -rn -o SOURCE,FSTYPE --mountpoint "$t"; then exit %d; fi
%s || exit
m=$(findmnt -rn -o SOURCE,FSTYPE --mountpoint "$t")
printf '%%s\n' "$m"
[ "$(printf '%%s\n' "$m" | wc -l)" -le 1 ] || exit %d`,
		ShellQuote(a.target), EnterDir, mountTaken, shellJoin(words...), mountStacked)
}

// Replaces says why an update from old to new arguments must unmount the
// old mount first: its target changes, and the old mount would otherwise
// stay mounted (and in /etc/fstab) beside the new one. Everything else
// changes in place (Leave drops the fstab line when fstab turns false);
// a new source or type at the same target is refused by Apply while the
// old one is mounted there ("unmount it first"), so that a data disk is
// never swapped under a running daemon by an edit.
func (MountKind) Replaces(old, new cty.Value) string {
	a, err := parseMountArgs(old)
	if err != nil {
		return ""
	}
	b, err := parseMountArgs(new)
	if err != nil || a.target == b.target {
		return ""
	}
	return fmt.Sprintf("the mount moves from %s to %s", a.target, b.target)
}

// Leave removes the target's fstab lines that name the old source when an
// update in place turns fstab from true to false: Apply with fstab false
// does not touch /etc/fstab, and the line the old arguments kept would
// mount the filesystem at every boot although the recipe no longer asks
// for it (and Destroy, with the new arguments, would no longer remove it).
// The mount itself stays: unmounting is for a replacement (Replaces) or
// destroy, and a data volume may be busy under a running daemon. Lines for
// other targets, or for the target with another source (a person's own),
// are left alone. Anything else (fstab kept, or false before) leaves
// nothing to remove: with fstab true, Apply sets the target's line itself.
func (k MountKind) Leave(ctx context.Context, r runner.Runner, old, new cty.Value) error {
	a, err := parseMountArgs(old)
	if err != nil {
		return nil // not arguments this kind recorded: nothing known to remove
	}
	b, err := parseMountArgs(new)
	if err != nil || !a.fstab || b.fstab || a.target != b.target {
		return nil // invalid new arguments are Apply's to report
	}
	if err := k.fstabOf().edit(ctx, r, a.withoutFstabLines); err != nil {
		return fmt.Errorf("removing the fstab line of %s (fstab is now false): %w", a.target, err)
	}
	return nil
}

// Destroy unmounts the target when the declared source is mounted there
// (something else mounted there is left alone) and, with fstab, removes
// the target's fstab lines that name the declared source.
func (k MountKind) Destroy(ctx context.Context, r runner.Runner, args cty.Value) error {
	a, err := parseMountArgs(args)
	if err != nil {
		return err
	}
	m, err := a.readMount(ctx, r)
	if err != nil {
		return err
	}
	if m != (mounted{}) {
		ours, err := a.isOurs(ctx, r, m)
		if err != nil {
			return err
		}
		if ours {
			if _, err := MustRun(ctx, r, "umount", "umount "+ShellQuote(a.target)); err != nil {
				return err
			}
		}
	}
	if !a.fstab {
		return nil
	}
	return k.fstabOf().edit(ctx, r, a.withoutFstabLines)
}

// withoutFstabLines returns content without the target's lines that name
// the declared source, and whether there were any.
func (a mountArgs) withoutFstabLines(content string) (string, bool) {
	lines := splitLines(content)
	idx, _ := fstabTargetLines(lines, a.target, a.fstabFields())
	var drop []int
	for _, i := range idx {
		if normSource(unescapeFstab(strings.Fields(lines[i])[0])) == normSource(a.source) {
			drop = append(drop, i)
		}
	}
	if len(drop) == 0 {
		return "", false
	}
	return joinLines(dropLines(lines, drop)), true
}
