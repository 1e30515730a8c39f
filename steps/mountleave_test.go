package steps

import (
	"context"
	"strings"
	"sync"
	"testing"

	"diffuser/runner"

	"github.com/zclconf/go-cty/cty"
)

// recordingHost is the local host (localHost) keeping the commands run.
type recordingHost struct {
	localHost
	mu   sync.Mutex
	cmds []string
}

func (h *recordingHost) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	h.mu.Lock()
	h.cmds = append(h.cmds, cmd)
	h.mu.Unlock()
	return h.localHost.Run(ctx, cmd, opt)
}

// withFstab returns mount arguments for target with fstab set.
func withFstab(target string, fstab bool) cty.Value {
	m := mountArgsFor(target).AsValueMap()
	m["fstab"] = cty.BoolVal(fstab)
	return cty.ObjectVal(m)
}

// TestMountLeaveDropsFstabLine: an update in place from fstab = true to
// fstab = false (same source and target) removes the line the old
// arguments wrote, through Leave with the old arguments, before Apply of
// the new ones, which leaves /etc/fstab alone; the mount is not
// unmounted. A person's own lines (another target, the same target with
// another source) stay, and so does the file's first content. Every
// other pair (true to true, false to false, false to true, a new target:
// a replacement's business) leaves the file as it is. With the old code
// (no Leave) the line stayed and the filesystem was mounted at every boot.
func TestMountLeaveDropsFstabLine(t *testing.T) {
	needFstabTools(t)
	ctx := context.Background()
	k, p := tempFstab(t)
	on, off := withFstab("/mnt/data", true), withFstab("/mnt/data", false)
	if _, err := k.Apply(ctx, localHost{}, on); err != nil {
		t.Fatal(err)
	}
	ours := "/dev/disk/by-id/mnt-data /mnt/data xfs defaults 0 0\n"
	if !strings.Contains(readFile(t, p), ours) {
		t.Fatalf("apply with fstab = true wrote no line:\n%s", readFile(t, p))
	}
	// A person's own lines, added after the step's.
	mine := "/dev/sdz1 /mnt/data ext4 noauto 0 0\nnas:/export /mnt/other nfs _netdev 0 0\n"
	if err := lockedRewrite(k, strings.TrimSuffix(mine, "\n")); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		old, new cty.Value
	}{
		{"true to true", on, on},
		{"false to false", off, off},
		{"false to true", off, on},
		{"a new target", on, withFstab("/mnt/elsewhere", false)},
	} {
		before := readFile(t, p)
		h := &recordingHost{}
		if err := k.Leave(ctx, h, c.old, c.new); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := readFile(t, p); got != before || len(h.cmds) != 0 {
			t.Errorf("%s: Leave ran %q and changed fstab\n%s\nto\n%s", c.name, h.cmds, before, got)
		}
	}

	h := &recordingHost{}
	if err := k.Leave(ctx, h, on, off); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Apply(ctx, h, off); err != nil {
		t.Fatal(err)
	}
	want := "# static file system information\nUUID=1234 / ext4 errors=remount-ro 0 1\n" + mine
	if got := readFile(t, p); got != want {
		t.Errorf("after the update to fstab = false, fstab is\n%s\nwant\n%s", got, want)
	}
	for _, cmd := range h.cmds {
		if strings.HasPrefix(cmd, "umount") {
			t.Errorf("the update unmounted: %q", cmd)
		}
	}
	checkNoStage(t, p, 0o640)

	// Again (the next apply after a failed Apply): nothing left to remove.
	h = &recordingHost{}
	if err := k.Leave(ctx, h, on, off); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != want || len(h.cmds) != 1 {
		t.Errorf("a second Leave ran %q, fstab\n%s", h.cmds, got)
	}
}
