package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"diffuser/cloud"
	"diffuser/internal/regfile"
)

// attachedVolume is a volume file bound to a loop device.
type attachedVolume struct {
	Name   string
	File   string // sparse file, real path
	Device string // /dev/loopN, same path inside the container
	SizeGB int
}

// clusterVolumeDir is where a cluster's volume files live.
func (p *Provider) clusterVolumeDir(cluster string) string {
	return filepath.Join(p.settings.VolumeDir, cluster)
}

// volumeFile is the sparse file behind a host's volume:
// <volume_dir>/<cluster>/<group>-<index>-<volume>.img.
func (p *Provider) volumeFile(spec cloud.HostSpec, vol string) string {
	return filepath.Join(p.clusterVolumeDir(spec.Cluster), spec.Group+"-"+strconv.Itoa(spec.Index)+"-"+vol+".img")
}

// ensureVolume makes the sparse file of v (if missing) and returns it bound
// to a loop device: the one it is already bound to if any (adoption never
// binds a file twice), else device want if want >= 0, else a free one.
func (p *Provider) ensureVolume(spec cloud.HostSpec, v cloud.VolumeSpec, want int) (attachedVolume, error) {
	if p.settings.VolumeDir == "" {
		return attachedVolume{}, errors.New("no volume directory: set volume_dir or give the provider a work directory")
	}
	dir := p.clusterVolumeDir(spec.Cluster)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := checkClusterDir(dir); err != nil {
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	file := filepath.Join(realDir, filepath.Base(p.volumeFile(spec, v.Name)))
	size := int64(v.SizeGB) << 30

	p.volMu.Lock()
	defer p.volMu.Unlock()
	fi, err := os.Lstat(file)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		// A link (or device, pipe) planted under the name would be bound
		// and handed to the host to format: whatever it points at.
		return attachedVolume{}, fmt.Errorf("volume %s: %s is %s, not a volume file diffuser made: "+
			"the host would format what it points at; remove it (diffuser makes the file itself) or set volume_dir to a directory of your own",
			v.Name, file, regfile.Kind(fi.Mode()))
	case errors.Is(err, os.ErrNotExist):
		if err := createSparse(file, size); err != nil {
			return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
		}
	case err != nil:
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	case fi.Size() != size:
		return attachedVolume{}, fmt.Errorf("volume %s: %s exists with %d bytes, the recipe wants %d GB; replace the host to resize it",
			v.Name, file, fi.Size(), v.SizeGB)
	}
	loops, err := findLoops(file)
	if err != nil {
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if len(loops) > 0 {
		if want >= 0 && loops[0] != loopPath(want) {
			return attachedVolume{}, fmt.Errorf("volume %s: %s is bound to %s but the container was created with %s; replace the host",
				v.Name, file, loops[0], loopPath(want))
		}
		return attachedVolume{Name: v.Name, File: file, Device: loops[0], SizeGB: v.SizeGB}, nil
	}
	dev, err := attachLoop(file, want)
	if err != nil {
		return attachedVolume{}, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	p.env.Log("docker: %s: volume %s is %s (%s)", spec.Name, v.Name, dev, file)
	return attachedVolume{Name: v.Name, File: file, Device: dev, SizeGB: v.SizeGB}, nil
}

// createSparse makes a sparse file of size bytes, atomically (a crash never
// leaves a short file behind under the final name).
// The temporary file is made new (O_EXCL): a leftover one is removed
// first, and a link planted under its name is never followed (O_TRUNC
// through it emptied the file it pointed at).
func createSparse(file string, size int64) error {
	tmp := file + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("create volume file: remove leftover %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create volume file: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create volume file %s: %w", file, err)
	}
	return nil
}

// releaseVolumeFile detaches every loop device bound to file and deletes
// it. Only files this provider could have made are touched: <dir>/<cluster>/*.img.
func releaseVolumeFile(cluster, file string) error {
	if filepath.Base(filepath.Dir(file)) != cluster || !strings.HasSuffix(file, ".img") || !filepath.IsAbs(file) {
		return fmt.Errorf("refusing to release %q: not a volume file of cluster %s", file, cluster)
	}
	if err := checkClusterDir(filepath.Dir(file)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("refusing to release %s: %w", file, err)
	}
	if real, err := filepath.EvalSymlinks(filepath.Dir(file)); err == nil {
		file = filepath.Join(real, filepath.Base(file))
	}
	loops, err := findLoops(file)
	if err != nil {
		return err
	}
	for _, dev := range loops {
		if err := detachLoop(dev, file); err != nil {
			return err
		}
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete volume file: %w", err)
	}
	return nil
}

// checkClusterDir refuses a cluster's volume directory that is a symbolic
// link or not a directory. diffuser makes it, and destroying a host
// deletes its <group>-<index>-<volume>.img there (cleanup: every *.img
// of a directory named like the cluster): through a link planted there (a
// checked-out .diffuser/<ws>/volumes/<cluster> -> ~/vms, beside a state
// naming that cluster) destroy deleted the file of that name where it
// pointed, and launch made and bound one there. volume_dir itself may be
// a link: the user chose it.
func checkClusterDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		to, _ := os.Readlink(dir)
		return fmt.Errorf("the cluster's volume directory %s is a symbolic link (to %s): diffuser makes it and deletes the volume files in it, "+
			"never through a link; remove the link, or set volume_dir to a directory of your own", dir, to)
	case !fi.IsDir():
		return fmt.Errorf("the cluster's volume directory %s is %s, not a directory: move it away", dir, regfile.Kind(fi.Mode()))
	}
	return nil
}
