package workspace

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
)

// FormatRequest is what `diffuser fmt` lays out.
type FormatRequest struct {
	// Paths are files and directories; none means the working directory.
	// "-" (alone) reads Stdin.
	Paths []string
	// Recursive descends into subdirectories (hidden ones, such as .git
	// and .diffuser, are skipped).
	Recursive bool
	// Write rewrites the files whose layout changes (not for Stdin).
	Write bool
	Stdin io.Reader
}

// FormattedFile is one file's outcome: its text before and after. Name is
// the path as given or found ("-" for stdin).
type FormattedFile struct {
	Name          string
	Before, After []byte
}

// Changed says whether the layout changed.
func (f FormattedFile) Changed() bool { return string(f.Before) != string(f.After) }

// Format lays out recipes and site files (*.hcl) in HCL's canonical style.
// A directory contributes its *.hcl files; a file named explicitly must be
// one too, since formatting anything else as HCL would mangle it. Files
// that do not parse are left alone and reported as diagnostics (a
// *DiagError, returned with the results of the other files). With Write,
// changed files are replaced atomically, keeping their permissions.
func Format(req FormatRequest) ([]FormattedFile, error) {
	if len(req.Paths) == 1 && req.Paths[0] == "-" {
		return formatStdin(req.Stdin)
	}
	paths := req.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		if p == "-" {
			return nil, fmt.Errorf("- (stdin) cannot be combined with other paths: format stdin on its own")
		}
		found, err := formatTargets(p, req.Recursive)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	var out []FormattedFile
	var diags hcl.Diagnostics
	srcs := map[string]*hcl.File{}
	for _, name := range files {
		before, after, d := lang.FormatFile(name)
		if d.HasErrors() {
			diags = append(diags, d...)
			if before != nil {
				srcs[name] = &hcl.File{Bytes: before}
			}
			continue
		}
		f := FormattedFile{Name: name, Before: before, After: after}
		if req.Write && f.Changed() {
			if err := replaceFile(name, after); err != nil {
				return out, err
			}
		}
		out = append(out, f)
	}
	if diags.HasErrors() {
		return out, &DiagError{Files: srcs, Diags: diags}
	}
	return out, nil
}

func formatStdin(r io.Reader) ([]FormattedFile, error) {
	if r == nil {
		r = strings.NewReader("")
	}
	b, err := io.ReadAll(io.LimitReader(r, lang.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	after, diags := lang.Format("<stdin>", b)
	if diags.HasErrors() {
		return nil, &DiagError{Files: map[string]*hcl.File{"<stdin>": {Bytes: b}}, Diags: diags}
	}
	return []FormattedFile{{Name: "-", Before: b, After: after}}, nil
}

// formatTargets lists the files p stands for, sorted: p itself when it is
// a .hcl file, the .hcl files in it when it is a directory.
func formatTargets(p string, recursive bool) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	if !fi.IsDir() {
		if !isHCL(p) {
			return nil, fmt.Errorf("%s is not an HCL file: diffuser fmt lays out recipes and site files (*.hcl); name a .hcl file or a directory", p)
		}
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if isHCL(path) && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

func isHCL(name string) bool { return strings.HasSuffix(name, ".hcl") }

// replaceFile writes b over the file at path atomically: a temporary file
// beside it (beside the link's target for a symlink), with the original's
// permission bits, renamed over it.
func replaceFile(path string, b []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".fmt-*")
	if err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("fmt %s: %w", path, err)
	}
	return nil
}
