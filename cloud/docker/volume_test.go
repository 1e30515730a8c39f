package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud"
)

// TestVolumeFileRefusesPlantedLinks: a symbolic link planted in the volume
// directory, under a volume file's name or its temporary name, is never
// written or bound through. createSparse's O_TRUNC emptied the file a
// planted "<file>.tmp" pointed at; ensureVolume bound a planted
// "<group>-<index>-<volume>.img" link's target of the right size to a loop
// device, for the host to format.
func TestVolumeFileRefusesPlantedLinks(t *testing.T) {
	dir, victim, unchanged := plantVictim(t)

	file := filepath.Join(dir, "g-0-data.img")
	if err := os.Symlink(victim, file+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := createSparse(file, 1<<20); err != nil {
		t.Errorf("createSparse with a leftover link at its temporary name: %v", err)
	}
	unchanged()
	if fi, err := os.Lstat(file); err != nil || !fi.Mode().IsRegular() || fi.Size() != 1<<20 {
		t.Errorf("volume file = %v, %v; want a regular file of 1 MiB", fi, err)
	}

	// A link under the volume file's own name, to a file of the size the
	// recipe asks for.
	if err := os.Truncate(victim, 1<<30); err != nil {
		t.Fatal(err)
	}
	p := &Provider{settings: Settings{VolumeDir: filepath.Join(dir, "volumes")}, env: cloud.Env{Log: t.Logf}}
	spec := cloud.HostSpec{Name: "g[0]", Cluster: "c", Group: "g", Index: 0, Volumes: []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}}
	planted := p.volumeFile(spec, "data")
	if err := os.MkdirAll(filepath.Dir(planted), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // a bound victim (the defect) is let go
		if loops, _ := findLoops(victim); len(loops) > 0 {
			for _, dev := range loops {
				_ = detachLoop(dev, victim)
			}
		}
	})
	_, err := p.ensureVolume(spec, spec.Volumes[0], -1)
	if err == nil || !strings.Contains(err.Error(), planted+" is a symbolic link") || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("ensureVolume over a planted link: %v; want it refused naming %s", err, planted)
	}
	if loops, _ := findLoops(victim); len(loops) > 0 {
		t.Errorf("the link's target was bound to %v", loops)
	}
	if fi, err := os.Lstat(planted); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the planted link was changed: %v, %v", fi, err)
	}
}

// TestBuildLogAndLockNotThroughLinks: the node image build log and the
// machine-wide lock files are never opened through a link planted at their
// names (in the data directory, or in the shared temporary directory by
// another user): the build log's O_TRUNC emptied the file the link pointed
// at, and the lock's O_CREATE made or opened it.
func TestBuildLogAndLockNotThroughLinks(t *testing.T) {
	dir, victim, unchanged := plantVictim(t)
	if err := os.Symlink(victim, filepath.Join(dir, buildLogName)); err != nil {
		t.Fatal(err)
	}
	run, err := startBuild(dir, BuildInfo{Title: "building node image x"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	_ = run.end(nil)
	unchanged() // the build log was not written through the link
	if fi, err := os.Lstat(filepath.Join(dir, buildLogName)); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the build log is not a file of its own: %v, %v", fi, err)
	}

	t.Setenv("TMPDIR", dir)
	made := filepath.Join(dir, "made-by-lock")
	if err := os.Symlink(made, lockPath("diffuser-test.lock")); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFile(context.Background(), "diffuser-test.lock", func(string) {})
	if err == nil {
		unlock()
		t.Errorf("a lock file planted as a link was taken")
	} else if !strings.Contains(err.Error(), "is a symbolic link") || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("lock over a link: %v; want it named and what to do", err)
	}
	if _, err := os.Lstat(made); err == nil {
		t.Errorf("the lock made the file its link points at")
	}
}

// TestClusterVolumeDirLinkRefused: a cluster's volume directory planted as
// a link (a checked-out .diffuser/<ws>/volumes/<cluster> -> ~/vms, with a
// state naming that cluster) is refused by launch, destroy and cleanup:
// destroy deleted the file of the host's volume name where the link
// pointed (and launch made one there and bound it to a loop device).
func TestClusterVolumeDirLinkRefused(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vms := filepath.Join(dir, "vms")
	images := []string{"windows.img", "g-0-data.img"}
	if err := os.MkdirAll(vms, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range images {
		if err := os.WriteFile(filepath.Join(vms, n), []byte("a disk image\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &Provider{settings: Settings{VolumeDir: filepath.Join(dir, "volumes")}, env: cloud.Env{Log: t.Logf}}
	spec := cloud.HostSpec{Name: "g[0]", Cluster: "c", Group: "g", Index: 0, Volumes: []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}}
	link := p.clusterVolumeDir("c")
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(vms, link); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"release a file": releaseVolumeFile("c", p.volumeFile(spec, "data")),
		"cleanup":        releaseClusterVolumes("c", link, nil),
	} {
		if err == nil || !strings.Contains(err.Error(), link+" is a symbolic link") {
			t.Errorf("%s through a linked cluster directory: %v; want it refused naming %s", what, err, link)
		}
	}
	intact := func() {
		t.Helper()
		for _, n := range images {
			if b, err := os.ReadFile(filepath.Join(vms, n)); err != nil || string(b) != "a disk image\n" {
				t.Errorf("%s where the link points was deleted or changed: %q, %v", n, b, err)
			}
		}
	}
	intact()
	if t.Failed() {
		return // without the check, ensureVolume would bind a loop device where the link points
	}
	if _, err := p.ensureVolume(spec, spec.Volumes[0], -1); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("ensureVolume in a linked cluster directory: %v", err)
	}
	intact()
	if ents, _ := os.ReadDir(vms); len(ents) != len(images) {
		t.Errorf("files were made where the link points: %v", ents)
	}
}

// plantVictim makes a file of precious data, victim, in a new directory
// dir (its real path), for links planted in dir to point at; intact fails
// the test when the file was written.
func plantVictim(t *testing.T) (dir, victim string, intact func()) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	victim = filepath.Join(dir, "victim")
	const keep = "precious data\n"
	if err := os.WriteFile(victim, []byte(keep), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, victim, func() {
		t.Helper()
		if b, err := os.ReadFile(victim); err != nil || string(b) != keep {
			t.Errorf("the link's target was written: %d bytes starting %q, %v", len(b), b[:min(len(b), 16)], err)
		}
	}
}
