package docker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

// TestSharedNetworkReal launches a host whose settings join an existing
// network ("the lab", made by the test as an operator would, with
// `docker network create`): the host is announced at its lab address
// (private and public), SSH still reaches it at the cluster network's,
// the lab network's other members reach it there; a network that does not
// exist is refused naming the fix; destroy and cleanup remove the
// container but leave the lab network.
func TestSharedNetworkReal(t *testing.T) {
	lab := "diffuser-test-lab-" + strings.TrimPrefix(t.Name(), "Test")
	lab = strings.ToLower(lab) + "-" + time.Now().Format("150405")
	if out, err := exec.Command("docker", "network", "create", lab).CombinedOutput(); err != nil {
		t.Skipf("docker network create: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "network", "rm", lab).CombinedOutput(); err != nil {
			t.Errorf("remove the lab network: %v %s", err, out)
		}
	})
	e := newTestEnv(t, map[string]cty.Value{"networks": cty.ListVal([]cty.Value{cty.StringVal(lab)})})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	specs := []cloud.HostSpec{e.spec("server", 0)}
	hosts := make([]cloud.Host, 1)
	t.Cleanup(func() { e.destroyAll(t, specs, hosts) })
	h, err := e.p.Launch(ctx, specs[0])
	if err != nil {
		t.Fatal(err)
	}
	hosts[0] = h
	out, err := exec.Command("docker", "inspect", "-f", `{{(index .NetworkSettings.Networks "`+lab+`").IPAddress}}`, ContainerName(specs[0])).CombinedOutput()
	labIP := strings.TrimSpace(string(out))
	if err != nil || labIP == "" {
		t.Fatalf("the container is not on %s: %v %s", lab, err, out)
	}
	if h.PrivateIP != labIP || h.PublicIP != labIP || h.Attrs["network."+lab] != labIP || h.SSHAddress == labIP || h.SSHAddress != h.Attrs[attrFixedIP] {
		t.Fatalf("host %+v: want private and public %s (the lab's), SSH at the cluster network's fixed address", h, labIP)
	}
	c, err := e.dialSSH(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	c.c.Close()
	// Another machine on the lab network reaches the host at its lab address.
	probe := exec.Command("docker", "run", "--rm", "--network", lab, h.Attrs["image"], "bash", "-c",
		"exec 3<>/dev/tcp/"+labIP+"/22 && head -c 7 <&3")
	if out, err := probe.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "SSH-2.0") {
		t.Fatalf("a lab machine does not reach %s:22: %v %q", labIP, err, out)
	}
	// Stopped (by hand) and started by the provider, it is still on the
	// lab network and announced there.
	if out, err := exec.Command("docker", "stop", ContainerName(specs[0])).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	h2, err := e.p.Start(ctx, specs[0], h)
	if err != nil {
		t.Fatal(err)
	}
	if h2.Attrs["network."+lab] == "" || h2.PrivateIP != h2.Attrs["network."+lab] {
		t.Fatalf("after stop and start: %+v", h2)
	}
	hosts[0] = h2

	// A network that does not exist: refused, naming the fix.
	bad := e.spec("server", 1)
	bad.Settings = cty.ObjectVal(map[string]cty.Value{"networks": cty.ListVal([]cty.Value{cty.StringVal(lab + "-missing")})})
	specs = append(specs, bad)
	hosts = append(hosts, cloud.Host{})
	if _, err := e.p.Launch(ctx, bad); err == nil || !strings.Contains(err.Error(), "docker network create "+lab+"-missing") {
		t.Fatalf("launch onto a missing network: %v", err)
	}

	e.destroyAll(t, specs, hosts)
	if err := e.p.Cleanup(ctx, e.cluster); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("docker", "network", "inspect", lab).CombinedOutput(); err != nil {
		t.Fatalf("destroy removed the lab network: %v %s", err, out)
	}
	if out, _ := exec.Command("docker", "ps", "-aq", "--filter", "network="+lab).Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("containers still on the lab network after destroy: %s", out)
	}
}
