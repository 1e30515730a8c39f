package dockertest

import (
	"context"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"

	"github.com/zclconf/go-cty/cty"
)

// Container is one container labelled by diffuser.
type Container struct {
	ID, Cluster, Name string
	Running           bool
}

// ContainersWithPrefix lists containers whose cluster label starts with
// prefix, sorted by host name.
func ContainersWithPrefix(t testing.TB, prefix string) []Container {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label="+docker.LabelCluster,
		"--format", `{{.ID}}|{{.Label "`+docker.LabelCluster+`"}}|{{.Label "`+docker.LabelName+`"}}|{{.State}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	var cs []Container
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) == 4 && strings.HasPrefix(f[1], prefix) {
			cs = append(cs, Container{ID: f[0], Cluster: f[1], Name: f[2], Running: f[3] == "running"})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

// CheckOneContainerPerHost fails the test if any host name has two
// containers among the clusters whose names start with prefix (an orphan
// of a killed run).
func CheckOneContainerPerHost(t testing.TB, prefix string) {
	t.Helper()
	seen := map[string]string{}
	for _, c := range ContainersWithPrefix(t, prefix) {
		if other, ok := seen[c.Name]; ok {
			t.Errorf("host %s has two containers: %s and %s (cluster %s)", c.Name, other, c.ID[:12], c.Cluster)
		}
		seen[c.Name] = c.ID[:12]
	}
}

// RemoveClusters removes everything the docker provider made for the
// given clusters (containers, networks, loop devices and volume files
// under workDir), whatever state says: the last resort of a test's
// cleanup, after destroy.
func RemoveClusters(t testing.TB, workDir string, clusters map[string]bool) {
	t.Helper()
	if len(clusters) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := docker.New(ctx, cty.NullVal(cty.DynamicPseudoType), cloud.Env{WorkDir: workDir})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer p.Close()
	for cl := range clusters {
		if err := p.Cleanup(ctx, cl); err != nil {
			t.Errorf("cleanup of cluster %s: %v", cl, err)
		}
	}
}
