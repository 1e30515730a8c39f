package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"
)

// buildDebootstrap makes the node image without any registry: debootstrap
// a minimal Debian from s.Mirror into a temporary directory, add the node
// files, run setup.sh in a chroot, and stream the tree as a tar into
// ImageImport. deboot is debootstrap's path, "" when it is to be installed
// first. The caller has checked that this process runs as root.
//
// External programs, all run as root on this machine: debootstrap (installed
// with apt-get when missing), chroot, and GNU tar, which gets ownership,
// hard links, device nodes and file capabilities (ping's cap_net_raw xattr)
// right without a hand-written archiver.
func (p *Provider) buildDebootstrap(ctx context.Context, s Settings, plan ImagePlan, deboot string, run *buildRun) error {
	w := run.w
	if deboot == "" {
		run.phase(PhaseInstallDebootstrap)
		var err error
		if deboot, err = ensureDebootstrap(ctx, w); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "diffuser-rootfs-")
	if err != nil {
		return fmt.Errorf("make build directory: %w", err)
	}
	defer func() {
		if err := removeTree(tmp); err != nil {
			fmt.Fprintf(w, "warning: %v\n", err)
		}
	}()
	root := filepath.Join(tmp, "rootfs")

	run.phase(PhaseDebootstrap)
	args := []string{"--variant=minbase", "--components=main",
		"--include=" + strings.Join(NodePackages(), ","), s.Suite, root, s.Mirror}
	if err := runLogged(ctx, w, "debootstrap: ", deboot, args...); err != nil {
		return err
	}
	run.phase(PhaseNodeSetup)
	files, err := nodeOverlay(s)
	if err != nil {
		return err
	}
	if err := writeOverlay(root, files); err != nil {
		return err
	}
	script, err := setupScript()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "diffuser-setup.sh"), script, 0o755); err != nil {
		return fmt.Errorf("write setup script: %w", err)
	}
	if err := runLogged(ctx, w, "setup: ", "chroot", root, "/bin/sh", "/diffuser-setup.sh"); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(root, "diffuser-setup.sh")); err != nil {
		return fmt.Errorf("remove setup script: %w", err)
	}
	run.phase(PhaseImport)
	return p.importRootfs(ctx, root, plan, w)
}

// importRootfs streams root as a tar into the engine and tags it plan.Tag.
func (p *Provider) importRootfs(ctx context.Context, root string, plan ImagePlan, w io.Writer) error {
	fmt.Fprintf(w, "importing root filesystem as %s\n", plan.Tag)
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
		"-C", root, "-cf", "-", ".")
	var stderr strings.Builder
	tarCmd.Stderr = &stderr
	out, err := tarCmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("start tar: %w", err)
	}
	changes := []string{
		`CMD ["/sbin/init"]`,
		`ENV container=docker`,
		"LABEL " + labelImageInputs + "=" + plan.Inputs,
		"LABEL " + labelImageBuild + "=" + plan.Method,
	}
	res, err := p.cli.ImageImport(ctx, client.ImageImportSource{Source: out, SourceName: "-"}, plan.Tag,
		client.ImageImportOptions{Changes: changes, Message: "diffuser node image (debootstrap)"})
	if err == nil {
		err = readJSONStream(res, w)
		res.Close()
	}
	// Drain whatever the engine did not read so tar can exit, then reap it.
	_, _ = io.Copy(io.Discard, out)
	if werr := tarCmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("tar %s: %w: %s", root, werr, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return fmt.Errorf("import root filesystem: %w", err)
	}
	return nil
}

// ensureDebootstrap returns the path of debootstrap, installing the Debian
// package with apt-get first if it is missing (apt-get update once more if
// the first install fails on stale lists).
func ensureDebootstrap(ctx context.Context, w io.Writer) (string, error) {
	if p, err := findDebootstrap(); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("debootstrap is not installed and there is no apt-get to install it; install debootstrap or set build = \"dockerfile\"")
	}
	fmt.Fprintln(w, "debootstrap is missing: installing it with apt-get")
	install := func() error {
		return runLogged(ctx, w, "apt-get: ", "apt-get", "install", "-y", "--no-install-recommends", "debootstrap")
	}
	if err := install(); err != nil {
		if err := runLogged(ctx, w, "apt-get: ", "apt-get", "update"); err != nil {
			return "", fmt.Errorf("install debootstrap: %w", err)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("install debootstrap: %w", err)
		}
	}
	return findDebootstrap()
}

// findDebootstrap returns the path of debootstrap, looking in /usr/sbin and
// /sbin too, which a non-login shell's PATH may lack.
func findDebootstrap() (string, error) {
	if p, err := exec.LookPath("debootstrap"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/debootstrap", "/sbin/debootstrap"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("debootstrap not found")
}

// runLogged runs a command, copying its output to w line by line with
// prefix; the error carries the last lines of output.
func runLogged(ctx context.Context, w io.Writer, prefix, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var (
		wg   sync.WaitGroup
		tail []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(w, "%s%s\n", prefix, sc.Text())
			tail = append(tail, sc.Text())
			if len(tail) > 10 {
				tail = tail[1:]
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.Join(tail, "\n"))
	}
	return nil
}

// removeTree unmounts whatever a failed debootstrap left mounted under dir
// (proc, sys, dev) and then removes dir. It never follows a mount point out
// of dir: everything mounted below it is detached first.
func removeTree(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w (left %s in place)", m, err, dir)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove build directory: %w", err)
	}
	return nil
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if strings.HasPrefix(mp, real+"/") {
			out = append(out, mp)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out, nil
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
