package docker

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// minInotifyInstances is what fs.inotify.max_user_instances must be at
// least. Every container's systemd, journald, logind, dbus and udev-less
// path units take inotify instances, all charged to the host's root user;
// at the kernel default of 128 the 20th to 30th container on a machine
// hangs in boot ("Failed to create inotify object: Too many open files")
// and never starts sshd.
const minInotifyInstances = 8192

// raiseInotifyLimit raises fs.inotify.max_user_instances to
// minInotifyInstances if it is lower, and says so through log. It returns
// an error only when the limit is low and cannot be raised (not root); the
// caller logs it and goes on, since small clusters still work.
func raiseInotifyLimit(log func(string, ...any)) error {
	return raiseLimit("/proc/sys/fs/inotify/max_user_instances", log)
}

// raiseLimit is raiseInotifyLimit on the sysctl file path.
func raiseLimit(path string, log func(string, ...any)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil // not Linux, or no procfs: nothing to tune
	}
	cur, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || cur >= minInotifyInstances {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(minInotifyInstances)), 0o644); err != nil {
		return fmt.Errorf("fs.inotify.max_user_instances is %d, too low for more than a few dozen systemd containers, and raising it failed: %w; run: sysctl -w fs.inotify.max_user_instances=%d",
			cur, err, minInotifyInstances)
	}
	log("docker: raised fs.inotify.max_user_instances from %d to %d (each container's systemd needs several; persist it in /etc/sysctl.d)", cur, minInotifyInstances)
	return nil
}
