package steps

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// stubHost runs commands with this machine's /bin/sh (all of them, where
// localHost answers mkdir and mount commands itself), with bin first on
// PATH (stubs of the tools that must not run for real); before, when
// set, acts first (a user of the host doing something at a chosen
// moment).
type stubHost struct {
	bin    string
	before func(cmd string)
}

func (h stubHost) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if h.before != nil {
		h.before(cmd)
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = append(os.Environ(), "PATH="+h.bin+":"+os.Getenv("PATH"))
	c.Stdin = opt.Stdin
	return runLocal(c)
}

// Upload writes for real, as localHost does.
func (stubHost) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	return localHost{}.Upload(ctx, r, path, mode)
}

// TestMountTargetLinkOfAnotherUserRefused: a mount target below a
// directory another user may write (a home directory, mode 0777 here)
// whose path that user made go through a link (data -> a directory of
// root's): the step neither makes directories in the link's target
// (mkdir -p did) nor mounts there (mount(8) follows links in its target),
// whether the link was there before the apply or appeared between the
// mkdir and the mount; the error names the link. A target without links
// is made and mounted as ever. With the old commands, mount was run on
// the link and mkdir -p made etc/sub.
func TestMountTargetLinkOfAnotherUserRefused(t *testing.T) {
	for _, tool := range []string{"stat", "id", "mkdir"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	base := t.TempDir()
	bin, home, etc := filepath.Join(base, "bin"), filepath.Join(base, "home"), filepath.Join(base, "etc")
	for _, d := range []string{bin, home, etc} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(home, 0o777); err != nil { // anyone may write it
		t.Fatal(err)
	}
	mounts := filepath.Join(base, "mounts")
	for name, body := range map[string]string{
		"findmnt": "#!/bin/sh\nexit 1\n", // nothing mounted
		"mount":   "#!/bin/sh\necho \"$@\" >>" + mounts + "\n",
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mounted := func() string { b, _ := os.ReadFile(mounts); return string(b) }
	args := func(target string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{
			"source": cty.StringVal("/dev/loop7"), "target": cty.StringVal(target), "fstype": cty.StringVal("xfs"),
			"options": cty.NullVal(cty.String), "fstab": cty.False, "mkdir": cty.True,
		})
	}
	ctx := context.Background()
	const refusal = "/home/data is a symbolic link in a directory another user may write"

	// The link is there before the apply.
	if err := os.Symlink(etc, filepath.Join(home, "data")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{filepath.Join(home, "data"), filepath.Join(home, "data", "sub")} {
		_, err := MountKind{}.Apply(ctx, stubHost{bin: bin}, args(target))
		if err == nil || !strings.Contains(err.Error(), refusal) {
			t.Errorf("mount on %s through the user's link: %v", target, err)
		}
	}
	if m := mounted(); m != "" {
		t.Fatalf("mount ran through the link: %s", m)
	}
	if ents, _ := os.ReadDir(etc); len(ents) != 0 {
		t.Fatalf("directories made in the link's target: %v", ents)
	}

	// The user makes the target a link between the mkdir and the mount.
	if err := os.Remove(filepath.Join(home, "data")); err != nil {
		t.Fatal(err)
	}
	swap := func(cmd string) {
		if strings.HasPrefix(cmd, "t=") { // the mount's own command
			_ = os.Remove(filepath.Join(home, "data"))
			_ = os.Symlink(etc, filepath.Join(home, "data"))
		}
	}
	_, err := MountKind{}.Apply(ctx, stubHost{bin: bin, before: swap}, args(filepath.Join(home, "data")))
	if err == nil || !strings.Contains(err.Error(), refusal) {
		t.Errorf("mount after the target became a link: %v", err)
	}
	if m := mounted(); m != "" {
		t.Fatalf("mount ran through the link: %s", m)
	}

	// No link: made and mounted.
	_ = os.Remove(filepath.Join(home, "data"))
	target := filepath.Join(home, "data", "sub")
	_, _ = MountKind{}.Apply(ctx, stubHost{bin: bin}, args(target)) // the stub mounts nothing: "nothing is mounted there"
	if fi, err := os.Lstat(target); err != nil || !fi.IsDir() {
		t.Fatalf("target not made: %v", err)
	}
	if m := mounted(); !strings.Contains(m, "/dev/loop7 "+target) {
		t.Fatalf("mount was not run on %s: %q", target, m)
	}
}
