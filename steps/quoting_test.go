package steps_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/builtin"
	"diffuser/steps/steptest"
)

// shRunner runs commands in a real /bin/sh whose PATH holds only stubs:
// each stub logs its argv and prints a scripted answer. So a kind's
// commands are parsed by a real shell, and any injected command (touch, rm,
// reboot) would show up in the log instead of running.
type shRunner struct {
	dir, log string
	uploads  []steptest.Upload
}

// newShRunner makes stubs for the tools the kinds call; answers maps a
// tool to the shell snippet its stub runs after logging (default: exit 0).
func newShRunner(t *testing.T, answers map[string]string) *shRunner {
	t.Helper()
	dir := t.TempDir()
	r := &shRunner{dir: dir, log: filepath.Join(dir, "stub.log")}
	tools := []string{
		"apt-get", "dpkg-query", "find", "head", "stat", "sha256sum", "mkdir", "chown", "chgrp", "chmod",
		"blkid", "wipefs", "mkfs.xfs", "mkfs.btrfs", "findmnt", "mount", "umount", "cat", "readlink",
		"systemctl", "journalctl", "timeout", "bash", "nc", "flock", "mv", "id",
		// What an injection would call.
		"touch", "rm", "reboot",
	}
	for _, tool := range tools {
		script := "#!/bin/sh\nprintf '%s\\037' \"${0##*/}\" \"$@\" >> \"$STUBLOG\"\nprintf '\\036' >> \"$STUBLOG\"\n" + answers[tool] + "\n"
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *shRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Dir = r.dir
	c.Env = []string{"PATH=" + r.dir, "STUBLOG=" + r.log}
	for k, v := range opt.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	return steptest.RunCmd(c)
}

func (r *shRunner) Upload(_ context.Context, rd io.Reader, path string, mode os.FileMode) error {
	b, err := io.ReadAll(rd)
	r.uploads = append(r.uploads, steptest.Upload{Path: path, Mode: mode, Content: string(b)})
	if err == nil && strings.HasPrefix(path, r.dir+"/") {
		// Written for real in the stub dir, as a host would have it.
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(path, b, mode)
		}
	}
	return err
}

// calls returns each stub call as argv.
func (r *shRunner) calls(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, rec := range strings.Split(strings.TrimSuffix(string(b), "\x1e"), "\x1e") {
		out = append(out, strings.Split(strings.TrimSuffix(rec, "\x1f"), "\x1f"))
	}
	return out
}

