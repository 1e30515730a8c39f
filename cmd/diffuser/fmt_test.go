package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFmtCLI: fmt rewrites and names what it rewrote; -check writes
// nothing, lists and exits 3; -diff prints a unified diff; "-" formats
// stdin to stdout; a broken or non-HCL file is exit 1 with a clear error.
func TestFmtCLI(t *testing.T) {
	dir := t.TempDir()
	ugly := "recipe \"x\" {\ndescription=\"d\"\n}\n"
	pretty := "recipe \"x\" {\n  description = \"d\"\n}\n"
	main := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(main, []byte(ugly), 0o644); err != nil {
		t.Fatal(err)
	}
	res := badRun(t, "fmt", "-check", dir)
	if res.code != exitNotFormatted || res.stdout != main+"\n" || res.stderr != "" {
		t.Errorf("fmt -check: exit %d, stdout %q, stderr %q; want 3 and the file's name", res.code, res.stdout, res.stderr)
	}
	res = badRun(t, "fmt", "-check", "-diff", main)
	want := "--- a/" + main + "\n+++ b/" + main + "\n@@ -1,3 +1,3 @@\n recipe \"x\" {\n-description=\"d\"\n+  description = \"d\"\n }\n"
	if res.code != exitNotFormatted || res.stdout != want {
		t.Errorf("fmt -check -diff: exit %d\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	if b, _ := os.ReadFile(main); string(b) != ugly {
		t.Fatal("-check wrote the file")
	}
	res = badRun(t, "fmt", dir)
	if res.code != exitOK || res.stdout != main+"\n" {
		t.Errorf("fmt: exit %d, stdout %q", res.code, res.stdout)
	}
	if b, _ := os.ReadFile(main); string(b) != pretty {
		t.Errorf("fmt left %q", b)
	}
	res = badRun(t, "fmt", "-check", dir)
	if res.code != exitOK || res.stdout != "" {
		t.Errorf("fmt -check of a clean directory: exit %d, stdout %q", res.code, res.stdout)
	}

	var out, errb strings.Builder
	code := run(t.Context(), nil, []string{"fmt", "-"}, strings.NewReader(ugly), &out, &errb)
	if code != exitOK || out.String() != pretty {
		t.Errorf("fmt -: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	code = run(t.Context(), nil, []string{"fmt", "-check", "-"}, strings.NewReader(ugly), &out, &errb)
	if code != exitNotFormatted || out.String() != "" {
		t.Errorf("fmt -check -: exit %d, stdout %q", code, out.String())
	}

	broken := filepath.Join(dir, "broken.hcl")
	if err := os.WriteFile(broken, []byte("recipe \"x\" {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = badRun(t, "fmt", "-check", dir)
	if res.code != exitError || !strings.Contains(res.stderr, "on "+broken+" line") {
		t.Errorf("fmt of a broken file: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = badRun(t, "fmt", notes)
	if res.code != exitError || !strings.Contains(res.stderr, "notes.txt is not an HCL file") {
		t.Errorf("fmt of a .txt file: exit %d, stderr:\n%s", res.code, res.stderr)
	}
}
