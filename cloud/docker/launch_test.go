package docker

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"diffuser/cloud"
)

// TestLaunchCluster launches three hosts with a volume each in parallel and
// checks them over SSH: systemd state, the volume's block device, reaching
// each other, their own host keys; then adoption, and that Destroy+Cleanup
// leave no container, network, loop device or file of the cluster behind.
func TestLaunchCluster(t *testing.T) {
	e := newTestEnv(t, map[string]cty.Value{
		"extra_hosts": cty.ListVal([]cty.Value{cty.StringVal("diffuser-extra.test:192.0.2.10")}),
		"memory":      cty.StringVal("1g"),
		"cpus":        cty.NumberFloatVal(1.5),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const n = 3
	specs := make([]cloud.HostSpec, n)
	for i := range specs {
		specs[i] = e.spec("server", i, cloud.VolumeSpec{Name: "brick", SizeGB: 1 + i})
	}
	hosts := make([]cloud.Host, n)
	t.Cleanup(func() { e.destroyAll(t, specs, hosts) })
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := time.Now()
	for i := range specs {
		wg.Go(func() { hosts[i], errs[i] = e.p.Launch(ctx, specs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("launch %s: %v", specs[i].Name, err)
		}
	}
	t.Logf("3 hosts running after %s", time.Since(start).Round(time.Millisecond))

	conns := make([]*sshHost, n)
	for i, h := range hosts {
		if h.SSHAddress == "" || h.SSHPort != 22 || h.SSHUser != "root" || h.PrivateIP != h.SSHAddress {
			t.Fatalf("%s: unexpected address fields %+v", specs[i].Name, h)
		}
		c, err := e.dialSSH(ctx, h)
		if err != nil {
			t.Fatalf("%s: %v", specs[i].Name, err)
		}
		t.Cleanup(func() { c.c.Close() })
		conns[i] = c
	}
	t.Logf("3 hosts SSH-ready after %s", time.Since(start).Round(time.Millisecond))

	keys := map[string]string{}
	for i, c := range conns {
		name := specs[i].Name
		if got, err := c.run("hostname"); err != nil || got != specs[i].Hostname {
			t.Errorf("%s: hostname = %q, %v; want %q", name, got, err, specs[i].Hostname)
		}
		state := waitSystemRunning(t, c)
		if state != "running" && state != "degraded" {
			t.Errorf("%s: systemctl is-system-running = %q", name, state)
		}
		if state == "degraded" {
			failed, _ := c.run("systemctl --failed --no-legend --plain")
			t.Errorf("%s: degraded; failed units:\n%s", name, failed)
		}

		vol, ok := hosts[i].Volumes["brick"]
		if !ok || vol.Device == "" || vol.SizeGB != specs[i].Volumes[0].SizeGB {
			t.Fatalf("%s: volume brick = %+v", name, vol)
		}
		size, err := c.run("blockdev --getsize64 " + vol.Device)
		if want := strconv.FormatInt(int64(vol.SizeGB)<<30, 10); err != nil || size != want {
			t.Errorf("%s: blockdev --getsize64 %s = %q, %v; want %s", name, vol.Device, size, err, want)
		}
		if out, err := c.run("test -b " + vol.Device + " && test -c /dev/fuse && echo ok"); err != nil || out != "ok" {
			t.Errorf("%s: block device or /dev/fuse missing: %q %v", name, out, err)
		}
		if out, err := c.run("getent hosts diffuser-extra.test"); err != nil || !strings.HasPrefix(out, "192.0.2.10") {
			t.Errorf("%s: extra_hosts not applied: %q %v", name, out, err)
		}
		if out, err := c.run("grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources"); err != nil || !strings.Contains(out, e.p.Settings().Mirror) {
			t.Errorf("%s: apt sources do not use mirror %s: %q %v", name, e.p.Settings().Mirror, out, err)
		}
		if c.key.Type() != ssh.KeyAlgoED25519 {
			t.Errorf("%s: host key type %s, want ed25519", name, c.key.Type())
		}
		fp := ssh.FingerprintSHA256(c.key)
		if other, dup := keys[fp]; dup {
			t.Errorf("%s and %s share host key %s: keys must be made per container", other, name, fp)
		}
		keys[fp] = name
		for j, peer := range hosts {
			if j != i {
				if out, err := c.run("ping -c1 -W2 " + peer.PrivateIP); err != nil {
					t.Errorf("%s cannot ping %s (%s): %v\n%s", name, specs[j].Name, peer.PrivateIP, err, out)
				}
			}
		}
	}
	// mkfs and mount work on the volume (what the format and mount steps
	// do). It stays mounted: Destroy must cope with a busy loop device.
	if out, err := conns[0].run("mkfs.xfs -q " + hosts[0].Volumes["brick"].Device + " && mkdir -p /data && mount " +
		hosts[0].Volumes["brick"].Device + " /data && touch /data/x && echo ok"); err != nil || out != "ok" {
		t.Errorf("mkfs.xfs + mount on the volume: %q %v", out, err)
	}
	// Parallel launches made exactly one cluster network.
	nets, err := e.p.clusterNetworks(ctx, e.cluster)
	if err != nil || len(nets) != 1 {
		t.Errorf("cluster networks after parallel launch: %d, %v; want 1", len(nets), err)
	}

	inspect, err := e.p.cli.ContainerInspect(ctx, hosts[0].ProviderID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := inspect.Container.HostConfig; hc.Memory != 1<<30 || hc.NanoCPUs != 1.5e9 || hc.Privileged {
		t.Errorf("memory %d, nano cpus %d, privileged %v; want 1g, 1.5e9, false", hc.Memory, hc.NanoCPUs, hc.Privileged)
	}
	if l := inspect.Container.Config.Labels; l[LabelCluster] != e.cluster || l[LabelGroup] != "server" || l[LabelIndex] != "0" || l[LabelName] != "server[0]" ||
		l[LabelWorkDir] != e.p.workDir || e.p.workDir == "" {
		t.Errorf("labels = %v (work directory %q)", l, e.p.workDir)
	}

	// Launching the same specs again adopts: same containers, no new ones,
	// volumes still on the same single loop device.
	for i := range specs {
		again, err := e.p.Launch(ctx, specs[i])
		if err != nil {
			t.Fatalf("relaunch %s: %v", specs[i].Name, err)
		}
		if again.ProviderID != hosts[i].ProviderID || again.SSHAddress != hosts[i].SSHAddress ||
			again.Volumes["brick"] != hosts[i].Volumes["brick"] {
			t.Errorf("relaunch %s: got %+v, want the adopted %+v", specs[i].Name, again, hosts[i])
		}
		loops, err := findLoops(hosts[i].Volumes["brick"].ProviderID)
		if err != nil || len(loops) != 1 {
			t.Errorf("%s: volume file bound to %v (%v), want exactly one loop device", specs[i].Name, loops, err)
		}
	}
	if got := clusterContainers(t, e); len(got) != n {
		t.Errorf("after relaunch: %d containers of the cluster, want %d: %v", len(got), n, got)
	}
	for i := range specs {
		if st, err := e.p.Status(ctx, specs[i], hosts[i]); err != nil || st != cloud.Running {
			t.Errorf("status %s = %s, %v; want running", specs[i].Name, st, err)
		}
	}

	for i := range specs {
		if err := e.p.Destroy(ctx, specs[i], hosts[i]); err != nil {
			t.Errorf("destroy %s: %v", specs[i].Name, err)
		}
		if st, err := e.p.Status(ctx, specs[i], hosts[i]); err != nil || st != cloud.Missing {
			t.Errorf("status %s after destroy = %s, %v; want missing", specs[i].Name, st, err)
		}
	}
	if err := e.p.Cleanup(ctx, e.cluster); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	assertClusterGone(t, e)
}

// TestLaunchAdoptsAfterCrash covers the crash windows of Launch: a result
// that was never recorded, a volume attached but no container created, and
// two Launches of one host racing. Each must end with one container and one
// loop device.
func TestLaunchAdoptsAfterCrash(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec := e.spec("node", 0, cloud.VolumeSpec{Name: "data", SizeGB: 1})
	t.Cleanup(func() { e.destroyAll(t, []cloud.HostSpec{spec}, nil) })

	// Crash after the loop device was attached, before the container existed.
	av, err := e.p.ensureVolume(spec, spec.Volumes[0], -1)
	if err != nil {
		t.Fatal(err)
	}
	// Two Launches race; their results are "lost" (never recorded).
	var wg sync.WaitGroup
	ids := make([]string, 2)
	for i := range ids {
		wg.Go(func() {
			h, err := e.p.Launch(ctx, spec)
			if err != nil {
				t.Errorf("launch %d: %v", i, err)
			}
			ids[i] = h.ProviderID
		})
	}
	wg.Wait()
	if ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("racing launches returned %q and %q, want one container", ids[0], ids[1])
	}
	h, err := e.p.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if h.ProviderID != ids[0] {
		t.Errorf("launch after lost result: ID %s, want adopted %s", h.ProviderID, ids[0])
	}
	if h.Volumes["data"].Device != av.Device {
		t.Errorf("volume on %s, want the already attached %s", h.Volumes["data"].Device, av.Device)
	}
	if got := clusterContainers(t, e); len(got) != 1 {
		t.Errorf("%d containers, want 1: %v", len(got), got)
	}
	if loops, _ := findLoops(av.File); len(loops) != 1 {
		t.Errorf("volume bound to %v, want one loop device", loops)
	}

	// Stopped, and the loop device gone as after a reboot: Status says
	// stopped, Start puts the volume back on the same device.
	timeout := 10
	if _, err := e.p.cli.ContainerStop(ctx, h.ProviderID, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if st, err := e.p.Status(ctx, spec, h); err != nil || st != cloud.Stopped {
		t.Fatalf("status after stop = %s, %v; want stopped", st, err)
	}
	if err := detachLoop(av.Device, av.File); err != nil {
		t.Fatal(err)
	}
	h2, err := e.p.Start(ctx, spec, h)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if h2.ProviderID != h.ProviderID || h2.Volumes["data"].Device != av.Device {
		t.Errorf("start: %+v, want same container and device %s", h2, av.Device)
	}
	c, err := e.dialSSH(ctx, h2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	if out, err := c.run("blockdev --getsize64 " + av.Device); err != nil || out != strconv.Itoa(1<<30) {
		t.Errorf("volume after restart: %q %v", out, err)
	}

	if err := e.p.Destroy(ctx, spec, cloud.Host{}); err != nil { // unrecorded host: found by name
		t.Fatalf("destroy: %v", err)
	}
	if err := e.p.Cleanup(ctx, e.cluster); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	assertClusterGone(t, e)
}

// waitSystemRunning waits up to 30s for systemd to finish booting and
// returns `systemctl is-system-running`.
func waitSystemRunning(t *testing.T, c *sshHost) string {
	t.Helper()
	var state string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		state, _ = c.run("systemctl is-system-running") // exits non-zero unless running
		if state != "starting" && state != "initializing" && state != "" {
			break
		}
	}
	return state
}

// clusterContainers lists the names of all containers of the test cluster.
func clusterContainers(t testing.TB, e *testEnv) []string {
	t.Helper()
	res, err := e.p.cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: clusterFilter(e.cluster)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Items {
		names = append(names, strings.Join(c.Names, ","))
	}
	return names
}

// assertClusterGone checks that nothing of the test cluster is left: no
// container, network, loop device bound to its volume directory, or file.
func assertClusterGone(t testing.TB, e *testEnv) {
	t.Helper()
	if got := clusterContainers(t, e); len(got) != 0 {
		t.Errorf("containers left: %v", got)
	}
	nets, err := e.p.cli.NetworkList(context.Background(), client.NetworkListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets.Items {
		if n.Name == NetworkName(e.cluster) || n.Labels[LabelCluster] == e.cluster {
			t.Errorf("network left: %s", n.Name)
		}
	}
	dir := e.p.clusterVolumeDir(e.cluster)
	bound, err := boundLoops()
	if err != nil {
		t.Fatal(err)
	}
	for n, f := range bound {
		if strings.HasPrefix(f, dir+"/") || strings.Contains(f, "/"+e.cluster+"/") {
			t.Errorf("loop device left: %s -> %s", loopPath(n), f)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		left, _ := filepath.Glob(filepath.Join(dir, "*"))
		t.Errorf("volume directory %s still there (%v): %v", dir, err, left)
	}
}
