package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Loop devices are driven with the kernel's ioctls (golang.org/x/sys/unix)
// rather than losetup: no parsing of another tool's output, and errors such
// as EBUSY (another process took the free device first) can be retried
// exactly. Devices are attached without LO_FLAGS_AUTOCLEAR, so they outlive
// this process: a container keeps its volume across diffuser runs until
// Destroy detaches it.

// loopPath returns /dev/loopN.
func loopPath(n int) string { return "/dev/loop" + strconv.Itoa(n) }

// loopNumber parses /dev/loopN.
func loopNumber(dev string) (int, bool) {
	s, ok := strings.CutPrefix(dev, "/dev/loop")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// loopBacks reports whether loop device n is bound to the file with fi's
// device and inode.
func loopBacks(n int, fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	f, err := os.OpenFile(loopPath(n), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := unix.IoctlLoopGetStatus64(int(f.Fd()))
	if err != nil {
		return false // ENXIO: not bound
	}
	return info.Device == uint64(st.Dev) && info.Inode == st.Ino
}

// findLoops returns the loop devices bound to file (normally zero or one),
// found through /sys/block/loop*/loop/backing_file and confirmed by inode.
func findLoops(file string) ([]string, error) {
	fi, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", file, err)
	}
	bound, err := boundLoops()
	if err != nil {
		return nil, err
	}
	var out []string
	for n, backing := range bound {
		if backing == file && loopBacks(n, fi) {
			out = append(out, loopPath(n))
		}
	}
	return out, nil
}

// boundLoops maps loop device number to backing file path for every bound
// loop device (" (deleted)" suffix kept when the file is gone).
func boundLoops() (map[int]string, error) {
	paths, err := filepath.Glob("/sys/block/loop*/loop/backing_file")
	if err != nil {
		return nil, fmt.Errorf("list loop devices: %w", err)
	}
	out := map[int]string{}
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(filepath.Dir(p)))
		n, ok := loopNumber("/dev/" + name)
		if !ok {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue // detached since the glob
		}
		out[n] = strings.TrimRight(string(b), "\n")
	}
	return out, nil
}

// attachLoop binds file to a free loop device and returns its path. If want
// is >= 0 it binds that device (which must be free) instead: Start uses it
// to put a volume back on the device a container was created with.
func attachLoop(file string, want int) (string, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open loop control: %w", err)
	}
	defer ctl.Close()
	bf, err := os.OpenFile(file, os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0) // never a link planted under a volume file's name
	if err != nil {
		return "", fmt.Errorf("open volume file: %w", err)
	}
	defer bf.Close()

	for attempt := 0; ; attempt++ {
		n := want
		if n < 0 {
			n, err = unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
			if err != nil {
				return "", fmt.Errorf("find a free loop device: %w", err)
			}
		} else if _, err := os.Stat(loopPath(n)); errors.Is(err, os.ErrNotExist) {
			// Ask the kernel to create it; EEXIST is fine.
			_ = unix.IoctlSetInt(int(ctl.Fd()), unix.LOOP_CTL_ADD, n)
		}
		err = bindLoop(n, bf, file)
		if err == nil {
			return loopPath(n), nil
		}
		if !errors.Is(err, unix.EBUSY) || want >= 0 || attempt >= 20 {
			return "", fmt.Errorf("attach %s to %s: %w", file, loopPath(n), err)
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
}

// bindLoop binds the open backing file to loop device n and names it.
func bindLoop(n int, backing *os.File, name string) error {
	dev := loopPath(n)
	var lf *os.File
	var err error
	for i := 0; i < 50; i++ { // devtmpfs creates the node shortly after LOOP_CTL_GET_FREE
		lf, err = os.OpenFile(dev, os.O_RDWR|unix.O_CLOEXEC, 0)
		if !errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	defer lf.Close()
	if err := unix.IoctlSetInt(int(lf.Fd()), unix.LOOP_SET_FD, int(backing.Fd())); err != nil {
		return err
	}
	info := unix.LoopInfo64{Flags: 0} // no LO_FLAGS_AUTOCLEAR: stays bound after close
	copy(info.File_name[:len(info.File_name)-1], name)
	if err := unix.IoctlLoopSetStatus64(int(lf.Fd()), &info); err != nil {
		_ = unix.IoctlSetInt(int(lf.Fd()), unix.LOOP_CLR_FD, 0)
		return fmt.Errorf("set status: %w", err)
	}
	return nil
}

// detachLoop unbinds dev if, and only if, it is still bound to file, and
// waits until the kernel has let go of it. A device bound to something else
// (the number was reused) is left alone.
func detachLoop(dev, file string) error {
	n, ok := loopNumber(dev)
	if !ok {
		return fmt.Errorf("%q is not a loop device", dev)
	}
	fi, err := os.Stat(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("stat %s: %w", file, err)
	}
	if !loopBacks(n, fi) {
		return nil
	}
	f, err := os.OpenFile(dev, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	err = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
	f.Close()
	if err != nil && !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("detach %s: %w", dev, err)
	}
	// With other openers the kernel only marks the device for autoclear;
	// wait for the release so the caller can delete the file.
	for i := 0; i < 200; i++ {
		if !loopBacks(n, fi) {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("detach %s: still bound to %s after 5s (in use?)", dev, file)
}

// detachDeleted unbinds loop device n whose backing file was deleted (so
// there is no inode left to compare); callers check the sysfs backing path.
func detachDeleted(n int) error {
	f, err := os.OpenFile(loopPath(n), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", loopPath(n), err)
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0); err != nil && !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("detach %s: %w", loopPath(n), err)
	}
	return nil
}
