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

// TestSudoInstallTempSwappedForLinkNotFollowed: where another user may
// write dst's directory, that user replaces the sudo path's temporary
// file with a link to a secret (root's, 0600, as /etc/shadow) right after
// mktemp, again and again. The script writes and chmods through a
// descriptor of the file mktemp made: the secret keeps its content and
// mode, and an install that finds its file replaced fails saying so. The
// old script (cat > "$t"; chmod "$t") wrote the content into the secret.
func TestSudoInstallTempSwappedForLinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "shadow")
	if err := os.WriteFile(secret, []byte("root:$6$secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "authorized_keys")
	stop := filepath.Join(dir, "stop")
	peer := exec.Command("/bin/sh", "-c", `while [ ! -e "$3" ]; do for s in "$2"/.authorized_keys.diffuser-*; do [ -f "$s" ] && [ ! -L "$s" ] && ln -sfn "$1" "$s"; done; done`, "sh", secret, dir, stop)
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = peer.Wait(); close(done) }()
	defer func() { _ = os.WriteFile(stop, nil, 0o600); <-done }()

	refused, installed := 0, 0
	for i := 0; i < 200; i++ {
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, []byte("ssh-ed25519 AAAA alice\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sh", "-c", sudoInstallScript(src, dst, 0o644)).CombinedOutput()
		switch {
		case err != nil && strings.Contains(string(out), "was replaced by another process before it was written"):
			refused++
		case err != nil:
			t.Logf("install %d: %v: %s", i, err, out)
		default:
			installed++
		}
		b, _ := os.ReadFile(secret)
		fi, err := os.Stat(secret)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "root:$6$secret\n" || fi.Mode().Perm() != 0o600 {
			t.Fatalf("after %d installs the secret holds %q with mode %04o: the install went through the link", i+1, b, fi.Mode().Perm())
		}
	}
	t.Logf("200 installs against a user relinking the temporary file: %d refused, %d installed", refused, installed)
}
