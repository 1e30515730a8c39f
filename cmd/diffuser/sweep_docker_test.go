package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"
	"diffuser/state"
	"diffuser/workspace"
)

// onlySweeper is the real docker sweeper seeing only the clusters whose
// names start with one of prefixes: the test's, not those of other tests
// running on the machine.
type onlySweeper struct {
	workspace.ClusterSweeper
	prefixes []string
}

func (s onlySweeper) Clusters(ctx context.Context) ([]docker.ClusterMarks, error) {
	all, err := s.ClusterSweeper.Clusters(ctx)
	var out []docker.ClusterMarks
	for _, c := range all {
		for _, p := range s.prefixes {
			if strings.HasPrefix(c.Cluster, p) {
				out = append(out, c)
			}
		}
	}
	return out, err
}

// TestSweepDocker applies three one-host clusters with a data volume on
// real docker: "due" and "orphan" with --ttl 1h, "keep" with --ttl 3h;
// orphan's data directory is then deleted (its volume file with it, its
// loop device still bound). An unrelated command (workspace list) sweeps
// on a clock two hours ahead: due and orphan are gone — containers,
// network, loop devices, volume files — due's state records no host, and
// stderr says so; keep runs on untouched. No deadline has passed on the
// real clock: go test runs packages at once, and a diffuser command of
// another package's tests would sweep a cluster whose deadline had, mid-test.
func TestSweepDocker(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	recipe := filepath.Join(relDir, "voldata.hcl")
	suffix := randHex(3)
	due := newDockerWorkspace(t, recipe, "sweepdue"+suffix)
	orphan := newDockerWorkspace(t, recipe, "sweeporphan"+suffix)
	keep := newDockerWorkspace(t, recipe, "sweepkeep"+suffix)
	applyFor := func(w *dockerWorkspace, ttl string) {
		t.Helper()
		var out, errb bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		args := append([]string{"apply", "-auto-approve", "--progress", "plain", "--ttl", ttl, "--data-dir", w.data}, w.args()...)
		if code := a.execute(context.Background(), args); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", w.ws, code, out.String(), errb.String())
		}
	}
	start := time.Now()
	applyFor(due, "1h")
	applyFor(orphan, "1h")
	applyFor(keep, "3h")
	t.Logf("three applies in %s", time.Since(start).Round(time.Second))
	dueSt, orphanSt, keepSt := loadState(t, due.data, due.ws), loadState(t, orphan.data, orphan.ws), loadState(t, keep.data, keep.ws)
	for name, st := range map[string]*state.State{"due": dueSt, "orphan": orphanSt, "keep": keepSt} {
		if st.Hosts["store[0]"] == nil {
			t.Fatalf("%s's state records no store[0] after its apply (swept by someone else?)", name)
		}
	}
	orphanFile := orphanSt.Hosts["store[0]"].Attrs["volume.data.file"]
	dueFile := dueSt.Hosts["store[0]"].Attrs["volume.data.file"]
	dueLoop, orphanLoop := dueSt.Hosts["store[0]"].Attrs["volume.data.loop"], orphanSt.Hosts["store[0]"].Attrs["volume.data.loop"]
	if orphanFile == "" || dueFile == "" || dueLoop == "" || orphanLoop == "" {
		t.Fatalf("no volume recorded: due %v, orphan %v", dueSt.Hosts["store[0]"].Attrs, orphanSt.Hosts["store[0]"].Attrs)
	}
	if err := os.RemoveAll(orphan.data); err != nil {
		t.Fatal(err)
	}

	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	later := time.Now().Add(2 * time.Hour) // past due's and orphan's deadlines, before keep's
	a.env.Now = func() time.Time { return later }
	a.env.Sweeper = func(ctx context.Context) (workspace.ClusterSweeper, error) {
		s, err := workspace.DockerSweeper(ctx)
		if err != nil {
			return nil, err
		}
		return onlySweeper{s, []string{due.clusterPrefix(), orphan.clusterPrefix(), keep.clusterPrefix()}}, nil
	}
	began := time.Now()
	if code := a.execute(context.Background(), []string{"workspace", "list", "--data-dir", due.data}); code != 0 {
		t.Fatalf("workspace list: exit %d\n%s%s", code, out.String(), errb.String())
	}
	t.Logf("workspace list with the sweep took %s; stderr:\n%s", time.Since(began).Round(time.Millisecond), errb.String())
	for _, want := range []string{"swept expired cluster " + dueSt.Cluster + " (deadline ", "swept expired cluster " + orphanSt.Cluster + " (deadline "} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not say %q", want)
		}
	}
	if strings.Contains(errb.String(), keepSt.Cluster) {
		t.Errorf("stderr names the cluster that is not due")
	}
	for _, cl := range []string{dueSt.Cluster, orphanSt.Cluster} {
		if left := dockertest.ContainersWithPrefix(t, cl); len(left) != 0 {
			t.Errorf("cluster %s: containers left %v", cl, left)
		}
		if b, err := exec.Command("docker", "network", "ls", "-q", "--filter", "label="+docker.LabelCluster+"="+cl).Output(); err != nil || strings.TrimSpace(string(b)) != "" {
			t.Errorf("cluster %s: network left: %v %q", cl, err, b)
		}
	}
	for _, f := range []string{dueFile, orphanFile} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("volume file %s left: %v", f, err)
		}
	}
	for _, dev := range []string{dueLoop, orphanLoop} {
		b, _ := os.ReadFile("/sys/block/" + filepath.Base(dev) + "/loop/backing_file")
		if back := strings.TrimSpace(string(b)); strings.Contains(back, dueSt.Cluster) || strings.Contains(back, orphanSt.Cluster) {
			t.Errorf("loop device %s still bound to %s", dev, back)
		}
	}
	if st := loadState(t, due.data, due.ws); len(st.Hosts) != 0 || len(st.Steps) != 0 || !st.Expires.IsZero() || st.Serial <= dueSt.Serial {
		t.Errorf("due's state after the sweep: %d hosts, %d instances, deadline %v, serial %d (was %d)", len(st.Hosts), len(st.Steps), st.Expires, st.Serial, dueSt.Serial)
	}
	kept := dockertest.ContainersWithPrefix(t, keepSt.Cluster)
	if len(kept) != 1 || !kept[0].Running {
		t.Errorf("the cluster not due: containers %v, want one running", kept)
	}
	if st := loadState(t, keep.data, keep.ws); len(st.Hosts) != 1 || st.Expires.IsZero() {
		t.Errorf("keep's state changed: %d hosts, deadline %v", len(st.Hosts), st.Expires)
	}
	if _, err := os.Stat(keepSt.Hosts["store[0]"].Attrs["volume.data.file"]); err != nil {
		t.Errorf("keep's volume file: %v", err)
	}
	// The workspace list itself ran on the updated state.
	if !strings.Contains(out.String(), due.ws) {
		t.Errorf("workspace list:\n%s", out.String())
	}
}
