package remote

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// specialModes are the modes step kinds hand to Upload: Unix bits parsed
// from "4755" (what file and distribute do) and Go's mode bits.
var specialModes = []struct {
	name string
	mode os.FileMode
	want os.FileMode // Go's form of what must be on disk
}{
	{"setuid 4755", 0o4755, os.ModeSetuid | 0o755},
	{"setgid 2750", 0o2750, os.ModeSetgid | 0o750},
	{"sticky 1777", 0o1777, os.ModeSticky | 0o777},
	{"all 7755", 0o7755, os.ModeSetuid | os.ModeSetgid | os.ModeSticky | 0o755},
	{"go setuid", os.ModeSetuid | 0o750, os.ModeSetuid | 0o750},
	{"plain 0640", 0o640, 0o640},
}

const specialMask = os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky

// TestSudoInstallKeepsSpecialBits runs the sudo path's install script (the
// part sudo runs as root) with sh here: setuid, setgid and sticky survive,
// given either way.
func TestSudoInstallKeepsSpecialBits(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range specialModes {
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		out, err := exec.Command("sh", "-c", sudoInstallScript(src, dst, tc.mode)).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & specialMask; got != tc.want {
			t.Errorf("%s: mode %v, want %v (chmod %s)", tc.name, got, tc.want, octalMode(tc.mode))
		}
	}
}

// TestUploadKeepsSpecialBits: the SFTP path too, against the test sshd.
func TestUploadKeepsSpecialBits(t *testing.T) {
	_, _, c := newTestClient(t, sshdOptions{})
	dir := t.TempDir()
	for _, tc := range specialModes {
		dst := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		if err := c.Upload(context.Background(), strings.NewReader("x"), dst, tc.mode); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		fi, err := os.Stat(dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & specialMask; got != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.name, got, tc.want)
		}
	}
}
