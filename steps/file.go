package steps

import (
	"context"
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
// set, owner and group; Apply uploads only when the content differs (Upload
// replaces the file atomically) and fixes mode and ownership only when they
// differ. A replaced file is owned by whoever the runner uploads as, so set
// owner and group when they matter. A path that exists but is not a regular file (after symlinks) is an
// error: FileKind never replaces a directory or a device.
type FileKind struct{}

var _ Kind = FileKind{}

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
	mode         os.FileMode
	owner, group string // names
	uid, gid     string
	sha256       string
}

// fileFactsCmd prints "absent", or "mode user group uid gid" and the
// sha256sum line of a regular file; it exits 3 when the path is something else.
func fileFactsCmd(p string) string {
	q := ShellQuote(p)
	return fmt.Sprintf("if [ -f %[1]s ]; then stat -L -c '%%a %%U %%G %%u %%g' -- %[1]s && sha256sum -- %[1]s; elif [ -e %[1]s ]; then echo 'not a regular file' >&2; exit 3; else echo absent; fi", q)
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
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) == 1 && lines[0] == "absent" {
		return f, nil
	}
	st := strings.Fields(lines[0])
	if len(lines) != 2 || len(st) != 5 {
		return f, fmt.Errorf("reading %s: unexpected output %q", p, res.Stdout)
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

// fileDiff is what Apply must change.
type fileDiff struct {
	upload, chmod, chown, chgrp bool
	reasons                     []string
}

func (a fileArgs) diff(f fileFacts) fileDiff {
	var d fileDiff
	if !f.exists {
		d.upload = true
		d.reasons = append(d.reasons, a.path+" does not exist")
		return d
	}
	if w := sha256Hex(a.content); w != f.sha256 {
		d.upload = true
		d.reasons = append(d.reasons, fmt.Sprintf("content differs (sha256 %.12s, want %.12s)", f.sha256, w))
	}
	if f.mode != a.mode {
		d.chmod = true
		d.reasons = append(d.reasons, fmt.Sprintf("mode is %04o, want %04o", f.mode, a.mode))
	}
	if a.owner != "" && a.owner != f.owner && a.owner != f.uid {
		d.chown = true
		d.reasons = append(d.reasons, fmt.Sprintf("owner is %s, want %s", f.owner, a.owner))
	}
	if a.group != "" && a.group != f.group && a.group != f.gid {
		d.chgrp = true
		d.reasons = append(d.reasons, fmt.Sprintf("group is %s, want %s", f.group, a.group))
	}
	return d
}

// Check is OK when content, mode and the given owner and group match.
func (FileKind) Check(ctx context.Context, r runner.Runner, args cty.Value) (Check, error) {
	a, err := parseFileArgs(args)
	if err != nil {
		return Check{}, err
	}
	f, err := readFileFacts(ctx, r, a.path)
	if err != nil {
		return Check{}, err
	}
	d := a.diff(f)
	if len(d.reasons) == 0 {
		return Check{OK: true}, nil
	}
	return Check{Reason: strings.Join(d.reasons, "; ")}, nil
}

// Apply creates the parent directory when the file is new, uploads the
// content when it differs, then fixes mode and ownership as needed.
func (FileKind) Apply(ctx context.Context, r runner.Runner, args cty.Value) (Outputs, error) {
	a, err := parseFileArgs(args)
	if err != nil {
		return nil, err
	}
	f, err := readFileFacts(ctx, r, a.path)
	if err != nil {
		return nil, err
	}
	d := a.diff(f)
	q := ShellQuote(a.path)
	if d.upload {
		if !f.exists {
			if _, err := MustRun(ctx, r, "mkdir", "mkdir -p -- "+ShellQuote(path.Dir(a.path))); err != nil {
				return nil, err
			}
		}
		if err := r.Upload(ctx, strings.NewReader(a.content), a.path, a.mode); err != nil {
			return nil, fmt.Errorf("uploading %s: %w", a.path, err)
		}
		// The new file carries the uploaded mode; its owner is whoever the
		// runner uploads as, so a declared owner or group is set again.
		d.chmod = false
		d.chown, d.chgrp = a.owner != "", a.group != ""
	}
	if d.chmod {
		if _, err := MustRun(ctx, r, "chmod", fmt.Sprintf("chmod %04o -- %s", a.mode, q)); err != nil {
			return nil, err
		}
	}
	switch {
	case d.chown && a.group != "":
		_, err = MustRun(ctx, r, "chown", "chown -- "+ShellQuote(a.owner+":"+a.group)+" "+q)
	case d.chown:
		_, err = MustRun(ctx, r, "chown", "chown -- "+ShellQuote(a.owner)+" "+q)
	case d.chgrp:
		_, err = MustRun(ctx, r, "chgrp", "chgrp -- "+ShellQuote(a.group)+" "+q)
	}
	return nil, err
}
