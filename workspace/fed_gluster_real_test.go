package workspace_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"
	"diffuser/workspace"
)

// TestRealFederationGlusterFS is the built-in GlusterFS recipe over two
// providers, as an operator would run it: two servers on the docker
// provider, two clients on the static provider — node containers the test
// starts as machines the user already owns, on a network of their own
// ("the lab"), reached over SSH at their addresses there. The docker
// provider's `networks` setting joins the servers to the lab network, so
// the plan has no reachability warning and the servers announce their lab
// addresses (private_ip, by which GlusterFS names its bricks). Apply,
// verify (write on one client, read on the other, with a server stopped),
// drift on a static client repaired, a no-op re-plan, then destroy: the
// docker servers are gone, the static machines still run, unmounted, and
// the lab network is left alone.
func TestRealFederationGlusterFS(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers are skipped with -short")
	}
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	lab := dockertest.Launch(t, 2) // the lab machines
	labNet := docker.NetworkName(lab.Name)
	const ws = "fedgl"
	data := filepath.Join(lab.Dir, "fedgl", ".diffuser")
	s := newSysEnv(t, data)
	lab.Authorize(t, data, ws)
	site := filepath.Join(lab.Dir, "fedgl.hcl")
	src := fmt.Sprintf(`default_provider = "docker"

provider "docker" {
  extra_hosts = [%s]
  networks    = [%q]
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
`, dockertest.MirrorHosts(t), labNet, lab.Hosts[0].SSHAddress, lab.Hosts[1].SSHAddress)
	if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	in := workspace.Inputs{Recipe: "glusterfs", Site: site, Workspace: ws,
		Vars: []string{"servers=2", "replica=2", "clients=2"}}
	cluster := ""
	t.Cleanup(func() { // before the lab's own cleanup, which removes its network
		if cluster == "" {
			return
		}
		if left := dockertest.Leftovers(cluster, data); len(left) > 0 {
			if _, err := s.applyOf(in, "destroy"); err != nil {
				t.Errorf("destroy at cleanup: %v", err)
			}
			dockertest.RemoveClusters(t, data, map[string]bool{cluster: true})
		}
	})

	pl, err := s.planOf(in, "plan")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range pl.WS.Warnings {
		if strings.Contains(d.Summary, "cannot reach") {
			t.Errorf("the servers join the clients' network, yet the plan warns: %s: %s", d.Summary, d.Detail)
		}
	}
	pl.Close()

	a := s.mustApply(t, in, "apply")
	cluster = a.State.Cluster
	for n, p := range map[string]string{"server[0]": "docker", "server[1]": "docker", "client[0]": "static", "client[1]": "static"} {
		if h := a.State.Hosts[n]; h == nil || h.Provider != p {
			t.Fatalf("%s: %+v, want provider %s", n, h, p)
		}
	}
	// Each server announces its lab address: the one its container has on
	// the lab network, not the cluster network's that SSH uses.
	for i := range 2 {
		h := a.State.Hosts[fmt.Sprintf("server[%d]", i)]
		ctr := fmt.Sprintf("diffuser-%s-server-%d", cluster, i)
		out, err := exec.Command("docker", "inspect", "-f", `{{(index .NetworkSettings.Networks "`+labNet+`").IPAddress}}`, ctr).CombinedOutput()
		if err != nil {
			t.Fatalf("inspect %s: %v %s", ctr, err, out)
		}
		if lip := strings.TrimSpace(string(out)); h.PrivateIP != lip || h.PublicIP != lip || h.SSH.Address == lip {
			t.Errorf("server[%d]: private %s public %s ssh %s; want private and public = its lab address %s, ssh elsewhere",
				i, h.PrivateIP, h.PublicIP, h.SSH.Address, lip)
		}
	}
	// The clients mounted over the lab network, and the bricks are named
	// by the lab addresses the clients reach.
	info := lab.MustExec(t, 0, "grep ' /mnt/gluster ' /proc/mounts")
	if !strings.Contains(info, a.State.Hosts["server[0]"].PrivateIP+":/") {
		t.Errorf("client[0]'s mount is not from server[0]'s lab address: %q", info)
	}
	checks := s.verify(t, in)
	t.Logf("verify: %d checks passed", len(checks))
	s.noChanges(t, in)

	// Drift on a static machine: its mount is gone; refresh finds it and
	// apply mounts again.
	lab.MustExec(t, 1, "umount /mnt/gluster")
	ch := s.changes(t, in)
	if c := ch[`step.mount["client[1]"]`]; c == nil || !strings.Contains(c.Reason, "drift") {
		t.Fatalf("drift on client[1] not planned: %v", changeLines(ch))
	}
	s.mustApply(t, in, "apply")
	lab.MustExec(t, 1, "mountpoint -q /mnt/gluster")
	lab.MustExec(t, 0, "echo written-on-client-0 > /mnt/gluster/fedgl-check")
	if got := strings.TrimSpace(lab.MustExec(t, 1, "cat /mnt/gluster/fedgl-check")); got != "written-on-client-0" {
		t.Errorf("client[1] reads %q after the repair, want what client[0] wrote", got)
	}
	s.noChanges(t, in)

	s.mustApply(t, in, "destroy")
	if left := dockertest.Leftovers(cluster, data); len(left) > 0 {
		t.Fatalf("destroy left: %v", left)
	}
	for i := range 2 {
		if out, err := exec.Command("docker", "inspect", fmt.Sprintf("diffuser-%s-server-%d", cluster, i)).CombinedOutput(); err == nil {
			t.Fatalf("docker server %d still exists after destroy:\n%s", i, out)
		}
		if out, err := lab.Exec(i, "systemctl is-system-running --wait >/dev/null; echo up"); err != nil || !strings.Contains(out, "up") {
			t.Fatalf("static machine %d is not running after destroy: %v %s", i, err, out)
		}
		if out, err := lab.Exec(i, "mountpoint -q /mnt/gluster"); err == nil {
			t.Errorf("static machine %d still mounts /mnt/gluster after destroy %s", i, out)
		}
	}
	if out, err := exec.Command("docker", "network", "inspect", labNet).CombinedOutput(); err != nil {
		t.Fatalf("the lab network is gone after destroy: %v %s", err, out)
	}
}
