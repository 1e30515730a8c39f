package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// mountLine finds the type and source in mountOnceScript's mount command.
var mountLine = regexp.MustCompile(`\nmount -t (\S+) (?:-o \S+ )?(\S+) \S+ \|\| exit\n`)

// makeDirLine finds the directory in MakeDirCmd's command.
var makeDirLine = regexp.MustCompile(`^d=(\S+) s=\n`)

// localHost is a runner.Runner on this machine: /bin/sh for commands,
// temp file + rename for uploads (as remote.Client does). Mount commands
// are answered instead of run: findmnt says nothing is mounted, mkdir and
// the mount command (mountOnceScript) succeed, showing what it mounted, so that MountKind's fstab edit is what runs for real.
type localHost struct{}

func (localHost) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if strings.HasPrefix(cmd, "t=") { // the mount and its two findmnts
		// What findmnt shows after it: the source and type it mounted.
		m := mountLine.FindStringSubmatch(cmd)
		if m == nil {
			return runner.Result{}, fmt.Errorf("no mount command in %q", cmd)
		}
		return runner.Result{Stdout: m[2] + " " + m[1] + "\n"}, nil
	}
	if m := makeDirLine.FindStringSubmatch(cmd); m != nil && cmd == MakeDirCmd(m[1]) {
		return runner.Result{}, nil // a mount's target, not made on this machine
	}
	switch strings.Fields(cmd)[0] {
	case "findmnt":
		return runner.Result{Exit: 1}, nil
	case "mkdir", "mount", "umount":
		return runner.Result{}, nil
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	return runLocal(c)
}

// runLocal runs c as a host would for a Runner: output captured, a
// non-zero exit a Result, not an error (steptest.RunCmd for the tests of
// other packages, which may import steptest).
func runLocal(c *exec.Cmd) (runner.Result, error) {
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return runner.Result{Exit: ee.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}, nil
	}
	return runner.Result{Stdout: stdout.String(), Stderr: stderr.String()}, err
}

func (localHost) Upload(_ context.Context, r io.Reader, path string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// needFstabTools skips when this machine lacks what the swap runs.
func needFstabTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sh", "flock", "sha256sum", "chown", "chmod", "mv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// tempFstab writes an fstab with a root line into a new directory and
// returns a MountKind editing it, and the file's path.
func tempFstab(t *testing.T) (MountKind, string) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fstab")
	if err := os.WriteFile(p, []byte("# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return MountKind{fstab: p, fstabLock: filepath.Join(dir, "diffuser-fstab.lock")}, p
}

func mountArgsFor(target string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"source": cty.StringVal("/dev/disk/by-id/" + strings.ReplaceAll(strings.Trim(target, "/"), "/", "-")),
		"target": cty.StringVal(target), "fstype": cty.StringVal("xfs"), "options": cty.NullVal(cty.String),
		"fstab": cty.True, "mkdir": cty.True,
	})
}

