package steps

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// fileArgsVal is a file step's arguments for path with content and mode.
func fileArgsVal(path, content, mode string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"path": cty.StringVal(path), "content": cty.StringVal(content), "mode": cty.StringVal(mode),
		"owner": cty.NullVal(cty.String), "group": cty.NullVal(cty.String),
	})
}

// TestFilePeerSymlinkNeverFollowed: a peer keeps replacing the managed
// file with a symbolic link to a secret file (0600, as /etc/shadow is)
// while FileKind applies 0644 content again and again with the real sh,
// chmod and mv. The secret keeps its mode and content, and no stage is
// left. With the old apply (upload to the path, then chmod the path) the
// chmod went through the peer's new link (the secret became 0644 in 3 of
// 3 runs).
func TestFilePeerSymlinkNeverFollowed(t *testing.T) {
	needFstabTools(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "shadow")
	if err := os.WriteFile(secret, []byte("root:$6$secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	managed := filepath.Join(dir, "app.conf")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The peer, in a tight loop: puts the declared content back at mode
	// 0600 (so that only the mode differs), then replaces the file with a
	// link to the secret, as a tool restoring "its" link.
	peer := exec.CommandContext(ctx, "/bin/sh", "-c", `while [ ! -e "$2.stop" ]; do printf 'port = 80\n' > "$2.peer"; chmod 600 "$2.peer"; mv -f "$2.peer" "$2"; ln -sfn "$1" "$2"; done`, "sh", secret, managed)
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = peer.Wait() })
	stop := func() { // the loop ends by itself, so none of its commands outlives it
		_ = os.WriteFile(managed+".stop", nil, 0o600)
		wg.Wait()
		_ = os.Remove(managed + ".stop")
	}
	defer stop()

	deadline := time.Now().Add(3 * time.Second)
	applies, replaced := 0, 0
	for time.Now().Before(deadline) {
		_, err := FileKind{}.Apply(ctx, localHost{}, fileArgsVal(managed, "port = 80\n", "0644"))
		applies++
		if err != nil {
			t.Logf("apply %d: %v", applies, err)
		}
		if fi, err := os.Lstat(managed); err == nil && fi.Mode().IsRegular() {
			replaced++
		}
		fi, err := os.Stat(secret)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("after %d applies the secret behind the peer's link has mode %04o: the apply went through the link", applies, fi.Mode().Perm())
		}
	}
	stop()
	if b, _ := os.ReadFile(secret); string(b) != "root:$6$secret\n" {
		t.Errorf("the secret was written: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".diffuser-") || strings.HasPrefix(e.Name(), ".upload-") || strings.HasSuffix(e.Name(), ".peer") {
			t.Errorf("stage %s left", e.Name())
		}
	}
	t.Logf("%d applies against a peer relinking the file; the file was seen regular after %d of them", applies, replaced)
}

