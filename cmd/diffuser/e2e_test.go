package main

import (
	"bytes"
	"context"
	"diffuser/cloud/docker/dockertest"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// e2eCase is one real deployment: a built-in recipe with variables, applied
// on the docker provider, verified, re-planned (must be a no-op) and destroyed.
type e2eCase struct {
	name   string
	recipe string
	vars   []string
	// extra runs between verify and destroy (growth tests and the like).
	extra func(t *testing.T, e *e2eEnv)
}

// e2eCases holds the cases; build tag e2e adds the slow ones (make e2e).
var e2eCases = []e2eCase{
	{name: "glusterfs", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=1"}},
}

// e2eEnv is one case's workspace.
type e2eEnv struct {
	dir, site, data string
}

func (e *e2eEnv) run(t testing.TB, args ...string) (int, string) {
	if t != nil {
		t.Helper()
	}
	var out bytes.Buffer
	full := append([]string{}, args...)
	full = append(full, "--data-dir", e.data)
	code := run(context.Background(), nil, full, strings.NewReader(""), &out, &out)
	return code, out.String()
}

func (e *e2eEnv) must(t *testing.T, args ...string) string {
	t.Helper()
	start := time.Now()
	code, out := e.run(t, args...)
	if code != 0 {
		t.Fatalf("diffuser %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	t.Logf("diffuser %s: ok in %s", args[0], time.Since(start).Round(time.Second))
	return out
}

func dockerOK() bool { return dockertest.DockerOK() }

// mirrorHosts returns the extra_hosts list as scripts/mirror-hosts.sh does.
func mirrorHosts(t *testing.T) string { return mirrorHostsB(t) }

func mirrorHostsB(t testing.TB) string {
	out, err := exec.Command("../../scripts/mirror-hosts.sh").Output()
	if err != nil {
		t.Fatalf("mirror-hosts.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func clusterOf(t *testing.T, data, workspace string) string {
	b, err := os.ReadFile(filepath.Join(data, workspace, "state.json"))
	if err != nil {
		return ""
	}
	var st struct {
		Cluster string `json:"cluster"`
	}
	_ = json.Unmarshal(b, &st)
	return st.Cluster
}

func leftovers(cluster, volDir string) []string { return dockertest.Leftovers(cluster, volDir) }

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("real deployments are skipped with -short")
	}
	if !dockerOK() {
		t.Skip("docker is not reachable: run scripts/setup.sh")
	}
	for _, c := range e2eCases {
		t.Run(c.name, func(t *testing.T) {
			dockertest.Serialize(t)
			dir := t.TempDir()
			e := &e2eEnv{dir: dir, site: filepath.Join(dir, "diffuser.hcl"), data: filepath.Join(dir, ".diffuser")}
			site := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", mirrorHosts(t))
			if err := os.WriteFile(e.site, []byte(site), 0o644); err != nil {
				t.Fatal(err)
			}
			common := []string{"--site", e.site}
			for _, v := range c.vars {
				common = append(common, "--var", v)
			}
			t.Cleanup(func() {
				cl := clusterOf(t, e.data, c.recipe)
				if left := leftovers(cl, e.data); len(left) > 0 {
					// The test failed before destroy: clean up anyway.
					e.run(t, append([]string{"destroy", c.recipe, "-auto-approve", "--progress", "plain"}, common...)...)
					if left := leftovers(cl, e.data); len(left) > 0 {
						t.Errorf("left behind after destroy: %v", left)
					}
				}
			})
			start := time.Now()
			e.must(t, append([]string{"apply", c.recipe, "-auto-approve", "--progress", "plain"}, common...)...)
			deploy := time.Since(start)
			out := e.must(t, append([]string{"verify", c.recipe}, common...)...)
			if !strings.Contains(out, "checks passed") {
				t.Fatalf("verify did not pass:\n%s", out)
			}
			code, out := e.run(t, append([]string{"plan", c.recipe, "--detailed-exitcode"}, common...)...)
			if code != 0 {
				t.Fatalf("re-plan after apply is not a no-op (exit %d):\n%s", code, out)
			}
			if c.extra != nil {
				c.extra(t, e)
			}
			cluster := clusterOf(t, e.data, c.recipe)
			e.must(t, append([]string{"destroy", c.recipe, "-auto-approve", "--progress", "plain"}, common...)...)
			if left := leftovers(cluster, e.data); len(left) > 0 {
				t.Fatalf("destroy left: %v", left)
			}
			t.Logf("E2E %s: deploy %s, total %s", c.name, deploy.Round(time.Second), time.Since(start).Round(time.Second))
			fmt.Printf("E2E %s: deploy time %s\n", c.name, deploy.Round(time.Second))
		})
	}
}
