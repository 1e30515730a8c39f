//go:build e2e

package workspace_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker/dockertest"
	"diffuser/steps"
	"diffuser/workspace"
)

// acngBinary is apt-cacher-ng as Debian installs it (make setup).
const acngBinary = "/usr/sbin/apt-cacher-ng"

// acng is a private apt-cacher-ng: its own port, cache and logs, so that
// what it counts is this test's alone.
type acng struct {
	cmd    *exec.Cmd
	port   int
	logDir string
}

// startAcng runs apt-cacher-ng in the foreground on a free port of every
// address, and stops it (its own process only) at cleanup.
//
// Its Debian backend is mirror (the docker provider's): apt-cacher-ng
// sends requests for any known Debian mirror to its configured backend,
// by default ftp.debian.org, which a machine with only its own mirror
// cannot reach.
func startAcng(t *testing.T, mirror string) *acng {
	t.Helper()
	if _, err := os.Stat(acngBinary); err != nil {
		t.Skipf("apt-cacher-ng is not installed (make setup installs it): %v", err)
	}
	port := acngPort(t)
	dir := t.TempDir()
	a := &acng{port: port, logDir: filepath.Join(dir, "log")}
	for _, d := range []string{"cache", "log", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.cmd = exec.Command(acngBinary, "-c", "/etc/apt-cacher-ng", "foreground=1",
		fmt.Sprintf("Port=%d", port), "BindAddress=0.0.0.0",
		"CacheDir="+filepath.Join(dir, "cache"), "LogDir="+a.logDir,
		"pidfile="+filepath.Join(dir, "run", "pid"), "SocketPath="+filepath.Join(dir, "run", "socket"),
		"Remap-debrep=file:deb_mirror*.gz /debian ; "+strings.TrimRight(mirror, "/")+"/")
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stdout, a.cmd.Stderr = out, out
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting apt-cacher-ng: %v", err)
	}
	t.Cleanup(a.stop)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return a
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("apt-cacher-ng does not listen on %d: %v\n%s", port, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// acngPort returns a TCP port free on every address now, below 32768:
// apt-cacher-ng 3.7 formats its port as a signed 16-bit number, so it
// cannot bind one from Linux's ephemeral range (32768-60999, where ":0"
// lands): "Error resolving address for binding".
func acngPort(t *testing.T) int {
	t.Helper()
	const lo, hi = 20000, 32767
	start := lo + int(time.Now().UnixNano()%int64(hi-lo+1))
	for i := 0; i <= hi-lo; i++ {
		port := lo + (start-lo+i)%(hi-lo+1)
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatalf("no free TCP port in %d-%d for apt-cacher-ng", lo, hi)
	return 0
}

// reaches says whether the cache serves url (from the mirror) with 200.
func (a *acng) reaches(t *testing.T, url string) bool {
	t.Helper()
	proxy, _ := neturl.Parse(fmt.Sprintf("http://127.0.0.1:%d", a.port))
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	res, err := cl.Get(url)
	if err != nil {
		t.Logf("GET %s through apt-cacher-ng: %v", url, err)
		return false
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		t.Logf("GET %s through apt-cacher-ng: %s", url, res.Status)
	}
	return res.StatusCode == http.StatusOK
}

func (a *acng) stop() {
	if a.cmd.Process != nil && a.cmd.ProcessState == nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
}

// fetches counts, per .deb file whose name starts with prefix, the
// transfers apt-cacher-ng logged: in (from the mirror) and out (to
// clients). apt-cacher.log lines are time|I or O|bytes|client|path.
func (a *acng) fetches(t *testing.T, prefix string) (in, out map[string]int) {
	t.Helper()
	in, out = map[string]int{}, map[string]int{}
	f, err := os.Open(filepath.Join(a.logDir, "apt-cacher.log"))
	if err != nil {
		t.Fatalf("apt-cacher-ng's log: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Split(sc.Text(), "|")
		if len(fl) < 5 {
			continue
		}
		name := filepath.Base(fl[4])
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".deb") {
			continue
		}
		switch fl[1] {
		case "I":
			in[name]++
		case "O":
			out[name]++
		}
	}
	return in, out
}

// TestRealHostPackageCache: two hosts install the same package through a
// package cache (static hosts, package_cache naming a private
// apt-cacher-ng on this machine): the mirror is asked for it once, both
// hosts get it from the cache, and the hosts' apt files say so. With the
// cache gone, the next install goes straight to the mirror. Destroy
// removes the apt files from the (static) hosts.
func TestRealHostPackageCache(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 2)
	t.Logf("cluster %s", c.Name)
	a := startAcng(t, c.P.Settings().Mirror)
	t.Logf("apt-cacher-ng pid %d on port %d", a.cmd.Process.Pid, a.port)
	// The docker provider records where its containers reach this
	// machine: the cluster network's gateway.
	gw, err := cloud.CheckAptProxy(c.Hosts[0].Attrs[cloud.AttrAptProxy])
	if err != nil {
		t.Fatalf("the docker host's recorded apt_proxy %q: %v", c.Hosts[0].Attrs[cloud.AttrAptProxy], err)
	}
	cache := fmt.Sprintf("http://%s:%d", gw.Host, a.port)

	const ws = "packagecache"
	s := newSysEnv(t, filepath.Join(c.Dir, ws, ".diffuser"))
	c.Authorize(t, s.data(), ws)
	site := c.Site(t, ws+".hcl", "node", 0, 1)
	b, err := os.ReadFile(site)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), `  ssh_config = ""`, fmt.Sprintf("  ssh_config = \"\"\n  package_cache = %q", cache), 1)
	if err := os.WriteFile(site, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &realWS{sysEnv: s, in: workspace.Inputs{Recipe: filepath.Join(realhostDir, "packagecache.hcl"), Site: site, Workspace: ws}}

	// Whether this apt-cacher-ng reaches the mirror: where it cannot
	// (503 Host not found), the hosts must fetch directly instead, which
	// is checked then.
	release := c.P.Settings().Mirror + "/dists/" + c.P.Settings().Suite + "/Release"
	works := a.reaches(t, release)
	mirrorURL := c.P.Settings().Mirror + "/dists/" + c.P.Settings().Suite + "/InRelease"

	w.mustApply(t, w.in, "apply")
	for i := range 2 {
		c.MustExec(t, i, "dpkg-query -W jq libjq1")
		got := c.MustExec(t, i, steps.AptProxyDetect+" "+mirrorURL)
		want := cache + "/"
		if !works {
			want = "DIRECT"
		}
		if strings.TrimSpace(got) != want {
			t.Errorf("%s: the detect script says %q, want %q", c.Specs[i].Name, got, want)
		}
	}
	in, out := a.fetches(t, "jq_")
	if works {
		if len(in) != 1 || len(out) != 1 {
			t.Fatalf("apt-cacher-ng logged jq fetches from the mirror %v and to hosts %v: want one file each", in, out)
		}
		for name, n := range in {
			if n != 1 || out[name] != 2 {
				t.Errorf("%s: fetched from the mirror %d times (want 1), sent to hosts %d times (want 2)", name, n, out[name])
			}
		}
	} else {
		t.Logf("apt-cacher-ng cannot fetch %s on this machine: checked that the hosts went direct (one fetch per package not shown)", release)
		if len(out) != 0 {
			t.Errorf("apt-cacher-ng that cannot reach the mirror sent hosts %v", out)
		}
	}
	w.noChanges(t, w.in)

	// The cache goes away: apt falls back to the mirror, the install works.
	a.stop()
	start := time.Now()
	w.mustApply(t, w.with(`packages=["jq","tree"]`), "apply")
	t.Logf("install with the cache down: %s", time.Since(start).Round(time.Millisecond))
	for i := range 2 {
		c.MustExec(t, i, "dpkg-query -W tree")
		if got := c.MustExec(t, i, steps.AptProxyDetect+" "+mirrorURL); strings.TrimSpace(got) != "DIRECT" {
			t.Errorf("%s: with the cache down the detect script says %q, want DIRECT", c.Specs[i].Name, got)
		}
	}

	w.mustApply(t, w.with(`packages=["jq","tree"]`), "destroy")
	for i := range 2 {
		if got := c.MustExec(t, i, "ls "+steps.AptProxyConf+" "+steps.AptProxyDetect+" 2>&1 || true"); !strings.Contains(got, "No such file") || strings.Count(got, "No such file") != 2 {
			t.Errorf("%s: after destroy: %s", c.Specs[i].Name, got)
		}
	}
}