// TestHostileValuesStayData runs each kind's Check and Apply through a real
// shell with hostile argument values: no injected command may run, nothing
// may be created, and each value must reach the tool as one whole argument.
func TestHostileValuesStayData(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	const inj = "x$(touch pwned)`touch pwned`;touch pwned;rm -rf /;reboot #"
	const deviceMarker = "<device in the stub dir>"
	const injNoSpace = "x$(touch${IFS}pwned)`touch${IFS}pwned`;touch${IFS}pwned;reboot"
	// A file's path (a mount's target) is in the stub dir, made there for
	// real one component at a time (MakeDirCmd; the upload writes the
	// stage there for the install script to open), and stat tells the
	// scripts each directory is root's and the stage the file uploaded
	// (EnterDir, fileInstallScript's guard).
	const dirMarker = "<stub dir>/"
	stageAnswers := map[string]string{"id": "echo 0", "mkdir": `/bin/mkdir "$@"`, "stat": `case "$*" in
*%d:%i:%u:%a*) echo 1:1:0:755 ;;
*"%d:%i ..") echo 1:1 ;;
*) echo "regular file:0:1:1:1" ;;
esac`}
	cases := []struct {
		kind    string
		args    map[string]cty.Value
		answers map[string]string
		// wantArg: the stub that must have received value as one argument.
		tool, value string
	}{
		{"file", map[string]cty.Value{"path": cty.StringVal(dirMarker + inj), "content": cty.StringVal("x"), "owner": cty.StringVal(injNoSpace)},
			stageAnswers, "chown", injNoSpace},
		{"file", map[string]cty.Value{"path": cty.StringVal(dirMarker + inj), "content": cty.StringVal("x")},
			stageAnswers, "mkdir", "x$(touch pwned)`touch pwned`;touch pwned;rm -rf "}, // made one component at a time
		{"package", map[string]cty.Value{"names": cty.ListVal([]cty.Value{cty.StringVal(injNoSpace)})},
			map[string]string{"dpkg-query": "exit 1"}, "apt-get", injNoSpace},
		{"format", map[string]cty.Value{"device": cty.StringVal(deviceMarker), "fstype": cty.StringVal("btrfs"), "label": cty.StringVal(inj)},
			map[string]string{"blkid": "exit 2"}, "mkfs.btrfs", inj},
		// The target is made for real in the stub dir, one component at a
		// time (steps.MakeDirCmd), and entered again before the mount.
		{"format", map[string]cty.Value{"device": cty.StringVal(deviceMarker), "fstype": cty.StringVal("btrfs"), "options": cty.ListVal([]cty.Value{cty.StringVal(inj)})},
			map[string]string{"blkid": "exit 2"}, "mkfs.btrfs", inj},
		{"mount", map[string]cty.Value{"source": cty.StringVal("10.0.0.2:/" + inj), "target": cty.StringVal(dirMarker + inj), "fstype": cty.StringVal("nfs"),
			"options": cty.StringVal("x," + injNoSpace), "fstab": cty.True},
			map[string]string{"findmnt": "exit 1", "mkdir": stageAnswers["mkdir"], "id": stageAnswers["id"], "stat": stageAnswers["stat"]}, "mount", "10.0.0.2:/" + inj},
		{"service", map[string]cty.Value{"name": cty.StringVal(injNoSpace), "state": cty.StringVal("started")},
			map[string]string{"systemctl": `case "$1" in is-active) echo active;; esac`}, "systemctl", injNoSpace},
		{"run", map[string]cty.Value{"command": cty.StringVal("mkdir ok"), "creates": cty.StringVal("/" + inj)},
			nil, "mkdir", "ok"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			r := newShRunner(t, c.answers)
			kind, _ := builtin.WithClock(steptest.NewClock()).Lookup(c.kind)
			if c.args["device"] == cty.StringVal(deviceMarker) {
				// test -e is a shell builtin: the device must exist.
				dev := filepath.Join(r.dir, inj)
				if err := os.MkdirAll(filepath.Dir(dev), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dev, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				c.args["device"] = cty.StringVal(dev)
				c.value = dev
			}
			for _, name := range []string{"path", "target"} {
				if p, ok := c.args[name]; ok && strings.HasPrefix(p.AsString(), dirMarker) {
					c.args[name] = cty.StringVal(r.dir + "/" + strings.TrimPrefix(p.AsString(), dirMarker))
					c.value = strings.Replace(c.value, dirMarker, r.dir+"/", 1)
				}
			}
			args := objectFor(t, kind, c.args)
			ctx := context.Background()
			if _, err := kind.Check(ctx, r, args); err != nil {
				t.Logf("check: %v", err)
			}
			if _, err := kind.Apply(ctx, r, args); err != nil {
				t.Logf("apply: %v", err)
			}
			calls := r.calls(t)
			found := false
			for _, argv := range calls {
				if slices.Contains([]string{"touch", "rm", "reboot"}, argv[0]) && !isFstabStageCleanup(argv) {
					t.Errorf("injected command ran: %q", argv)
				}
				if argv[0] == c.tool && slices.Contains(argv[1:], c.value) {
					found = true
				}
			}
			if _, err := os.Stat(filepath.Join(r.dir, "pwned")); err == nil {
				t.Error("an injected command created a file")
			}
			if !found {
				t.Errorf("no %s call got %q as one argument; calls: %q", c.tool, c.value, calls)
			}
		})
	}
}

// fstabStage is the name of the mount kind's staged fstab.
var fstabStage = regexp.MustCompile(`^/etc/\.fstab\.diffuser-[0-9a-f]{16}$`)

// isFstabStageCleanup reports whether argv is the mount kind removing its
// own staged fstab after a failed swap, the one rm a kind runs.
func isFstabStageCleanup(argv []string) bool {
	return len(argv) == 4 && argv[0] == "rm" && argv[1] == "-f" && argv[2] == "--" && fstabStage.MatchString(argv[3])
}

// objectFor builds a kind's argument object from the given attributes,
// the others null (as the loader's shorthands do).
func objectFor(t *testing.T, kind steps.Kind, attrs map[string]cty.Value) cty.Value {
	t.Helper()
	ty := hcldec.ImpliedType(kind.Schema().Spec())
	vals := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		if v, ok := attrs[name]; ok {
			vals[name] = v
		} else {
			vals[name] = cty.NullVal(at)
		}
	}
	for name := range attrs {
		if !ty.HasAttribute(name) {
			t.Fatalf("kind %s has no attribute %s", kind.Name(), name)
		}
	}
	v, err := convert.Convert(cty.ObjectVal(vals), ty)
	if err != nil {
		t.Fatalf("args: %v", err)
	}
	return v
}
