package main

import (
	"diffuser/cloud/docker/dockertest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDestroyRemovesUnrecordedContainer: a container carrying the
// cluster's labels that state does not hold (a first launch killed before
// it was recorded; here made by `state rm`) is removed by destroy with
// state holding no host, and so is the cluster's network.
func TestDestroyRemovesUnrecordedContainer(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	w := newDockerWorkspace(t, filepath.Join("..", "..", "workspace", relDir, "tiny.hcl"), "orphan"+randHex(3))
	w.apply(t)
	st := loadState(t, w.data, w.ws)
	cid := st.Hosts["node[0]"].ProviderID
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", cid).Run() })
	w.must(t, "state", "rm", w.ws, "node[0]")
	if st := loadState(t, w.data, w.ws); len(st.Hosts) != 0 {
		t.Fatalf("state still holds %d hosts", len(st.Hosts))
	}
	out := w.must(t, append([]string{"destroy", "-auto-approve", "--progress", "plain"}, w.args()...)...)
	if !strings.Contains(out, "provider is asked to remove whatever is still tagged") {
		t.Errorf("destroy's plan does not say it cleans up:\n%s", out)
	}
	if b, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", cid).CombinedOutput(); err == nil {
		t.Errorf("a container with the cluster's labels outlived destroy with an empty state: %s", b)
	}
	if b, err := exec.Command("docker", "network", "ls", "-q", "--filter", "name=diffuser-"+st.Cluster).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("the cluster's network outlived destroy: %v %q", err, b)
	}
}