// lockedRewrite is a well-behaved peer's edit: under the diffuser lock
// (flock(2), as flock(1) takes it), read the file, append line, write a
// temp file and rename it over the file.
func lockedRewrite(k MountKind, line string) error {
	l, err := os.OpenFile(k.fstabLock, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := syscall.Flock(int(l.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	b, err := os.ReadFile(k.fstab)
	if err != nil {
		return err
	}
	tmp := k.fstab + ".peer"
	if err := os.WriteFile(tmp, append(b, line+"\n"...), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, k.fstab)
}

// TestFstabConcurrentEditors: 6 diffuser processes' mount steps (no
// shared HostLock: as many MountKind.Apply at once, each with its own
// "connection") add 4 lines each to one fstab through a real shell,
// flock and rename, while a peer tool appends its own lines to the same
// file 30 times; then half of the mounts are destroyed concurrently
// with the peer still writing. No line of anyone is lost, no stage file
// is left, and the file keeps its mode.
func TestFstabConcurrentEditors(t *testing.T) {
	needFstabTools(t)
	k, p := tempFstab(t)
	const editors, perEditor, peerLines = 6, 4, 30
	ctx := context.Background()
	target := func(e, i int) string { return fmt.Sprintf("/mnt/e%d/m%d", e, i) }

	peer := func(tag string, done *sync.WaitGroup) {
		defer done.Done()
		for i := 0; i < peerLines; i++ {
			if err := lockedRewrite(k, fmt.Sprintf("peer:/%s%d /srv/%s%d nfs defaults 0 0", tag, i, tag, i)); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(7 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go peer("a", &wg)
	for e := 0; e < editors; e++ {
		wg.Go(func() {
			for i := 0; i < perEditor; i++ {
				if _, err := k.Apply(ctx, localHost{}, mountArgsFor(target(e, i))); err != nil {
					t.Errorf("apply %s: %v", target(e, i), err)
				}
			}
		})
	}
	wg.Wait()
	content := readFile(t, p)
	for e := 0; e < editors; e++ {
		for i := 0; i < perEditor; i++ {
			if !strings.Contains(content, " "+target(e, i)+" xfs defaults 0 0\n") {
				t.Errorf("the line for %s is lost", target(e, i))
			}
		}
	}
	wantLines(t, content, "peer:/a", peerLines)

	// Destroy the even editors' mounts while the peer writes again.
	wg.Add(1)
	go peer("b", &wg)
	for e := 0; e < editors; e += 2 {
		wg.Go(func() {
			for i := 0; i < perEditor; i++ {
				if err := k.Destroy(ctx, localHost{}, mountArgsFor(target(e, i))); err != nil {
					t.Errorf("destroy %s: %v", target(e, i), err)
				}
			}
		})
	}
	wg.Wait()
	content = readFile(t, p)
	for e := 0; e < editors; e++ {
		for i := 0; i < perEditor; i++ {
			if has := strings.Contains(content, " "+target(e, i)+" "); has != (e%2 == 1) {
				t.Errorf("after destroying the even editors' mounts, the line for %s present = %v", target(e, i), has)
			}
		}
	}
	wantLines(t, content, "peer:/a", peerLines)
	wantLines(t, content, "peer:/b", peerLines)
	if !strings.HasPrefix(content, "# static file system information\nUUID=1234 / ext4") {
		t.Errorf("the original lines changed:\n%s", content)
	}
	checkNoStage(t, p, 0o640)
}

// peerBetween is the local host with a peer tool that rewrites fstab
// after every read and before every swap: while diffuser stages its new
// content (Upload), the peer's lockedRewrite lands. Deterministic, where a
// peer looping on its own may, on a loaded machine, miss the window
// between a read and its swap.
type peerBetween struct {
	localHost
	k      MountKind
	writes int
}

func (p *peerBetween) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	p.writes++
	if err := lockedRewrite(p.k, fmt.Sprintf("# peer %d", p.writes)); err != nil {
		return err
	}
	return p.localHost.Upload(ctx, r, path, mode)
}

// TestFstabPeerNeverStops: a peer that rewrites the file between every
// read and swap makes every swap find a changed file; the edit gives up
// after fstabAttempts with an error saying what to do, and leaves the file
// as the peer wrote it and no stage behind.
func TestFstabPeerNeverStops(t *testing.T) {
	needFstabTools(t)
	k, p := tempFstab(t)
	peer := &peerBetween{k: k}
	_, err := k.Apply(context.Background(), peer, mountArgsFor("/mnt/busy"))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("changed %d times", fstabAttempts)) || !strings.Contains(err.Error(), "apply again") {
		t.Fatalf("apply against a peer that never stops: %v, want the give-up error", err)
	}
	if peer.writes != fstabAttempts {
		t.Errorf("the peer wrote %d times, want one per try (%d)", peer.writes, fstabAttempts)
	}
	content := readFile(t, p)
	if strings.Contains(content, "/mnt/busy") {
		t.Errorf("the line was written although every swap should have found the file changed:\n%s", content)
	}
	if !strings.Contains(content, fmt.Sprintf("# peer %d\n", fstabAttempts)) {
		t.Errorf("the peer's last line is not in the file:\n%s", content)
	}
	checkNoStage(t, p, 0o640)
}

// TestFstabSwapKeepsOwnerAndMode: a successful swap gives the new file
// the old one's mode (and owner: chown --reference), and a missing fstab
// is created.
func TestFstabSwapKeepsOwnerAndMode(t *testing.T) {
	needFstabTools(t)
	k, p := tempFstab(t)
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Apply(context.Background(), localHost{}, mountArgsFor("/mnt/one")); err != nil {
		t.Fatal(err)
	}
	checkNoStage(t, p, 0o604)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Apply(context.Background(), localHost{}, mountArgsFor("/mnt/two")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != "/dev/disk/by-id/mnt-two /mnt/two xfs defaults 0 0\n" {
		t.Errorf("a missing fstab became %q", got)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantLines checks that content has n lines starting with prefix.
func wantLines(t *testing.T, content, prefix string, n int) {
	t.Helper()
	got := 0
	for _, l := range strings.Split(content, "\n") {
		if strings.HasPrefix(l, prefix) {
			got++
		}
	}
	if got != n {
		t.Errorf("%d lines start with %q, want %d: the peer's edits were lost", got, prefix, n)
	}
}

// checkNoStage checks that only the file and its lock are in its
// directory and that the file has mode.
func checkNoStage(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); n != "fstab" && n != "diffuser-fstab.lock" {
			t.Errorf("%s is left beside fstab", n)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("fstab has mode %o, want %o", fi.Mode().Perm(), mode)
	}
}
