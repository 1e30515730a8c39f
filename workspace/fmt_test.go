package workspace

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/lang"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestShippedFilesFormatted: every built-in recipe (and module directory,
// at any depth under recipes/) and every example is laid out as
// `diffuser fmt` would: fmt -check passes on the repository.
func TestShippedFilesFormatted(t *testing.T) {
	files, err := Format(FormatRequest{Paths: []string{"../recipes", "../examples"}, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("only %d .hcl files found under recipes/ and examples/", len(files))
	}
	for _, f := range files {
		if f.Changed() {
			t.Errorf("%s is not fmt-clean: run diffuser fmt -recursive recipes examples", f.Name)
		}
	}
}

// TestFormatLayoutOnly: formatting changes whitespace only. Every .hcl
// file of the repository that parses, and a deliberately messy one, lexes
// to the same tokens before and after (heredoc text included).
func TestFormatLayoutOnly(t *testing.T) {
	var names []string
	for _, dir := range []string{"../recipes", "../examples", "../lang/testdata", "../cmd/diffuser/testdata"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".hcl") {
				names = append(names, p)
			}
			return nil
		})
	}
	if len(names) < 50 {
		t.Fatalf("only %d files", len(names))
	}
	srcs := map[string][]byte{"messy.hcl": []byte(messy)}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		srcs[n] = b
	}
	checked := 0
	for name, src := range srcs {
		if _, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos); d.HasErrors() {
			continue
		}
		out, diags := lang.Format(name, src)
		if diags.HasErrors() {
			continue // binary or too large: refused, nothing to compare
		}
		checked++
		if a, b := tokens(t, src), tokens(t, out); a != b {
			t.Errorf("%s: formatting changed more than layout:\nbefore %s\nafter  %s", name, a, b)
		}
		again, _ := lang.Format(name, out)
		if !bytes.Equal(again, out) {
			t.Errorf("%s: formatting is not idempotent", name)
		}
	}
	if checked < 40 {
		t.Errorf("only %d files compared", checked)
	}
}

const messy = `recipe "m" {
description="messy"
}
variable "n" {
   type=number
       default = 2
}
locals {
  a = 1
  bbbbbb = "x"   # comment
  t = <<-EOT
      keep   this    spacing
    %{ if true ~}
      and this
    %{ endif ~}
  EOT
}
`

// tokens is the source's token stream without newlines, each token's
// text as written (whitespace between tokens is no token).
func tokens(t *testing.T, src []byte) string {
	t.Helper()
	toks, diags := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var b strings.Builder
	for _, tok := range toks {
		if tok.Type == hclsyntax.TokenNewline {
			continue
		}
		b.WriteString(tok.Type.String())
		b.WriteString("(")
		b.Write(tok.Bytes)
		b.WriteString(") ")
	}
	return b.String()
}

// TestFormatFiles: directories give their .hcl files (subdirectories with
// Recursive, hidden ones never); a named non-HCL file is refused; a file
// that does not parse is reported and left alone while the others are
// formatted; rewrites keep permissions and write through symlinks.
func TestFormatFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	ugly := "a=1\nbb = 2\n"
	pretty := "a  = 1\nbb = 2\n"
	top := write("main.hcl", ugly, 0o640)
	clean := write("clean.hcl", pretty, 0o644)
	sub := write("mod/sub.hcl", ugly, 0o600)
	hidden := write(".diffuser/x.hcl", ugly, 0o600)
	notes := write("notes.txt", ugly, 0o644)
	broken := write("broken.hcl", "a = {\n", 0o644)
	link := filepath.Join(dir, "link.hcl")
	target := write("target/real.hcl", ugly, 0o664)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	// Check mode: nothing written, the broken file reported.
	files, err := Format(FormatRequest{Paths: []string{dir}})
	var de *DiagError
	if !errors.As(err, &de) || len(de.Diags) == 0 || de.Diags[0].Subject.Filename != broken {
		t.Fatalf("broken.hcl not reported: %v", err)
	}
	var changed []string
	for _, f := range files {
		if f.Changed() {
			changed = append(changed, filepath.Base(f.Name))
		}
	}
	if strings.Join(changed, ",") != "link.hcl,main.hcl" {
		t.Errorf("changed %v, want link.hcl and main.hcl (not the subdirectory's, not the hidden one)", changed)
	}
	if b, _ := os.ReadFile(top); string(b) != ugly {
		t.Error("a check rewrote main.hcl")
	}

	// Write, recursive.
	_, err = Format(FormatRequest{Paths: []string{dir}, Recursive: true, Write: true})
	if !errors.As(err, &de) {
		t.Fatalf("broken.hcl not reported: %v", err)
	}
	for p, want := range map[string]string{top: pretty, sub: pretty, target: pretty, clean: pretty, hidden: ugly, notes: ugly, broken: "a = {\n"} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s: %q, want %q", p, b, want)
		}
	}
	for p, mode := range map[string]os.FileMode{top: 0o640, sub: 0o600, target: 0o664} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode().Perm(), mode, err)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.hcl is no longer a symlink")
	}
	for _, d := range []string{dir, filepath.Dir(target), filepath.Dir(sub)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".fmt-") {
				t.Errorf("a temporary file was left behind: %s", filepath.Join(d, e.Name()))
			}
		}
	}

	_, err = Format(FormatRequest{Paths: []string{notes}})
	if err == nil || !strings.Contains(err.Error(), "notes.txt is not an HCL file") {
		t.Errorf("a .txt file: %v", err)
	}
	_, err = Format(FormatRequest{Paths: []string{filepath.Join(dir, "missing.hcl")}})
	if err == nil || !strings.Contains(err.Error(), "missing.hcl") {
		t.Errorf("a missing file: %v", err)
	}
	_, err = Format(FormatRequest{Paths: []string{"-", top}})
	if err == nil || !strings.Contains(err.Error(), "stdin") {
		t.Errorf("- with a file: %v", err)
	}
	files, err = Format(FormatRequest{Paths: []string{"-"}, Stdin: strings.NewReader(ugly)})
	if err != nil || len(files) != 1 || string(files[0].After) != pretty {
		t.Errorf("stdin: %v %v", files, err)
	}
	_, err = Format(FormatRequest{Paths: []string{"-"}, Stdin: strings.NewReader("x\x00")})
	if !errors.As(err, &de) || de.Diags[0].Summary != "Binary file" {
		t.Errorf("binary stdin: %v", err)
	}
}
