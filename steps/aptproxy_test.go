package steps_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/steps"
	"diffuser/steps/steptest"
)

func packageArgs(names ...string) cty.Value {
	vals := make([]cty.Value, len(names))
	for i, n := range names {
		vals[i] = cty.StringVal(n)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"names": cty.ListVal(vals), "state": cty.StringVal("present"), "update_cache": cty.False,
	})
}

// aptHost is a fake apt host missing xfsprogs, with fresh lists.
func aptHost(extra ...steptest.Fact) *steptest.Runner {
	facts := append(extra,
		steptest.Fact{Match: "for m in apt-get", Stdout: "apt-get\n"},
		steptest.Fact{Match: "dpkg-query", Exit: 1},
		steptest.Fact{Match: "find /var/lib/apt/lists", Stdout: "/var/lib/apt/lists/x_Packages\n"},
	)
	return steptest.New(facts...)
}

func TestPackageWritesAptProxyBeforeInstalling(t *testing.T) {
	r := aptHost()
	ctx := steps.WithAptProxy(context.Background(), "http://172.18.0.1:3142/")
	if _, err := (steps.PackageKind{}).Apply(ctx, r, packageArgs("xfsprogs")); err != nil {
		t.Fatal(err)
	}
	ups := r.Uploads()
	if len(ups) != 2 || ups[0].Path != steps.AptProxyDetect || ups[1].Path != steps.AptProxyConf {
		t.Fatalf("uploads = %+v, want the detect script then the apt.conf file", ups)
	}
	conf, detect := steps.AptProxyFiles(cloud.AptProxy{Host: "172.18.0.1", Port: 3142})
	if ups[0].Content != detect || ups[0].Mode != 0o755 || ups[1].Content != conf || ups[1].Mode != 0o644 {
		t.Errorf("uploaded\n%s (%o)\n%s (%o)\nwant\n%s\n%s", ups[0].Content, ups[0].Mode, ups[1].Content, ups[1].Mode, detect, conf)
	}
	if !strings.Contains(conf, `Acquire::http::Proxy-Auto-Detect "`+steps.AptProxyDetect+`";`) {
		t.Errorf("conf does not name the detect script:\n%s", conf)
	}
	// The files go in before anything apt-get fetches.
	cmds := r.Commands()
	install := -1
	for i, c := range cmds {
		if strings.Contains(c, "apt-get") && strings.Contains(c, " install ") {
			install = i
		}
	}
	read := -1
	for i, c := range cmds {
		if strings.HasPrefix(c, "cat "+steps.AptProxyDetect) {
			read = i
		}
	}
	if install < 0 || read < 0 || read > install {
		t.Errorf("commands %q: want the proxy files read before apt-get install", cmds)
	}
}

func TestPackageLeavesMatchingAptProxyAlone(t *testing.T) {
	conf, detect := steps.AptProxyFiles(cloud.AptProxy{Host: "cache.lab", Port: 8080})
	r := aptHost(steptest.Fact{Match: "cat " + steps.AptProxyDetect, Stdout: detect + "#--diffuser--\n" + conf})
	ctx := steps.WithAptProxy(context.Background(), "http://cache.lab:8080")
	if _, err := (steps.PackageKind{}).Apply(ctx, r, packageArgs("xfsprogs")); err != nil {
		t.Fatal(err)
	}
	if ups := r.Uploads(); len(ups) != 0 {
		t.Errorf("uploads %+v: the files already said so", ups)
	}
}

func TestPackageWithoutCacheTouchesNoProxyFile(t *testing.T) {
	r := aptHost()
	if _, err := (steps.PackageKind{}).Apply(context.Background(), r, packageArgs("xfsprogs")); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Commands() {
		if strings.Contains(c, "diffuser-package-cache") {
			t.Errorf("command %q without a package cache", c)
		}
	}
	if ups := r.Uploads(); len(ups) != 0 {
		t.Errorf("uploads %+v without a package cache", ups)
	}
}

func TestPackageRefusesBadRecordedProxy(t *testing.T) {
	for _, bad := range []string{"http://x;reboot", "http://$(id):3142", "https://x", "http://x:3142/'"} {
		r := aptHost()
		ctx := steps.WithAptProxy(context.Background(), bad)
		_, err := (steps.PackageKind{}).Apply(ctx, r, packageArgs("xfsprogs"))
		if err == nil || !strings.Contains(err.Error(), "apt_proxy") {
			t.Errorf("apt_proxy %q: err = %v, want a refusal naming apt_proxy", bad, err)
		}
		for _, c := range r.Commands() {
			if strings.Contains(c, "apt-get") && strings.Contains(c, "install") {
				t.Errorf("apt_proxy %q: installed anyway: %q", bad, c)
			}
		}
	}
}

