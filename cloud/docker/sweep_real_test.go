package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSweeperReal drives the Sweeper against the engine with containers
// made by hand (created, never started: nothing is deployed) the way a
// launch labels them (deadline not yet passed, so that no other
// process's sweep removes them first). Clusters lists them with their labels; Remove of a
// cluster whose workspace directory holds its volume file removes the
// container, the network, the loop device and the file; Remove of a
// cluster whose directory was deleted (file gone, loop device still
// bound) frees that device too, but not the device a forged label of the
// same cluster names (bound to a deleted file that was not that
// container's).
func TestSweeperReal(t *testing.T) {
	needDocker(t)
	img := strings.Fields(run(t, "docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "diffuser-node"))
	if len(img) == 0 {
		t.Skip("no diffuser-node image here")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	r := hex.EncodeToString(b)
	own, orph := "swrown-"+r, "swrorph-"+r
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var loops []string
	t.Cleanup(func() {
		for _, cl := range []string{own, orph} {
			for _, i := range []string{"0", "1"} {
				_ = exec.Command("docker", "rm", "-f", "diffuser-"+cl+"-node-"+i).Run()
			}
			_ = exec.Command("docker", "network", "rm", NetworkName(cl)).Run()
		}
		for _, l := range loops {
			_ = exec.Command("losetup", "-d", l).Run()
		}
	})
	bind := func(file string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := createSparse(file, 32<<20); err != nil {
			t.Fatal(err)
		}
		dev := strings.TrimSpace(run(t, "losetup", "-f", "--show", file))
		loops = append(loops, dev)
		return dev
	}
	// A deadline an hour ahead: go test runs packages at once, and any
	// diffuser command of another package's tests sweeps expired
	// clusters no workspace owns — these two, mid-test, were their
	// deadline passed. What is tested here needs none passed.
	deadline := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	create := func(cluster, index, workDir, dev string) {
		t.Helper()
		args := []string{"create", "--name", "diffuser-" + cluster + "-node-" + index, "--network", NetworkName(cluster),
			"--label", LabelCluster + "=" + cluster, "--label", LabelGroup + "=node", "--label", LabelIndex + "=" + index,
			"--label", LabelProvider + "=docker", "--label", LabelExpires + "=" + deadline, "--label", LabelWorkDir + "=" + workDir,
			"--label", labelVolumePrefix + "data=" + dev, img[0]}
		run(t, "docker", args...)
	}
	for _, cl := range []string{own, orph} {
		run(t, "docker", "network", "create", "--label", LabelCluster+"="+cl, NetworkName(cl))
	}
	ownDir := filepath.Join(tmp, "data", "own")
	ownFile := filepath.Join(ownDir, "volumes", own, "node-0-data.img")
	ownDev := bind(ownFile)
	create(own, "0", ownDir, ownDev)
	orphDir := filepath.Join(tmp, "gone", "ws")
	orphDev := bind(filepath.Join(orphDir, "volumes", orph, "node-0-data.img"))
	victimDev := bind(filepath.Join(tmp, "victim", "disk.img"))
	create(orph, "0", orphDir, orphDev)
	create(orph, "1", orphDir, victimDev) // a forged device label
	// Both files deleted: the orphan's with its data directory, the
	// victim's by whoever owns it.
	for _, gone := range []string{filepath.Join(tmp, "gone"), filepath.Join(tmp, "victim")} {
		if err := os.RemoveAll(gone); err != nil {
			t.Fatal(err)
		}
	}

	s, err := NewSweeper(ctx)
	if err != nil {
		t.Skipf("no engine: %v", err)
	}
	defer s.Close()
	all, err := s.Clusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	marks := map[string]ClusterMarks{}
	for _, c := range all {
		marks[c.Cluster] = c
	}
	o := marks[own]
	if len(o.Containers) != 1 || o.Containers[0].Name != "diffuser-"+own+"-node-0" || o.Containers[0].Expires != deadline ||
		o.Containers[0].OwnerDir() != ownDir || o.Containers[0].Devices["data"] != ownDev {
		t.Fatalf("listed %+v", o)
	}
	if d, ok := o.LabelDeadline(); !ok || d.Format(time.RFC3339) != deadline {
		t.Errorf("label deadline %v %v", d, ok)
	}
	if len(marks[orph].Containers) != 2 {
		t.Fatalf("listed %+v", marks[orph])
	}

	if err := s.Remove(ctx, o, []string{ownFile}); err != nil {
		t.Fatalf("remove %s: %v", own, err)
	}
	if err := s.Remove(ctx, marks[orph], nil); err != nil {
		t.Fatalf("remove %s: %v", orph, err)
	}
	for _, cl := range []string{own, orph} {
		if out := run(t, "docker", "ps", "-aq", "--filter", "label="+LabelCluster+"="+cl); strings.TrimSpace(out) != "" {
			t.Errorf("containers of %s left: %s", cl, out)
		}
		if out := run(t, "docker", "network", "ls", "-q", "--filter", "label="+LabelCluster+"="+cl); strings.TrimSpace(out) != "" {
			t.Errorf("network of %s left: %s", cl, out)
		}
	}
	backing := func(dev string) string {
		b, _ := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/loop/backing_file")
		return strings.TrimSpace(string(b))
	}
	if b := backing(ownDev); b != "" {
		t.Errorf("%s still bound to %s", ownDev, b)
	}
	if b := backing(orphDev); b != "" {
		t.Errorf("%s (its file deleted with the data directory) still bound to %s", orphDev, b)
	}
	if b := backing(victimDev); !strings.HasSuffix(b, "victim/disk.img (deleted)") {
		t.Errorf("the device a forged label named was freed (backing %q)", b)
	}
	if _, err := os.Stat(filepath.Dir(ownFile)); !os.IsNotExist(err) {
		t.Errorf("volume directory %s left: %v", filepath.Dir(ownFile), err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
