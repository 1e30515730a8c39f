package docker

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoopAttachFindDetach binds a sparse file to a loop device with the
// ioctls, finds it again by file, refuses to detach it for another file,
// and detaches it. Needs root; fast enough for -short.
func TestLoopAttachFindDetach(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("no loop devices here: %v", err)
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "v.img")
	if err := createSparse(file, 64<<20); err != nil {
		t.Fatal(err)
	}
	if loops, err := findLoops(file); err != nil || len(loops) != 0 {
		t.Fatalf("fresh file bound to %v, %v", loops, err)
	}
	dev, err := attachLoop(file, -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := detachLoop(dev, file); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if _, ok := loopNumber(dev); !ok {
		t.Fatalf("attachLoop returned %q", dev)
	}
	loops, err := findLoops(file)
	if err != nil || len(loops) != 1 || loops[0] != dev {
		t.Fatalf("findLoops = %v, %v; want [%s]", loops, err, dev)
	}
	b, err := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/loop/autoclear")
	if err != nil || string(b) != "0\n" {
		t.Errorf("autoclear = %q, %v; want 0", b, err)
	}

	other := filepath.Join(dir, "other.img")
	if err := createSparse(other, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := detachLoop(dev, other); err != nil {
		t.Fatalf("detach for another file: %v", err)
	}
	if loops, _ := findLoops(file); len(loops) != 1 {
		t.Fatalf("detachLoop for another file detached %s", dev)
	}

	if err := detachLoop(dev, file); err != nil {
		t.Fatal(err)
	}
	if loops, err := findLoops(file); err != nil || len(loops) != 0 {
		t.Fatalf("after detach: bound to %v, %v", loops, err)
	}
}
