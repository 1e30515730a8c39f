package docker

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/facts"
)

// TestFactsCapabilitiesReal: the facts command, over SSH on a launched
// host, tells the login session's capability bounding set: the
// provider's SYS_ADMIN and DAC_READ_SEARCH on top of Docker's defaults,
// no NET_ADMIN. Run in a container of the node image started with and
// without --cap-add NET_ADMIN, it tells net_admin exactly in the first.
func TestFactsCapabilitiesReal(t *testing.T) {
	e, _, f, _ := launchedHostFacts(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, want := range []string{"chown", "dac_read_search", "sys_admin", "net_bind_service"} {
		if !slices.Contains(f.Capabilities, want) {
			t.Errorf("launched host: capabilities %v lack %s", f.Capabilities, want)
		}
	}
	if slices.Contains(f.Capabilities, "net_admin") || !slices.IsSorted(f.Capabilities) {
		t.Errorf("launched host: capabilities %v (net_admin is not granted; want them sorted)", f.Capabilities)
	}

	image, err := e.p.EnsureImage(ctx, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, add := range []bool{false, true} {
		args := []string{"run", "--rm", "--network", "none", "--entrypoint", "sh"}
		for k, v := range hostLabels(e.spec("plain", 0)) { // removed by the cluster's cleanup if left behind
			args = append(args, "--label", k+"="+v)
		}
		if add {
			args = append(args, "--cap-add", "NET_ADMIN")
		}
		args = append(args, image, "-c", facts.Command)
		b, err := exec.CommandContext(ctx, "docker", args...).Output()
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(args[:len(args)-1], " "), err)
		}
		f, err := facts.Parse(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(f.Capabilities, "net_admin"); got != add {
			t.Errorf("--cap-add NET_ADMIN %v: capabilities %v", add, f.Capabilities)
		}
		if !slices.Contains(f.Capabilities, "chown") || slices.Contains(f.Capabilities, "sys_admin") {
			t.Errorf("--cap-add NET_ADMIN %v: capabilities %v, want Docker's defaults", add, f.Capabilities)
		}
	}
}

// TestFactsLimitsReal: a host launched with the provider's memory and
// cpus settings tells them, over SSH, as its memory_mb and cores (the
// login session's cgroup sits below the container's, whose limits bound
// it), not the machine's MemTotal and nproc, which /proc shows a
// container unchanged; a recipe sizing a cache from memory_mb would
// otherwise size it for the machine.
func TestFactsLimitsReal(t *testing.T) {
	_, _, f, out := launchedHostFacts(t, map[string]cty.Value{"memory": cty.StringVal("300m"), "cpus": cty.NumberFloatVal(0.5)})
	// Half a CPU rounds up to one core (facts.parseCgroup's unit tests
	// hold the rounding of fractions above one).
	if f.MemoryMB != 300 || f.Cores != 1 {
		t.Errorf("memory = 300m, cpus = 0.5: facts say memory_mb %d, cores %d; want 300, 1\n%s", f.MemoryMB, f.Cores, out)
	}
}

// TestFactsDevicesReal: a host's devices are those it holds a node for:
// its volume's loop device, not the machine's other loop devices (one
// made here, bound but passed to no container), which /sys/block and
// lsblk show every container. A recipe choosing a device from
// host.facts.devices must not pick one the host cannot open.
func TestFactsDevicesReal(t *testing.T) {
	img := filepath.Join(t.TempDir(), "other.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("losetup", "-f", "--show", img).Output()
	if err != nil {
		t.Skipf("losetup: %v", err)
	}
	other := strings.TrimPrefix(strings.TrimSpace(string(b)), "/dev/")
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", "/dev/"+other).Run() })
	_, h, f, out := launchedHostFacts(t, nil, cloud.VolumeSpec{Name: "data", SizeGB: 1})
	own := strings.TrimPrefix(h.Volumes["data"].Device, "/dev/")
	var names []string
	for _, d := range f.Devices {
		names = append(names, d.Name)
	}
	if !slices.Contains(names, own) || slices.Contains(names, other) {
		t.Errorf("devices %v: want the volume's %s, not the machine's other loop device %s\n%s", names, own, other, out)
	}
}

// launchedHostFacts launches one host of a provider with settings (under
// the machine's real-deployment lock: dockertest.Serialize, which this
// package cannot import; destroyed when the test ends) and returns the
// environment, the facts the facts command tells over SSH, and its output.
func launchedHostFacts(t *testing.T, settings map[string]cty.Value, vols ...cloud.VolumeSpec) (*testEnv, cloud.Host, facts.Facts, string) {
	t.Helper()
	needDocker(t)
	unlock, err := lockFile(t.Context(), "diffuser-dockertest.lock", func(path string) { t.Logf("waiting for %s", path) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	e := newTestEnv(t, settings)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := e.spec("node", 0, vols...)
	var h cloud.Host
	t.Cleanup(func() { e.destroyAll(t, []cloud.HostSpec{spec}, []cloud.Host{h}) })
	h, err = e.p.Launch(ctx, spec)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	c, err := e.dialSSH(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	out, err := c.run(facts.Command)
	if err != nil {
		t.Fatal(err)
	}
	f, err := facts.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return e, h, f, out
}