// fakeCache answers every request with status (0: reads it and never
// answers) and records the request lines.
func fakeCache(t *testing.T, status int) (port int, requests func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var lines []string
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				mu.Lock()
				lines = append(lines, strings.TrimSpace(line))
				mu.Unlock()
				if status == 0 {
					time.Sleep(8 * time.Second)
					return
				}
				fmt.Fprintf(c, "HTTP/1.0 %d X\r\n\r\n", status)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

// TestAptProxyDetectScript runs the detect script with /bin/sh against a
// fake cache: it names the cache when the cache answers the HEAD of apt's
// URL below 500, and says DIRECT when it answers 5xx (apt-cacher-ng that
// cannot reach the mirror), does not answer, or is gone. apt's URL is
// data: a hostile one reaches the cache as one request line, never the
// shell.
func TestAptProxyDetectScript(t *testing.T) {
	for _, tool := range []string{"bash", "timeout", "tr", "head"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	run := func(port int, url string) string {
		_, detect := steps.AptProxyFiles(cloud.AptProxy{Host: "127.0.0.1", Port: port})
		script := filepath.Join(t.TempDir(), "detect")
		if err := os.WriteFile(script, []byte(detect), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(script, url).Output()
		if err != nil {
			t.Fatalf("detect script: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	const apt = "http://deb.debian.org/debian/dists/bookworm/InRelease"
	for _, c := range []struct {
		status int
		direct bool
	}{{200, false}, {304, false}, {403, false}, {404, false}, {503, true}, {502, true}} {
		port, reqs := fakeCache(t, c.status)
		want := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		if c.direct {
			want = "DIRECT"
		}
		if got := run(port, apt); got != want {
			t.Errorf("cache answering %d: %q, want %q", c.status, got, want)
		}
		if r := reqs(); len(r) != 1 || r[0] != "HEAD "+apt+" HTTP/1.0" {
			t.Errorf("cache answering %d got requests %q", c.status, r)
		}
	}
	port, reqs := fakeCache(t, 200)
	hostile := "http://x/$(touch /tmp/diffuser-pwned);`id`\r\nX-Evil: 1"
	if got := run(port, hostile); got == "DIRECT" {
		t.Errorf("hostile URL: %q", got)
	}
	if r := reqs(); len(r) != 1 || r[0] != "HEAD http://x/$(touch /tmp/diffuser-pwned);`id`X-Evil: 1 HTTP/1.0" {
		t.Errorf("hostile URL reached the cache as %q", r)
	}
	if _, err := os.Stat("/tmp/diffuser-pwned"); err == nil {
		t.Error("the URL ran as shell code")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if got := run(gone, apt); got != "DIRECT" {
		t.Errorf("cache gone: %q, want DIRECT", got)
	}
	if !testing.Short() {
		port, _ := fakeCache(t, 0)
		start := time.Now()
		if got := run(port, apt); got != "DIRECT" {
			t.Errorf("cache silent: %q, want DIRECT", got)
		}
		if d := time.Since(start); d > 7*time.Second {
			t.Errorf("a silent cache held apt for %s, want at most about 5 s", d)
		}
	}
}

// updatingArgs is packageArgs with update_cache on.
func updatingArgs(names ...string) cty.Value {
	m := packageArgs(names...).AsValueMap()
	m["update_cache"] = cty.True
	return cty.ObjectVal(m)
}

// A package cache that fails (or stalls past the bound) during apt-get
// update costs a second, direct update, never the install; the cached
// attempt runs bounded.
func TestAptThroughFailingCacheRetriesDirect(t *testing.T) {
	r := aptHost(
		steptest.Fact{Match: "apt-get -q -o DPkg::Lock::Timeout=120 update", Exit: 100, Times: 1,
			Stderr: "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  503  Service Unavailable"},
	)
	ctx := steps.WithAptProxy(context.Background(), "http://172.18.0.1:3142/")
	if _, err := (steps.PackageKind{}).Apply(ctx, r, updatingArgs("xfsprogs")); err != nil {
		t.Fatalf("install through a failing cache: %v", err)
	}
	var updates []steptest.Call
	for _, c := range r.Calls() {
		if strings.Contains(c.Cmd, " update") {
			updates = append(updates, c)
		}
	}
	if len(updates) != 2 {
		t.Fatalf("updates = %+v, want the cached one then a direct one", updates)
	}
	if updates[0].Timeout <= 0 || strings.Contains(updates[0].Cmd, "Proxy-Auto-Detect=") {
		t.Errorf("first update %+v: want bounded and through the cache", updates[0])
	}
	if !strings.Contains(updates[1].Cmd, "-o Acquire::http::Proxy-Auto-Detect= ") {
		t.Errorf("second update %q does not turn the cache off", updates[1].Cmd)
	}
	for _, c := range r.Commands() {
		if strings.Contains(c, " install ") && strings.Contains(c, "Proxy-Auto-Detect=") {
			t.Errorf("install %q went direct although only the update failed", c)
		}
	}
}

// Unknown packages are not the cache's fault: no direct retry, and the
// error names the package manager's words.
func TestAptUnknownPackageNoDirectRetry(t *testing.T) {
	r := aptHost(
		steptest.Fact{Match: "DEBIAN_FRONTEND=noninteractive apt-get", Exit: 100, Stderr: "E: Unable to locate package nosuch"},
	)
	ctx := steps.WithAptProxy(context.Background(), "http://172.18.0.1:3142/")
	_, err := (steps.PackageKind{}).Apply(ctx, r, updatingArgs("nosuch"))
	if err == nil || !strings.Contains(err.Error(), "Unable to locate package") {
		t.Fatalf("err = %v, want the apt error", err)
	}
	for _, c := range r.Commands() {
		if strings.Contains(c, "Proxy-Auto-Detect=") {
			t.Errorf("%q: a direct retry for an unknown package", c)
		}
	}
}

// Without a package cache nothing is retried and nothing is bounded by it.
func TestAptWithoutCacheNoRetry(t *testing.T) {
	r := aptHost(
		steptest.Fact{Match: "apt-get -q -o DPkg::Lock::Timeout=120 update", Exit: 100, Stderr: "E: Failed to fetch"},
	)
	if _, err := (steps.PackageKind{}).Apply(context.Background(), r, updatingArgs("xfsprogs")); err == nil {
		t.Fatal("a failed update without a cache succeeded")
	}
	n := 0
	for _, c := range r.Calls() {
		if strings.Contains(c.Cmd, " update") {
			n++
			if c.Timeout != 0 || strings.Contains(c.Cmd, "Proxy-Auto-Detect=") {
				t.Errorf("update %+v: bounded or direct without a cache", c)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
}

// apt-get update exits 0 when an index could not be fetched through the
// cache ("W: Failed to fetch …", as apt 2.6 does with an unreachable
// proxy): that too is retried directly.
func TestAptUpdateWarningThroughCacheRetriesDirect(t *testing.T) {
	r := aptHost(
		steptest.Fact{Match: "apt-get -q -o DPkg::Lock::Timeout=120 update", Times: 1,
			Stderr: "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Unable to connect to 172.18.0.1:3142:\nW: Some index files failed to download."},
	)
	ctx := steps.WithAptProxy(context.Background(), "http://172.18.0.1:3142/")
	if _, err := (steps.PackageKind{}).Apply(ctx, r, updatingArgs("xfsprogs")); err != nil {
		t.Fatal(err)
	}
	direct := 0
	for _, c := range r.Commands() {
		if strings.Contains(c, " update") && strings.Contains(c, "-o Acquire::http::Proxy-Auto-Detect= ") {
			direct++
		}
	}
	if direct != 1 {
		t.Errorf("%d direct updates, want 1:\n%s", direct, strings.Join(r.Commands(), "\n"))
	}
}

// Fresh lists that do not know a dependency (a repository's refresh made
// only its own lists; the distribution's were never fetched): the install
// fails with "Depends: … but it is not installable", and the lists are
// updated and the install run once more.
func TestAptDependencyNotInstallableUpdatesAndRetries(t *testing.T) {
	r := aptHost(
		steptest.Fact{Match: "DEBIAN_FRONTEND=noninteractive apt-get", Exit: 100, Times: 1,
			Stdout: "The following packages have unmet dependencies:\n hello : Depends: tree but it is not installable\n",
			Stderr: "E: Unable to correct problems, you have held broken packages."},
	)
	if _, err := (steps.PackageKind{}).Apply(context.Background(), r, packageArgs("hello")); err != nil {
		t.Fatalf("apply: %v", err)
	}
	var seq []string
	for _, c := range r.Commands() {
		switch {
		case strings.Contains(c, " update"):
			seq = append(seq, "update")
		case strings.Contains(c, " install "):
			seq = append(seq, "install")
		}
	}
	if strings.Join(seq, ",") != "install,update,install" {
		t.Errorf("apt runs %v, want install, update, install", seq)
	}
}