// TestFileStageSwappedForLinkNotFollowed: where someone else may write
// the directory (a recipe writing /home/alice/.ssh/authorized_keys with
// owner alice), that someone replaces the staged copy with a link to a
// secret file (0600, root's, as /etc/shadow) between the upload and the
// install script, again and again. Owner and mode are set through a
// descriptor of the file uploaded, never through the name: the secret
// keeps its mode and owner, an apply that finds its stage replaced
// fails saying so, and no stage is left. With the old install script
// (chown and chmod of the stage's name) the secret became 0644 and the
// declared owner's.
func TestFileStageSwappedForLinkNotFollowed(t *testing.T) {
	needFstabTools(t)
	for _, tool := range []string{"stat", "id", "chown", "ln"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "shadow")
	if err := os.WriteFile(secret, []byte("root:$6$secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(secret)
	if err != nil {
		t.Fatal(err)
	}
	managed := filepath.Join(dir, "authorized_keys")
	args := fileArgsVal(managed, "ssh-ed25519 AAAA alice\n", "0644")
	if os.Geteuid() == 0 {
		// As root, the stage is given to another user, as the recipe's
		// owner = "alice" would: the chown must not reach the secret.
		args = cty.ObjectVal(map[string]cty.Value{
			"path": cty.StringVal(managed), "content": cty.StringVal("ssh-ed25519 AAAA alice\n"), "mode": cty.StringVal("0644"),
			"owner": cty.StringVal("nobody"), "group": cty.NullVal(cty.String),
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The other user, in a tight loop: every stage that appears becomes a
	// link to the secret.
	peer := exec.CommandContext(ctx, "/bin/sh", "-c", `while [ ! -e "$2/stop" ]; do for s in "$2"/.authorized_keys.diffuser-*; do [ -f "$s" ] && [ ! -L "$s" ] && ln -sfn "$1" "$s"; done; done`, "sh", secret, dir)
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = peer.Wait() })
	stop := func() {
		_ = os.WriteFile(filepath.Join(dir, "stop"), nil, 0o600)
		wg.Wait()
	}
	defer stop()

	deadline := time.Now().Add(3 * time.Second)
	applies, refused, installed := 0, 0, 0
	for time.Now().Before(deadline) {
		_ = os.Remove(managed) // each apply writes the file anew
		_, err := FileKind{}.Apply(ctx, localHost{}, args)
		applies++
		switch {
		case err != nil && strings.Contains(err.Error(), "was replaced by another process before it was installed"):
			refused++
		case err != nil:
			t.Logf("apply %d: %v", applies, err)
		default:
			installed++
		}
		fi, err := os.Stat(secret)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || !sameOwner(fi, before) {
			t.Fatalf("after %d applies the secret has mode %04o, owner changed %v: the install went through the other user's link", applies, fi.Mode().Perm(), !sameOwner(fi, before))
		}
	}
	stop()
	if b, _ := os.ReadFile(secret); string(b) != "root:$6$secret\n" {
		t.Errorf("the secret was written: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		// A link may be left: the other user's loop makes one after a
		// refusal removed the stage.
		if strings.Contains(e.Name(), ".diffuser-") && e.Type()&os.ModeSymlink == 0 {
			t.Errorf("stage %s left (%v)", e.Name(), e.Type())
		}
	}
	if refused == 0 {
		t.Logf("the other user never got its link in before the install script (%d applies): the guard was not exercised this time", applies)
	}
	t.Logf("%d applies against a user relinking the stage: %d refused (stage replaced), %d installed", applies, refused, installed)
}

// sameOwner reports whether a and b have the same owner and group.
func sameOwner(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Uid == sb.Uid && sa.Gid == sb.Gid
}

// TestFileDirLinkOfAnotherUserRefused: a directory on a file's path that
// another user may write (a home directory) holds a link where the path
// expects a directory (.ssh -> the root's .ssh): the file is not written
// through it (root's authorized_keys would get the other user's key),
// nothing is left in the link's target, and the error names the link.
// A link out of a directory no one else may write (/lib -> usr/lib) is
// followed as ever.
func TestFileDirLinkOfAnotherUserRefused(t *testing.T) {
	needFstabTools(t)
	for _, tool := range []string{"stat", "id", "chown"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	base := t.TempDir()
	home := filepath.Join(base, "home")
	rootSSH := filepath.Join(base, "rootssh")
	for _, d := range []string{home, rootSSH} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(home, 0o777); err != nil { // anyone may write it
		t.Fatal(err)
	}
	if err := os.Symlink(rootSSH, filepath.Join(home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	_, err := FileKind{}.Apply(context.Background(), localHost{}, fileArgsVal(filepath.Join(home, ".ssh", "authorized_keys"), "ssh-ed25519 AAAA alice\n", "0600"))
	if err == nil || !strings.Contains(err.Error(), "/home/.ssh is a symbolic link in a directory another user may write") {
		t.Fatalf("apply through another user's link: %v", err)
	}
	if ents, _ := os.ReadDir(rootSSH); len(ents) != 0 {
		t.Errorf("the link's target holds %v after the refusal", ents)
	}

	// The same link out of a directory only this user may write.
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (FileKind{}).Apply(context.Background(), localHost{}, fileArgsVal(filepath.Join(home, ".ssh", "authorized_keys"), "ssh-ed25519 AAAA alice\n", "0600")); err != nil {
		t.Fatalf("apply through a link of a directory no one else writes: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(rootSSH, "authorized_keys")); err != nil || string(b) != "ssh-ed25519 AAAA alice\n" {
		t.Errorf("through the trusted link: %q, %v", b, err)
	}
}

// TestFileDirLinkMakesNothingThere: the file's directory is missing below
// a link in a directory another user may write (.ssh -> root's .ssh,
// the path .ssh/keys/authorized_keys): the step fails naming the link
// before anything is made or uploaded, and the link's target stays empty.
// With mkdir -p, keys was made in root's .ssh (and the stage uploaded
// into it) before the install refused.
func TestFileDirLinkMakesNothingThere(t *testing.T) {
	needFstabTools(t)
	for _, tool := range []string{"stat", "id", "mkdir"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	base := t.TempDir()
	home, rootSSH := filepath.Join(base, "home"), filepath.Join(base, "rootssh")
	for _, d := range []string{home, rootSSH} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rootSSH, filepath.Join(home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	_, err := FileKind{}.Apply(context.Background(), stubHost{bin: base}, fileArgsVal(filepath.Join(home, ".ssh", "keys", "authorized_keys"), "ssh-ed25519 AAAA alice\n", "0600"))
	if err == nil || !strings.Contains(err.Error(), "/home/.ssh is a symbolic link in a directory another user may write") {
		t.Fatalf("apply through another user's link: %v", err)
	}
	if ents, _ := os.ReadDir(rootSSH); len(ents) != 0 {
		t.Errorf("made in the link's target: %v", ents[0].Name())
	}
}

// TestGuardedStageOpenFailsWithItsMessage: the stage is gone (or became
// something that cannot be opened) between the guard's lstat and its
// open. dash, the usual /bin/sh, ends the whole script at a failed
// redirection of the exec special built-in, so the guard's own branch
// (remove the name, say what happened, exit 3) never ran: the step failed
// with exit 2 and only "cannot open". The open is now a `command exec`.
func TestGuardedStageOpenFailsWithItsMessage(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// lstat says a regular file of this user with one link: it was there.
	if err := os.WriteFile(filepath.Join(bin, "stat"), []byte("#!/bin/sh\necho \"regular file:$(id -u):1:5:5\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "d=" + ShellQuote(dir) + " s=.f.diffuser-x\ncd \"$d\" || exit 9\n" + GuardedStage + "\necho opened"
	c := exec.Command("/bin/sh", "-c", script)
	c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := c.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "was replaced by another process before it was installed") {
		t.Fatalf("guard on a stage that cannot be opened: %v\n%s", err, out)
	}
}
