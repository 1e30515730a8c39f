package distribute

import (
	"bytes"
	"context"
	"diffuser/steps/steptest"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/runner"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// localRunner runs commands with this machine's /bin/sh, as a host's
// root would; before, when set, acts first (a user of the host doing
// something at a chosen moment).
type localRunner struct {
	before func(cmd string)
}

func (l localRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if l.before != nil {
		l.before(cmd)
	}
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdin = opt.Stdin
	return steptest.RunCmd(c)
}

func (localRunner) Upload(context.Context, io.Reader, string, os.FileMode) error {
	return errors.New("distribute does not upload")
}

// raceScene is a distribute step to a directory another user may write
// (mode 0777, as a home directory whose owner the step writes for), and
// a secret (0600, as /etc/shadow) elsewhere that the user would like
// root to write or chmod.
type raceScene struct {
	dir, dest, part, secret string
	data                    []byte
	args                    cty.Value
}

const secretContent = "root:$6$secret:19000:0:99999:7:::\n"

func newRaceScene(t *testing.T) *raceScene {
	t.Helper()
	for _, tool := range []string{"stat", "id", "dd", "truncate", "sha256sum", "mv", "chmod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	base := t.TempDir()
	s := &raceScene{dir: filepath.Join(base, "home"), secret: filepath.Join(base, "etc", "shadow")}
	for _, d := range []string{s.dir, filepath.Dir(s.secret)} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.dir, 0o777); err != nil { // anyone may write it
		t.Fatal(err)
	}
	if err := os.WriteFile(s.secret, []byte(secretContent), 0o600); err != nil {
		t.Fatal(err)
	}
	s.data = make([]byte, 300<<10)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range s.data {
		s.data[i] = byte(r.Uint32())
	}
	src := filepath.Join(base, "app.tar")
	if err := os.WriteFile(src, s.data, 0o644); err != nil {
		t.Fatal(err)
	}
	s.dest = filepath.Join(s.dir, "app.tar")
	sum := sumOf(s.data)
	art, err := openArtifact(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.part = distArgs{dest: s.dest}.partPath(partKey(art, sum))
	s.args = distObject(t, map[string]cty.Value{
		"source": cty.StringVal(src), "dest": cty.StringVal(s.dest),
		"sha256": cty.StringVal(sum), "file_mode": cty.StringVal("0644"),
	})
	return s
}

// distObject is the step's arguments with attrs set, the rest null.
func distObject(t *testing.T, attrs map[string]cty.Value) cty.Value {
	t.Helper()
	ty := hcldec.ImpliedType(schema.Spec())
	vals := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		if v, ok := attrs[name]; ok {
			vals[name] = v
		} else {
			vals[name] = cty.NullVal(at)
		}
	}
	v, err := convert.Convert(cty.ObjectVal(vals), ty)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// secretIntact fails the test when the secret's content, mode or owner
// changed.
func (s *raceScene) secretIntact(t *testing.T) {
	t.Helper()
	fi, err := os.Lstat(s.secret)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(s.secret)
	if string(b) != secretContent || fi.Mode() != 0o600 {
		t.Fatalf("the secret behind the user's link was changed: mode %v, %d bytes (%.40q)", fi.Mode(), len(b), b)
	}
}

// destHolds fails the test unless dest is a regular file with the data
// and mode 0644.
func (s *raceScene) destHolds(t *testing.T) {
	t.Helper()
	fi, err := os.Lstat(s.dest)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("dest is %v, want a regular file 0644", fi.Mode())
	}
	if b, _ := os.ReadFile(s.dest); !bytes.Equal(b, s.data) {
		t.Fatalf("dest holds %d bytes, not the source's %d", len(b), len(s.data))
	}
}

// link puts a symbolic link to target at name, replacing what is there.
func link(t *testing.T, target, name string) {
	t.Helper()
	_ = os.Remove(name)
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

// TestDistributeLinksNotFollowed: a user who may write dest's directory
// puts a link to a secret (as /etc/shadow) where a direct transfer
// writes, truncates, chmods or renames by name: at the part file's
// predictable name before the apply (resumed), and right before the
// stream, the install and the mode fix. Nothing is written or chmodded
// through a link, the secret keeps content and mode, and dest ends a
// regular file with the source's content or the step fails saying why.
// With the old commands the secret was truncated and appended to
// (cat >>PART), overwritten (tee -- PART) or made 0644 (chmod -- PART,
// chmod -- DEST).
func TestDistributeLinksNotFollowed(t *testing.T) {
	ctx := context.Background()
	t.Run("a link planted at the part name is not resumed through", func(t *testing.T) {
		s := newRaceScene(t)
		link(t, s.secret, s.part)
		if _, err := (Kind{}).Apply(ctx, localRunner{}, s.args); err != nil {
			t.Fatalf("apply: %v", err)
		}
		s.secretIntact(t)
		s.destHolds(t)
	})
	t.Run("a link planted at the part name right before the stream", func(t *testing.T) {
		s := newRaceScene(t)
		before := func(cmd string) {
			if strings.Contains(cmd, "tee") {
				link(t, s.secret, s.part)
			}
		}
		if _, err := (Kind{}).Apply(ctx, localRunner{before: before}, s.args); err != nil {
			t.Fatalf("apply: %v", err)
		}
		s.secretIntact(t)
		s.destHolds(t)
	})
	t.Run("a resumed part swapped for a link right before the append", func(t *testing.T) {
		s := newRaceScene(t)
		if err := os.WriteFile(s.part, s.data[:1000], 0o600); err != nil {
			t.Fatal(err)
		}
		before := func(cmd string) {
			if strings.Contains(cmd, "truncate") || strings.Contains(cmd, "cat >>") {
				link(t, s.secret, s.part)
			}
		}
		_, err := (Kind{}).Apply(ctx, localRunner{before: before}, s.args)
		s.secretIntact(t)
		if err == nil || !strings.Contains(err.Error(), "is not the one diffuser wrote") {
			t.Fatalf("apply with the part replaced: %v", err)
		}
	})
	t.Run("the part swapped for a link right before the install", func(t *testing.T) {
		s := newRaceScene(t)
		before := func(cmd string) {
			if strings.Contains(cmd, "mv -f") {
				link(t, s.secret, s.part)
			}
		}
		_, err := (Kind{}).Apply(ctx, localRunner{before: before}, s.args)
		s.secretIntact(t)
		if err == nil || !strings.Contains(err.Error(), "is not the one diffuser wrote") {
			t.Fatalf("apply with the part replaced: %v", err)
		}
		if fi, err := os.Lstat(s.dest); err == nil {
			t.Fatalf("dest installed (%v) from a part that was replaced", fi.Mode())
		}
	})
	t.Run("dest swapped for a link right before the mode fix", func(t *testing.T) {
		s := newRaceScene(t)
		// dest holds the content at the wrong mode: only a chmod is due.
		if err := os.WriteFile(s.dest, s.data, 0o600); err != nil {
			t.Fatal(err)
		}
		swapped := false
		before := func(cmd string) {
			if strings.Contains(cmd, "chmod") && !swapped {
				swapped = true
				link(t, s.secret, s.dest)
			}
		}
		if _, err := (Kind{}).Apply(ctx, localRunner{before: before}, s.args); err != nil {
			t.Fatalf("apply: %v", err)
		}
		if !swapped {
			t.Fatal("no chmod was run")
		}
		s.secretIntact(t)
		s.destHolds(t) // the link was replaced by the file
	})
	t.Run("a directory on dest's path that is a link in a directory another user may write", func(t *testing.T) {
		s := newRaceScene(t)
		other := filepath.Dir(s.secret)
		link(t, other, filepath.Join(s.dir, "sub"))
		args := distObject(t, map[string]cty.Value{
			"source": s.args.GetAttr("source"), "dest": cty.StringVal(filepath.Join(s.dir, "sub", "shadow")),
			"sha256": s.args.GetAttr("sha256"), "file_mode": cty.StringVal("0644"),
		})
		_, err := (Kind{}).Apply(ctx, localRunner{}, args)
		if err == nil || !strings.Contains(err.Error(), "/home/sub is a symbolic link in a directory another user may write") {
			t.Fatalf("apply through the user's link: %v", err)
		}
		s.secretIntact(t)
		ents, _ := os.ReadDir(other)
		if len(ents) != 1 {
			t.Fatalf("the link's target holds %v", ents)
		}
	})
}

// TestHopLinksNotFollowed: the relay's hop (run as root by the relay's
// sshd) writes the part file the same way: a link at the part's name is
// replaced by a new part for a stream from byte 0 and refused for a
// resumed one, and the secret is never written; a sender whose dest was
// made a link does not read through it.
func TestHopLinksNotFollowed(t *testing.T) {
	data := make([]byte, 200<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	secretAt := func(t *testing.T, hh *hopHosts) string {
		p := filepath.Join(hh.root, "shadow")
		if err := os.WriteFile(p, []byte(secretContent), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	intact := func(t *testing.T, p string) {
		t.Helper()
		fi, err := os.Lstat(p)
		b, _ := os.ReadFile(p)
		if err != nil || string(b) != secretContent || fi.Mode() != 0o600 {
			t.Fatalf("the secret was changed: %v, %.40q", err, b)
		}
	}
	t.Run("stream from byte 0", func(t *testing.T) {
		hh := newHopHosts(t, "a")
		secret := secretAt(t, hh)
		link(t, secret, hh.part("a"))
		hh.plan(t, "a", 1, "recv 0")
		hh.run(t, "a", 1, data)
		intact(t, secret)
		fi, err := os.Lstat(hh.part("a"))
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("part: %v %v", fi, err)
		}
		if got := hh.file(t, "a/file.part"); !bytes.Equal(got, data) {
			t.Fatalf("part has %d bytes, want the %d sent", len(got), len(data))
		}
	})
	t.Run("resumed stream", func(t *testing.T) {
		hh := newHopHosts(t, "a")
		secret := secretAt(t, hh)
		link(t, secret, hh.part("a"))
		hh.plan(t, "a", 2, "recv 10")
		cmd := exec.Command("sh", filepath.Join(hh.root, "a", "d", "hop"), "2")
		cmd.Stdin = bytes.NewReader(data[10:])
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is not the one diffuser wrote") {
			t.Fatalf("hop through a link: %v\n%s", err, out)
		}
		intact(t, secret)
		if _, err := os.Lstat(hh.part("a")); err == nil {
			t.Fatal("the link at the part's name was left")
		}
	})
	t.Run("a part of another user's", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give the part away")
		}
		hh := newHopHosts(t, "a")
		if err := os.WriteFile(hh.part("a"), data[:100], 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(hh.part("a"), 65534, 65534); err != nil {
			t.Fatal(err)
		}
		hh.plan(t, "a", 3, "recv 100")
		cmd := exec.Command("sh", filepath.Join(hh.root, "a", "d", "hop"), "3")
		cmd.Stdin = bytes.NewReader(data[100:])
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is not the one diffuser wrote") {
			t.Fatalf("hop appending to another user's file: %v\n%s", err, out)
		}
	})
	t.Run("a sender's dest made a link", func(t *testing.T) {
		hh := newHopHosts(t, "src", "x")
		secret := secretAt(t, hh)
		link(t, secret, hh.dest("src"))
		hh.plan(t, "src", 4, "send 0", "x 1 0")
		hh.plan(t, "x", 4, "recv 0")
		cmd := exec.Command("sh", filepath.Join(hh.root, "src", "d", "hop"), "4")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("hop sent from a link:\n%s", out)
		}
		if b, _ := os.ReadFile(hh.part("x")); bytes.Contains(b, []byte("secret")) {
			t.Fatal("the secret was sent on")
		}
	})
}

