// Package dockertest launches real node containers for tests: the docker
// provider's node image (systemd, sshd, a loop-device volume each), driven
// afterwards as static hosts over SSH, the way a person drives machines
// they already own. It is imported by tests only: the workspace layer's
// system tests and the CLI's tests that SIGKILL a real diffuser process.
// Containers, networks, loop devices and volume files are removed when the
// test ends, also when it fails.
package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/remote"

	"github.com/zclconf/go-cty/cty"
)

// DataDevice is the path of the volume inside every container: a symlink
// to the loop device the provider attached, so one static `volumes`
// setting serves every host of a group.
const DataDevice = "/dev/diffuser-data"

// DockerOK says whether a Docker Engine answers.
func DockerOK() bool { return exec.Command("docker", "info").Run() == nil }

// NeedContainers skips container tests under -short, without a Docker
// Engine, or when not root.
func NeedContainers(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("container test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("container test: needs root for loop devices")
	}
	if !DockerOK() {
		t.Skip("docker is not reachable: run scripts/setup.sh")
	}
}

// ModuleRoot is the directory holding go.mod, found upwards from the
// working directory (a test runs in its package's directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// MirrorHosts returns what scripts/mirror-hosts.sh prints: the extra_hosts
// entries, as HCL list items, containers need to reach this machine's apt
// mirrors.
func MirrorHosts(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(ModuleRoot(t), "scripts", "mirror-hosts.sh")).Output()
	if err != nil {
		t.Fatalf("mirror-hosts.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// ExtraHosts is MirrorHosts as a list.
func ExtraHosts(t testing.TB) []string {
	var out []string
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(MirrorHosts(t), -1) {
		out = append(out, m[1])
	}
	return out
}

// Cluster is a few node containers, each with a 1 GB volume, reachable over
// SSH as root.
type Cluster struct {
	P     *docker.Provider
	Name  string // the cluster name (container and network prefix)
	Dir   string // the test's temp dir (site files, data dirs)
	Specs []cloud.HostSpec
	Hosts []cloud.Host
}

// Launch launches n node containers in parallel (NeedContainers first) and
// tears them down at cleanup.
func Launch(t *testing.T, n int) *Cluster {
	t.Helper()
	NeedContainers(t)
	dir := t.TempDir()
	// The provider authorizes one key; each workspace adds its own later.
	_, pub, err := remote.GenerateKey(filepath.Join(dir, "launch-key"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]cty.Value{"memory": cty.StringVal("768m")}
	if eh := ExtraHosts(t); len(eh) > 0 {
		var vs []cty.Value
		for _, h := range eh {
			vs = append(vs, cty.StringVal(h))
		}
		settings["extra_hosts"] = cty.ListVal(vs)
	}
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		t.Logf(format, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := docker.New(ctx, cty.ObjectVal(settings), cloud.Env{Keys: cloud.Keys{PublicKey: pub}, WorkDir: dir, Log: logf})
	if err != nil {
		t.Skipf("docker provider not usable: %v", err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	c := &Cluster{P: p, Name: "rh" + hex.EncodeToString(b), Dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range c.Hosts {
				out, _ := c.Exec(i, "systemctl is-system-running; systemctl --failed --no-legend; systemctl status ssh --no-pager -n 5")
				t.Logf("%s after the failure:\n%s", c.Specs[i].Name, out)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for i, s := range c.Specs {
			var h cloud.Host
			if i < len(c.Hosts) {
				h = c.Hosts[i]
			}
			if err := p.Destroy(ctx, s, h); err != nil {
				t.Errorf("destroy %s: %v", s.Name, err)
			}
		}
		if err := p.Cleanup(ctx, c.Name); err != nil {
			t.Errorf("cleanup of cluster %s: %v", c.Name, err)
		}
		p.Close()
	})
	c.Specs = make([]cloud.HostSpec, n)
	c.Hosts = make([]cloud.Host, n)
	for i := range c.Specs {
		c.Specs[i] = cloud.HostSpec{Cluster: c.Name, Group: "node", Index: i, Count: n,
			Name: fmt.Sprintf("node[%d]", i), Hostname: fmt.Sprintf("node-%d", i),
			Volumes: []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}}
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 25*time.Minute) // a first image build takes minutes
	defer lcancel()
	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range c.Specs {
		wg.Go(func() { c.Hosts[i], errs[i] = p.Launch(lctx, c.Specs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("launch %s: %v", c.Specs[i].Name, err)
		}
	}
	for i := range c.Hosts {
		// docker exec works before the container has booted; boot's
		// systemd-tmpfiles-setup then empties /tmp, taking what a test
		// wrote there (a lock holder's ready file). Wait for the boot to
		// end (running or degraded), as SSH logins do by nature: sshd
		// starts after it. Bounded: a boot that hangs shows in the test.
		c.MustExec(t, i, "timeout 120 systemctl is-system-running --wait >/dev/null 2>&1; true")
	}
	for i, h := range c.Hosts {
		dev := h.Volumes["data"].Device
		if dev == "" {
			t.Fatalf("%s has no data volume: %+v", c.Specs[i].Name, h)
		}
		c.MustExec(t, i, "ln -sfn "+dev+" "+DataDevice)
	}
	t.Logf("%d node containers up in %s", n, time.Since(start).Round(time.Second))
	return c
}

// Container is the docker name of host i.
func (c *Cluster) Container(i int) string { return docker.ContainerName(c.Specs[i]) }

// Exec runs a shell script in host i's container (not over SSH).
func (c *Cluster) Exec(i int, script string) (string, error) {
	out, err := exec.Command("docker", "exec", c.Container(i), "sh", "-c", script).CombinedOutput()
	return string(out), err
}

// ExecArgs runs a command (no shell) in host i's container.
func (c *Cluster) ExecArgs(i int, args ...string) (string, error) {
	out, err := exec.Command("docker", append([]string{"exec", c.Container(i)}, args...)...).CombinedOutput()
	return string(out), err
}

// MustExec is Exec failing the test on an error.
func (c *Cluster) MustExec(t testing.TB, i int, script string) string {
	t.Helper()
	out, err := c.Exec(i, script)
	if err != nil {
		t.Fatalf("%s: %q: %v\n%s", c.Specs[i].Name, script, err, out)
	}
	return out
}

// Authorize makes the SSH key of workspace ws under data (generating it as
// diffuser would, <data>/<ws>/id_ed25519) a root key on every host.
func (c *Cluster) Authorize(t testing.TB, data, ws string) {
	t.Helper()
	_, pub, err := remote.GenerateKey(filepath.Join(data, ws))
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Hosts {
		c.MustExec(t, i, fmt.Sprintf("printf '%%s\\n' '%s' >> /root/.ssh/authorized_keys", strings.TrimSpace(pub)))
	}
}

// Site writes a static site file listing hosts (indexes into the cluster)
// as group and returns its path.
func (c *Cluster) Site(t testing.TB, name, group string, hosts ...int) string {
	t.Helper()
	var addrs []string
	for _, i := range hosts {
		addrs = append(addrs, fmt.Sprintf("%q", c.Hosts[i].SSHAddress))
	}
	// ssh_config = "": this machine's own ~/.ssh/config must not change
	// how the test reaches its containers.
	src := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = ""
  hosts %q {
    addresses = [%s]
    volumes   = { data = %q }
  }
}
`, group, strings.Join(addrs, ", "), DataDevice)
	p := filepath.Join(c.Dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// RunCounts reads a run log (one "<name> ..." line per run) from host i and
// counts lines per first word.
func (c *Cluster) RunCounts(t testing.TB, i int, log string) map[string]int {
	t.Helper()
	out := c.MustExec(t, i, "cat "+log+" 2>/dev/null || true")
	m := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			m[f[0]]++
		}
	}
	return m
}

// CheckCounts reports every name whose run count differs from want.
func CheckCounts(t testing.TB, host string, got, want map[string]int) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var bad []string
	for k := range keys {
		if got[k] != want[k] {
			bad = append(bad, fmt.Sprintf("%s ran %d time(s), want %d", k, got[k], want[k]))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%s: %s", host, strings.Join(bad, "; "))
	}
}

// Leftovers lists what a cluster still has on this machine: containers
// and networks labelled with it, and loop devices backed by files under
// volDir. Empty when cluster is "".
func Leftovers(cluster, volDir string) []string {
	var out []string
	if cluster == "" {
		return out
	}
	if b, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+docker.LabelCluster+"="+cluster).Output(); len(bytes.TrimSpace(b)) > 0 {
		out = append(out, "containers: "+strings.TrimSpace(string(b)))
	}
	if b, _ := exec.Command("docker", "network", "ls", "-q", "--filter", "label="+docker.LabelCluster+"="+cluster).Output(); len(bytes.TrimSpace(b)) > 0 {
		out = append(out, "networks: "+strings.TrimSpace(string(b)))
	}
	if b, _ := exec.Command("losetup", "-a").Output(); bytes.Contains(b, []byte(volDir)) {
		out = append(out, "loop devices: "+string(b))
	}
	return out
}
