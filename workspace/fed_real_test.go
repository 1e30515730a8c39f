package workspace_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
	"diffuser/workspace"
)

// TestRealFederation runs one cluster over two providers for real: the
// server on the docker provider (a container diffuser launches), the
// clients on the static provider (node containers the test starts as
// machines the user already owns, on a network of their own, reached over
// SSH with the workspace key). Apply records each host under its
// provider, the clients get the server's address for their pair
// (reach_ip) and the plan warns that they cannot reach a docker host; a
// re-plan is a no-op; drift on a static host is found and repaired;
// destroy removes the docker container and network and leaves the static
// machines running.
func TestRealFederation(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers are skipped with -short")
	}
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 2) // the "existing machines"
	data := filepath.Join(c.Dir, "fed", ".diffuser")
	s := newSysEnv(t, data)
	c.Authorize(t, data, "fed")
	site := filepath.Join(c.Dir, "fed.hcl")
	src := fmt.Sprintf(`default_provider = "docker"

provider "docker" {
  extra_hosts = [%s]
}

provider "static" {
  ssh_config = ""
  hosts "client" {
    addresses = [%q, %q]
  }
}

hosts "client" {
  provider = static
}
`, dockertest.MirrorHosts(t), c.Hosts[0].SSHAddress, c.Hosts[1].SSHAddress)
	if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	in := workspace.Inputs{Recipe: filepath.Join("testdata", "fed"), Site: site}
	cluster := ""
	t.Cleanup(func() {
		if cluster == "" {
			return
		}
		if left := dockertest.Leftovers(cluster, data); len(left) > 0 {
			if _, err := s.applyOf(in, "destroy"); err != nil {
				t.Errorf("destroy at cleanup: %v", err)
			}
		}
	})

	pl, err := s.planOf(in, "plan")
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, d := range pl.WS.Warnings {
		if d.Summary == "Host group client cannot reach host group server" {
			warned = true
		}
	}
	pl.Close()
	if !warned {
		t.Errorf("no warning that static clients cannot reach the docker server: %v", pl.WS.Warnings)
	}

	a := s.mustApply(t, in, "apply")
	cluster = a.State.Cluster
	want := map[string]string{"server[0]": "docker", "client[0]": "static", "client[1]": "static"}
	for n, p := range want {
		if h := a.State.Hosts[n]; h == nil || h.Provider != p {
			t.Fatalf("%s: %+v, want provider %s", n, h, p)
		}
	}
	server := a.State.Hosts["server[0]"]
	for i := range 2 {
		got := strings.TrimSpace(c.MustExec(t, i, "cat /srv/fed/server"))
		if want := server.PublicIP + " static"; got != want {
			t.Errorf("client[%d] got %q, want %q (the server's address across providers)", i, got, want)
		}
	}
	out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-server-0", "cat", "/srv/fed/served").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "served by server[0] on docker" {
		t.Fatalf("the docker server's file: %v %q", err, out)
	}
	s.noChanges(t, in)

	// Drift on a static machine: found by refresh, repaired by apply.
	c.MustExec(t, 1, "rm /srv/fed/server")
	ch := s.changes(t, in)
	if c := ch[`step.client_file["client[1]"]`]; c == nil || !strings.Contains(c.Reason, "drift") {
		t.Fatalf("drift on client[1] not planned: %v", changeLines(ch))
	}
	s.mustApply(t, in, "apply")
	if got := c.MustExec(t, 1, "cat /srv/fed/server"); !strings.Contains(got, server.PublicIP) {
		t.Fatalf("client[1] not repaired: %q", got)
	}
	s.noChanges(t, in)

	s.mustApply(t, in, "destroy")
	if left := dockertest.Leftovers(cluster, data); len(left) > 0 {
		t.Fatalf("destroy left: %v", left)
	}
	if out, err := exec.Command("docker", "inspect", "diffuser-"+cluster+"-server-0").CombinedOutput(); err == nil {
		t.Fatalf("the docker server still exists after destroy:\n%s", out)
	}
	for i := range 2 {
		if out, err := c.Exec(i, "systemctl is-system-running --wait >/dev/null; echo up"); err != nil || !strings.Contains(out, "up") {
			t.Fatalf("static machine %d is not running after destroy: %v %s", i, err, out)
		}
	}
}
