package workspace_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/probe"
	"diffuser/workspace"
)

// e2eCase is one real deployment: a built-in recipe with variables, applied
// on the docker provider, verified, re-planned (must be a no-op) and
// destroyed.
type e2eCase struct {
	name   string
	recipe string
	vars   []string
	// extra runs between verify and destroy (growth tests and the like).
	extra func(t *testing.T, e *e2eEnv)
	// setup, when set, runs before the first apply and returns more
	// variables for every command of the case (values known only at run
	// time, such as the address of a file server the test starts).
	setup func(t *testing.T) []string
}

// e2eCases holds the cases; build tag e2e adds the slow ones (make e2e).
var e2eCases = []e2eCase{
	{name: "glusterfs", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=1"},
		extra: glusterfsRenameRefused([]string{"servers=2", "replica=2", "clients=1"})},
}

// e2eEnv is one case's workspace: a docker site file (the mirror reachable
// from containers) and a data dir.
type e2eEnv struct {
	*sysEnv
	dir, site, recipe string
}

func (e *e2eEnv) in(vars ...string) workspace.Inputs {
	return workspace.Inputs{Recipe: e.recipe, Site: e.site, Vars: vars}
}

// apply applies with vars (as `diffuser apply RECIPE -var ...`) and fails
// the test on any failure.
func (e *e2eEnv) apply(t *testing.T, vars ...string) applied {
	t.Helper()
	return e.mustApply(t, e.in(vars...), "apply")
}

// verify runs the recipe's verify blocks and fails the test unless every
// check passes; it returns the checks.
func (e *e2eEnv) verify(t *testing.T, vars ...string) []probe.Check {
	t.Helper()
	return e.sysEnv.verify(t, e.in(vars...))
}

// replanNoop fails the test unless a plan with vars changes nothing.
func (e *e2eEnv) replanNoop(t *testing.T, vars ...string) {
	t.Helper()
	e.noChanges(t, e.in(vars...))
}

// containerExec runs a shell command in one of the cluster's containers
// (host as the container names it: server-0) and fails the test if it
// fails.
func containerExec(t *testing.T, cluster, host, script string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-"+host, "bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec %s: %v\n%s\n%s", host, err, script, out)
	}
	return string(out)
}

// applyRefused applies with vars, expecting a failure, and returns what it
// said: the error and every failed instance's address, error and output
// tail.
func (e *e2eEnv) applyRefused(vars ...string) string {
	a, err := e.applyOf(e.in(vars...), "apply")
	said := fmt.Sprint(err)
	if a.Res != nil {
		for _, f := range a.Res.Failures {
			said += "\n" + f.Addr + ": " + f.Err.Error() + "\n" + f.Tail
		}
	}
	return said
}

// cluster is the workspace's cluster name, from state.
func (e *e2eEnv) cluster(t *testing.T) string {
	t.Helper()
	st, err := e.env.ReadState(e.recipe)
	if err != nil || st.Cluster == "" {
		t.Fatalf("no cluster in the state of workspace %s: %v", e.recipe, err)
	}
	return st.Cluster
}

// TestE2E deploys each case for real on the docker provider: apply,
// verify, a no-op re-plan, the case's extra checks, destroy, and nothing
// left behind. Without tags it deploys GlusterFS (2 servers, replica 2, 1
// client): `make test`'s real deployment. `make e2e` (tag e2e) adds every
// built-in recipe and their growth and failover cases.
func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("real deployments are skipped with -short")
	}
	if !dockertest.DockerOK() {
		t.Skip("docker is not reachable: run scripts/setup.sh")
	}
	for _, c := range e2eCases {
		t.Run(c.name, func(t *testing.T) {
			dockertest.Serialize(t)
			if c.setup != nil {
				c.vars = append(append([]string(nil), c.vars...), c.setup(t)...)
			}
			dir := t.TempDir()
			e := &e2eEnv{sysEnv: newSysEnv(t, filepath.Join(dir, ".diffuser")), dir: dir, site: filepath.Join(dir, "diffuser.hcl"), recipe: c.recipe}
			site := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", dockertest.MirrorHosts(t))
			if err := os.WriteFile(e.site, []byte(site), 0o644); err != nil {
				t.Fatal(err)
			}
			clusterOf := func() string {
				if st, err := e.env.ReadState(c.recipe); err == nil {
					return st.Cluster
				}
				return ""
			}
			t.Cleanup(func() {
				cl := clusterOf()
				if left := dockertest.Leftovers(cl, e.data()); len(left) > 0 {
					// The test failed before destroy: clean up anyway.
					if _, err := e.applyOf(e.in(c.vars...), "destroy"); err != nil {
						t.Errorf("destroy at cleanup: %v", err)
					}
					if left := dockertest.Leftovers(cl, e.data()); len(left) > 0 {
						t.Errorf("left behind after destroy: %v", left)
					}
				}
			})
			start := time.Now()
			e.apply(t, c.vars...)
			deploy := time.Since(start)
			for _, ch := range e.verify(t, c.vars...) {
				t.Logf("verify %s %s on %s (%s): %s", ch.Verify, ch.Name, ch.Host, ch.Duration.Round(10*time.Millisecond), ch.Detail)
			}
			e.replanNoop(t, c.vars...)
			if c.extra != nil {
				c.extra(t, e)
			}
			cluster := e.cluster(t)
			e.mustApply(t, e.in(c.vars...), "destroy")
			if left := dockertest.Leftovers(cluster, e.data()); len(left) > 0 {
				t.Fatalf("destroy left: %v", left)
			}
			t.Logf("E2E %s: deploy %s, total %s", c.name, deploy.Round(time.Second), time.Since(start).Round(time.Second))
			fmt.Printf("E2E %s: deploy time %s\n", c.name, deploy.Round(time.Second))
		})
	}
}
