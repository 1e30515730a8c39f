package docker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"diffuser/cloud"
)

// TestFixedAddresses launches two hosts on a new cluster network, restarts
// one with `docker restart` (as a person or the daemon would) and stops
// and starts the other through the provider, and checks that each keeps
// its address and host key; then removes one's container behind the
// provider's back and launches it again with its recorded address, which
// it gets back, while a third host launched meanwhile never takes it.
func TestFixedAddresses(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	specs := []cloud.HostSpec{e.spec("server", 0), e.spec("server", 1)}
	hosts := make([]cloud.Host, 2)
	t.Cleanup(func() { e.destroyAll(t, specs, hosts) })
	for i := range specs {
		h, err := e.p.Launch(ctx, specs[i])
		if err != nil {
			t.Fatalf("launch %s: %v", specs[i].Name, err)
		}
		hosts[i] = h
		if h.Attrs[attrFixedIP] != h.PrivateIP {
			t.Fatalf("%s: address %s, pinned to %q: want pinned to its address", specs[i].Name, h.PrivateIP, h.Attrs[attrFixedIP])
		}
	}
	res, err := e.p.cli.NetworkInspect(ctx, NetworkName(e.cluster), client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan := planOf(res.Network)
	if !plan.fixed() {
		t.Fatalf("network %s has no fixed addressing: labels %v, IPAM %+v", NetworkName(e.cluster), res.Network.Labels, res.Network.IPAM.Config)
	}
	key := func(h cloud.Host) string {
		c, err := e.dialSSH(ctx, h)
		if err != nil {
			t.Fatalf("ssh %s: %v", h.PrivateIP, err)
		}
		defer c.c.Close()
		return string(c.key.Marshal())
	}
	key0 := key(hosts[0])

	// A third container on the network with a dynamic address (as the
	// engine hands out) takes one from the upper half, never a host's.
	if out, err := exec.Command("docker", "run", "-d", "--rm", "--name", "diffuser-"+e.cluster+"-intruder", "--network", NetworkName(e.cluster),
		"--label", LabelCluster+"="+e.cluster, hosts[0].Attrs["image"], "sleep", "300").CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "diffuser-"+e.cluster+"-intruder").Run() })

	t0 := time.Now()
	if out, err := exec.Command("docker", "restart", "-t", "2", ContainerName(specs[0])).CombinedOutput(); err != nil {
		t.Fatalf("docker restart: %v: %s", err, out)
	}
	got, err := e.p.Start(ctx, specs[0], hosts[0]) // waits until it runs with an address
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("docker restart: back after %s", time.Since(t0).Round(time.Millisecond))
	if got.PrivateIP != hosts[0].PrivateIP || got.ProviderID != hosts[0].ProviderID {
		t.Fatalf("after docker restart: %s (%s), want %s (%s)", got.PrivateIP, got.ProviderID, hosts[0].PrivateIP, hosts[0].ProviderID)
	}
	if key(got) != key0 {
		t.Fatal("host key changed across docker restart")
	}
	if out, err := exec.Command("docker", "stop", "-t", "2", ContainerName(specs[1])).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v: %s", err, out)
	}
	// While server[1] is stopped a new host must not take its address.
	extra := e.spec("client", 0)
	specs = append(specs, extra)
	hosts = append(hosts, cloud.Host{})
	if hosts[2], err = e.p.Launch(ctx, extra); err != nil {
		t.Fatal(err)
	}
	if hosts[2].PrivateIP == hosts[1].PrivateIP || hosts[2].PrivateIP == hosts[0].PrivateIP {
		t.Fatalf("client[0] got %s, an address of a server (%s, %s)", hosts[2].PrivateIP, hosts[0].PrivateIP, hosts[1].PrivateIP)
	}
	if got, err = e.p.Start(ctx, specs[1], hosts[1]); err != nil || got.PrivateIP != hosts[1].PrivateIP {
		t.Fatalf("server[1] started again at %s (%v), want %s", got.PrivateIP, err, hosts[1].PrivateIP)
	}

	// Its container removed, server[0] is launched again with the address
	// state recorded, and gets it back (a new machine: a new id).
	if out, err := exec.Command("docker", "rm", "-f", ContainerName(specs[0])).CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	again := specs[0]
	again.Address = hosts[0].PrivateIP
	got, err = e.p.Launch(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if got.PrivateIP != hosts[0].PrivateIP || got.ProviderID == hosts[0].ProviderID {
		t.Fatalf("relaunched server[0]: %s (%s), want %s on a new container", got.PrivateIP, got.ProviderID, hosts[0].PrivateIP)
	}
	hosts[0] = got
	for _, h := range hosts {
		if !plan.static.Contains(netipMust(h.PrivateIP)) {
			t.Errorf("%s is outside the pinned half %s", h.PrivateIP, plan.static)
		}
	}
	if out, _ := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "diffuser-"+e.cluster+"-intruder").Output(); plan.static.Contains(netipMust(strings.TrimSpace(string(out)))) {
		t.Errorf("a dynamic address %s came from the pinned half", out)
	}
}
