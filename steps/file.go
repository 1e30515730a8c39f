package steps

import (
	"context"
	"diffuser/internal/shell"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// FileKind writes a file's content, mode and ownership. Templates are
// rendered by the loader, so content arrives as a plain string. Check
// compares the remote file's sha256 with the content's, its mode and, when
// set, owner and group; when anything differs Apply writes the whole file
// again beside the path and renames it over (fileInstallScript), so a
// peer writing the same file meanwhile leaves either its file or
// diffuser's, never a mix. Undeclared owner and group are kept from the
// file replaced (a new file belongs to whoever the runner uploads as). A
// symbolic link at the path is drift: it is replaced by the file, never
// followed (its target is neither written nor chmodded). A path that is
// something else (a directory, a device) is an error: FileKind never
// replaces it.
type FileKind struct{}

var (
	_ Kind     = FileKind{}
	_ Replacer = FileKind{}
)

type fileArgs struct {
	path    string
	content string
	mode    os.FileMode
	modeStr string
	owner   string
	group   string
}

// Name returns "file".
func (FileKind) Name() string { return "file" }

// fileSchema: path (required, an absolute file path), content (required),
// mode (octal string, default "0644"), owner and group (names or numeric
// ids).
var fileSchema = &Schema{Kind: "file", Args: []Arg{
	{Name: "path", Type: cty.String, Required: true, Check: FilePath(), Doc: "where the file goes; parent directories are made"},
	{Name: "content", Type: cty.String, Required: true, Doc: "what the file holds"},
	{Name: "mode", Default: cty.StringVal("0644"), Check: OctalMode(), Doc: "permission bits"},
	{Name: "owner", Type: cty.String, Check: userName("user"), Doc: "set only when given"},
	{Name: "group", Type: cty.String, Check: userName("group"), Doc: "set only when given"},
}}

// userName is the rule on an owner or group: a name or a numeric id ("",
// as null, leaves it alone).
func userName(what string) *Constraint {
	return StringRule(fmt.Sprintf(`a %s name such as "root" or a numeric id (no spaces or ":", not starting with "-")`, what), func(s string) bool {
		return !strings.HasPrefix(s, "-") && !strings.ContainsAny(s, ": \t\n\r\x00")
	})
}

// Schema returns the file kind's arguments.
func (FileKind) Schema() *Schema { return fileSchema }

func parseFileArgs(args cty.Value) (fileArgs, error) {
	var a fileArgs
	if err := fileSchema.Validate(args).Err(); err != nil {
		return a, err
	}
	var err error
	if a.path, err = ReqString(args, "path"); err != nil {
		return a, err
	}
	a.path = path.Clean(a.path)
	if a.content, err = OptString(args, "content", ""); err != nil {
		return a, err
	}
	if a.modeStr, err = OptString(args, "mode", "0644"); err != nil {
		return a, err
	}
	m, _ := strconv.ParseUint(a.modeStr, 8, 32) // checked by fileSchema
	a.mode = os.FileMode(m)
	if a.owner, err = OptString(args, "owner", ""); err != nil {
		return a, err
	}
	if a.group, err = OptString(args, "group", ""); err != nil {
		return a, err
	}
	return a, nil
}

// fileFacts is what the host says about the path.
type fileFacts struct {
	exists       bool
	symlink      string // the link's target when the path is a symbolic link
	mode         os.FileMode
	owner, group string // names
	uid, gid     string
	sha256       string
}

// fileFactsCmd prints "absent", "symlink" and the link's target, or "mode
// user group uid gid" and the sha256sum line of a regular file; it exits
// 3 when the path is something else. A symbolic link is not followed.
func fileFactsCmd(p string) string {
	q := ShellQuote(p)
	return fmt.Sprintf("if [ -L %[1]s ]; then echo symlink; readlink -- %[1]s || true; elif [ -f %[1]s ]; then stat -c '%%a %%U %%G %%u %%g' -- %[1]s && sha256sum -- %[1]s; elif [ -e %[1]s ]; then echo 'not a regular file' >&2; exit 3; else echo absent; fi", q)
}

func readFileFacts(ctx context.Context, r runner.Runner, p string) (fileFacts, error) {
	var f fileFacts
	cmd := fileFactsCmd(p)
	res, err := Probe(ctx, r, "reading "+p, cmd)
	if err != nil {
		return f, err
	}
	if res.Exit == 3 {
		return f, fmt.Errorf("%s exists and is not a regular file; refusing to replace it", p)
	}
	if res.Exit != 0 {
		return f, ExitError("reading "+p, cmd, res)
	}
	if link, ok := strings.CutPrefix(res.Stdout, "symlink\n"); ok {
		return fileFacts{symlink: strings.TrimSuffix(link, "\n")}, nil
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) == 1 && lines[0] == "absent" {
		return f, nil
	}
	st := strings.Fields(lines[0])
	if len(lines) != 2 || len(st) != 5 {
		return f, fmt.Errorf("reading %s: unexpected output %s", p, runner.QuoteOutput(res.Stdout))
	}
	m, err := strconv.ParseUint(st[0], 8, 32)
	if err != nil {
		return f, fmt.Errorf("reading %s: bad mode %q", p, st[0])
	}
	// GNU sha256sum starts the line with a backslash when it had to escape
	// the file name (one holding a backslash or a newline).
	sum := strings.Fields(strings.TrimPrefix(lines[1], `\`))
	if len(sum) == 0 || len(sum[0]) != 64 {
		return f, fmt.Errorf("reading %s: bad sha256sum output %q", p, lines[1])
	}
	f = fileFacts{exists: true, mode: os.FileMode(m), owner: st[1], group: st[2], uid: st[3], gid: st[4], sha256: sum[0]}
	return f, nil
}

// diff lists what differs from the declared file.
func (a fileArgs) diff(f fileFacts) []string {
	switch {
	case f.symlink != "":
		return []string{fmt.Sprintf("%s is a symbolic link to %s, not a file", a.path, f.symlink)}
	case !f.exists:
		return []string{a.path + " does not exist"}
	}
	var d []string
	if w := sha256Hex(a.content); w != f.sha256 {
		d = append(d, fmt.Sprintf("content differs (sha256 %.12s, want %.12s)", f.sha256, w))
	}
	if f.mode != a.mode {
		d = append(d, fmt.Sprintf("mode is %04o, want %04o", f.mode, a.mode))
	}
	if a.owner != "" && a.owner != f.owner && a.owner != f.uid {
		d = append(d, fmt.Sprintf("owner is %s, want %s", f.owner, a.owner))
	}
	if a.group != "" && a.group != f.group && a.group != f.gid {
		d = append(d, fmt.Sprintf("group is %s, want %s", f.group, a.group))
	}
	return d
}

// Check is OK when the path is a regular file (not a symbolic link) with
// the content, mode and the given owner and group.
func (FileKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseFileArgs(args)
	if err != nil {
		return Check{}, err
	}
	f, err := readFileFacts(ctx, r, a.path)
	if err != nil {
		return Check{}, err
	}
	if d := a.diff(f); len(d) > 0 {
		return Check{Reason: strings.Join(d, "; ")}, nil
	}
	return Check{OK: true}, nil
}

// Apply writes the whole file again whenever anything differs: the content
// is staged beside the path (Upload, itself atomic), the stage is given
// its owner, group and mode, and renamed over the path (fileInstallScript).
// Nothing is ever done through the path but that rename, so a symbolic link
// a peer put there (to /etc/shadow, say) is replaced, never written through,
// and its target never chmodded or chowned, even when the link appears
// between this read and the write; a directory there fails the rename.
func (FileKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseFileArgs(args)
	if err != nil {
		return nil, err
	}
	f, err := readFileFacts(ctx, r, a.path)
	if err != nil || len(a.diff(f)) == 0 {
		return nil, err
	}
	if !f.exists && f.symlink == "" {
		// One component at a time: mkdir -p made directories wherever a
		// link on the path pointed, and the upload went there too.
		if _, err := MustRun(ctx, r, "mkdir", MakeDirCmd(path.Dir(a.path))); err != nil {
			return nil, err
		}
	}
	stage := stagePath(a.path, a.path+"\x00"+a.modeStr+"\x00"+a.owner+"\x00"+a.group+"\x00"+a.content)
	if err := r.Upload(ctx, strings.NewReader(a.content), stage, a.mode); err != nil {
		return nil, fmt.Errorf("uploading %s: %w", a.path, err)
	}
	_, err = MustRun(ctx, r, "installing "+a.path, fileInstallScript(a, stage))
	return nil, err
}

// Replaces says why an update from old to new arguments is a
// replacement: the path changes, and the file at the old one would stay
// beside the new (a unit file still loaded, a config still read). The
// kind removes nothing itself, as it leaves the file when its step leaves
// the recipe: the engine runs the step's destroy command as recorded for
// the old path, when there is one and the step still has one (engine
// replaceWhy). Content, mode and
// ownership change in place.
func (FileKind) Replaces(old, new cty.Value) string {
	a, err := parseFileArgs(old)
	if err != nil {
		return ""
	}
	b, err := parseFileArgs(new)
	if err != nil || a.path == b.path {
		return ""
	}
	return fmt.Sprintf("the file moves from %s to %s", a.path, b.path)
}

// fileInstallScript gives stage the declared owner and group (undeclared:
// those of the regular file it replaces, if any, best effort; else the
// uploader's), then the mode (chown clears setuid bits), and renames it
// over the path (mv -T: never into a directory). On failure the stage is
// removed.
//
// Owner and mode are set through a descriptor of the stage, never through
// its name (GuardedStage): where a user other than root may write the
// directory (a recipe writing /home/alice/.ssh/authorized_keys with owner
// alice), that user could put a link to /etc/shadow in the stage's place
// between the upload and the chown, and chown and chmod follow links.
func fileInstallScript(a fileArgs, stage string) string {
	q := ShellQuote
	var own string
	switch {
	case a.owner != "" && a.group != "":
		own = "chown -- " + q(a.owner+":"+a.group) + " /proc/self/fd/3"
	case a.owner != "":
		own = "chown -- " + q(a.owner) + " /proc/self/fd/3"
	case a.group != "":
		own = "chgrp -- " + q(a.group) + " /proc/self/fd/3"
	}
	keep := `{ [ -L "$f" ] || [ ! -f "$f" ] || chown --reference="$f" /proc/self/fd/3 2>/dev/null || true; }`
	if own != "" && (a.owner == "" || a.group == "") {
		own = keep + " && " + own
	} else if own == "" {
		own = keep
	}
	return fmt.Sprintf(`d=%s f=%s s=%s
%s
%s
{ %s && chmod %04o /proc/self/fd/3 && mv -fT -- "$s" "$f"; } || { st=$?; rm -f -- "$s"; exit $st; }`,
		q(path.Dir(a.path)), q(path.Base(a.path)), q(path.Base(stage)), EnterDir, GuardedStage, own, a.mode)
}

// EnterDir (shell, for install scripts that set "d" to an absolute,
// clean directory first) makes "$d" the working directory one component
// at a time, so that the script's names after it ("$s", "$f") are
// relative to the directory it checked, whatever is renamed meanwhile. A
// symbolic link is followed only out of a directory no other user may
// write (root's or this user's, without group or other write: /lib ->
// usr/lib, /var/run -> /run); out of another (a home directory, /tmp),
// a component must be a real directory: after entering it, its parent
// must be the directory it was entered from. Otherwise nothing is done
// but removing the stage "$s" the upload put there (exit 3): a user who may write /home/alice could make .ssh a link to
// /root/.ssh and have root's authorized_keys written. Each component is
// entered as ./NAME, which cd never looks up in CDPATH: with a CDPATH
// root exports (/etc/environment, .bashrc), a bare NAME went to a
// namesake under a CDPATH entry.
const EnterDir = enterDirHead + enterDirTail

// EnterOrMakeDir is EnterDir that first makes a component that does not
// exist (mkdir of one name in the directory just entered, never through
// a link: a dangling link there fails mkdir and then cd), where
// "mkdir -p DIR" would make directories wherever a link on the way
// points.
const EnterOrMakeDir = enterDirHead + `  [ -e "$c" ] || [ -L "$c" ] || mkdir -- "$c" || [ -d "$c" ] || exit 3
` + enterDirTail

// MakeDirCmd makes the absolute directory dir and what is missing above
// it, one component at a time (EnterOrMakeDir), refusing a symbolic link
// in a directory another user may write on the way.
func MakeDirCmd(dir string) string {
	return "d=" + ShellQuote(path.Clean(dir)) + " s=\n" + EnterOrMakeDir
}

const enterDirHead = `me=$(id -u)
cd / || exit 3
rest=${d#/} at=
while [ -n "$rest" ]; do
  c=${rest%%/*}
  case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
  [ -n "$c" ] || continue
`

const enterDirTail = `  up=$(stat -c '%d:%i:%u:%a' .) || exit 3
  cd -P -- "./$c" || exit 3
  at=$at/$c
  u=${up#*:*:} a=${up##*:}
  u=${u%%:*} g=${a%?} o=${a#"${a%?}"}
  g=${g#"${g%?}"}
  case $u:$g:$o in 0:[0145]:[0145]|"$me":[0145]:[0145]) continue ;; esac
  if [ "$(stat -c '%d:%i' ..)" != "${up%:*:*}" ]; then
    echo "diffuser: $at is a symbolic link in a directory another user may write (${at%/*}/): refusing to use $d through it; make $at a real directory, or use another path" >&2
    [ -z "${s-}" ] || rm -f -- "$d/$s"
    exit 3
  fi
done`

// GuardedStage (shell, for install scripts that set "s" to the stage's
// name and "d" to its directory, the working directory, after EnterDir)
// opens the stage "$s" as descriptor 3 when it is the file the upload
// made (OpenChecked: this user's, one link, not a link). Otherwise
// nothing is done through it: the name is removed (rm does not follow a
// link) and the step fails (exit 3), naming the directory someone else
// writes.
var GuardedStage = `if ! ` + shell.OpenChecked("s", 3, "<", true) + `; then
  rm -f -- "$s"
  echo "diffuser: the staged copy $d/$s was replaced by another process before it was installed: nothing was done through it. Someone else writes into $d (a user who owns it, or may write it without the sticky bit?)" >&2
  exit 3
fi`
