package views

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnifiedDiffGolden(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	after := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn"
	var out bytes.Buffer
	if err := WriteUnifiedDiff(&out, "x.hcl", []byte(before), []byte(after)); err != nil {
		t.Fatal(err)
	}
	want := `--- a/x.hcl
+++ b/x.hcl
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -11,3 +11,4 @@
 k
 l
 m
+n
\ No newline at end of file
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	_ = WriteUnifiedDiff(&out, "x.hcl", []byte(before), []byte(before))
	if out.Len() != 0 {
		t.Errorf("equal files gave a diff:\n%s", out.String())
	}
}

// TestUnifiedDiffPatches: patch(1) turns the old text into the new one
// with every diff, for random edits.
func TestUnifiedDiffPatches(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch(1) not installed")
	}
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d", "e"}
	gen := func() []string {
		var ls []string
		for range r.IntN(30) {
			ls = append(ls, words[r.IntN(len(words))]+"\n")
		}
		return ls
	}
	dir := t.TempDir()
	for i := range 200 {
		a, b := strings.Join(gen(), ""), strings.Join(gen(), "")
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(a), 0o600); err != nil {
			t.Fatal(err)
		}
		var d bytes.Buffer
		if err := WriteUnifiedDiff(&d, "f", []byte(a), []byte(b)); err != nil {
			t.Fatal(err)
		}
		if d.Len() == 0 {
			if a != b {
				t.Fatalf("case %d: no diff for different texts", i)
			}
			continue
		}
		cmd := exec.Command("patch", "-s", "-p1", "-d", dir)
		cmd.Stdin = &d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("case %d: patch: %v\n%s\ndiff:\n%s", i, err, out, d.String())
		}
		got, _ := os.ReadFile(filepath.Join(dir, "f"))
		if string(got) != b {
			t.Fatalf("case %d: patched text differs\nbefore:\n%s\nwant:\n%s\ngot:\n%s\ndiff:\n%s", i, a, b, got, d.String())
		}
	}
}