// TestDistributeRelinkedInLoop: the user of dest's directory, in a tight
// loop, turns every part file and dest itself into a link to the secret
// while the step applies again and again (dest removed before each, so
// that every apply streams, hashes and installs). The secret keeps its
// content and mode whatever the interleaving; an apply either installs
// the file or fails saying what it found. With the old commands the
// secret was overwritten at the first apply.
func TestDistributeRelinkedInLoop(t *testing.T) {
	s := newRaceScene(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	peer := exec.CommandContext(ctx, "/bin/sh", "-c", `while [ ! -e "$2/stop" ]; do for f in "$2"/.app.tar.diffuser-*.part "$2/app.tar"; do [ -e "$f" ] && [ ! -L "$f" ] && ln -sfn "$1" "$f"; done; done`, "sh", s.secret, s.dir)
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = peer.Wait() })
	stop := func() {
		_ = os.WriteFile(filepath.Join(s.dir, "stop"), nil, 0o600)
		wg.Wait()
	}
	defer stop()
	deadline := time.Now().Add(2 * time.Second)
	applies, failed := 0, 0
	for time.Now().Before(deadline) {
		_ = os.Remove(s.dest)
		_, err := (Kind{}).Apply(ctx, localRunner{}, s.args)
		applies++
		if err != nil {
			failed++
			if msg := err.Error(); !strings.Contains(msg, "is not the one diffuser wrote") && !strings.Contains(msg, "checksum mismatch") && !strings.Contains(msg, "could not make the part file") {
				t.Logf("apply %d: %v", applies, err)
			}
		}
		s.secretIntact(t)
	}
	stop()
	s.secretIntact(t)
	t.Logf("%d applies against a user relinking the part and dest: %d failed", applies, failed)
}
