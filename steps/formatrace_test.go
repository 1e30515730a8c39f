package steps

import (
	"context"
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

// needFormatTools skips when this machine lacks what formatting a file
// image runs for real.
func needFormatTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sh", "flock", "blkid", "mkfs.ext4", "mkfs.ext2", "grep", "pgrep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// emptyImage is a new zeroed file of 8 MiB, a device as blkid and mkfs see
// it. Its path holds a space, a quote and a dollar sign, as a
// /dev/disk/by-* name may, so the script's quoting is tried too.
func emptyImage(t *testing.T) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "by id", "disk 'a' $x.img")
	if err := os.MkdirAll(filepath.Dir(img), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	return img
}

func blkidType(t *testing.T, img string) string {
	t.Helper()
	out, _ := exec.Command("blkid", "-p", "-s", "TYPE", "-o", "value", img).Output()
	return strings.TrimSpace(string(out))
}

// TestFormatConcurrentFirstFormats: six format steps (as six workspaces
// listing the same device would run them, with no HostLock between them)
// apply to one empty device at once, with the real sh, flock, blkid and
// mkfs.ext4 on a file image. Each looks first and finds it empty; under
// the device's lock exactly one makes the filesystem and the others find
// it made and keep it. Without the lock several ran mkfs, each over the
// filesystem the one before had just made.
func TestFormatConcurrentFirstFormats(t *testing.T) {
	needFormatTools(t)
	img := emptyImage(t)
	// mkfs.ext4 through a wrapper that counts its runs.
	bin := t.TempDir()
	count := filepath.Join(bin, "count")
	real, _ := exec.LookPath("mkfs.ext4")
	wrapper := "#!/bin/sh\necho run >> " + count + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "mkfs.ext4"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	args := cty.ObjectVal(map[string]cty.Value{"device": cty.StringVal(img), "fstype": cty.StringVal("ext4"),
		"options": cty.ListVal([]cty.Value{cty.StringVal("-q")}), "label": cty.StringVal("data"), "force": cty.False})
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = FormatKind{}.Apply(context.Background(), localHost{}, args) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("apply %d: %v", i, err)
		}
	}
	b, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if runs := strings.Count(string(b), "run"); runs != 1 {
		t.Errorf("mkfs ran %d times on one device for %d concurrent first formats, want once", runs, n)
	}
	if got := blkidType(t, img); got != "ext4" {
		t.Errorf("the device holds %q, want ext4", got)
	}
}

// TestFormatRefusesWhatAppearedMeanwhile: the device is empty when the
// step looks; while it waits for the device's lock (held here, as a
// partitioning tool holds it), another tool makes an ext2 filesystem.
// Under the lock the step looks again, finds it and stops without
// formatting over it, saying what is there now.
func TestFormatRefusesWhatAppearedMeanwhile(t *testing.T) {
	needFormatTools(t)
	img := emptyImage(t)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	args := cty.ObjectVal(map[string]cty.Value{"device": cty.StringVal(img), "fstype": cty.StringVal("ext4"),
		"options": cty.ListValEmpty(cty.String), "label": cty.NullVal(cty.String), "force": cty.False})
	done := make(chan error, 1)
	go func() {
		_, err := FormatKind{}.Apply(context.Background(), localHost{}, args)
		done <- err
	}()
	// Wait until the step has looked and waits for the lock.
	for i := 0; ; i++ {
		if exec.Command("pgrep", "-f", "flock -w 300 9").Run() == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the step ended without waiting for the device's lock: %v", err)
		default:
		}
		if i == 200 {
			t.Fatal("the step did not wait for the device's lock within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := exec.Command("mkfs.ext2", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext2: %v %s", err, out)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the step did not end once the lock was free")
	}
	if err == nil || !strings.Contains(err.Error(), "another process wrote to it since this step looked, and it now holds ext2;") {
		t.Fatalf("the step formatted over a filesystem made meanwhile, or did not say so: %v", err)
	}
	if got := blkidType(t, img); got != "ext2" {
		t.Errorf("the device holds %q, want the ext2 made meanwhile", got)
	}
}
