package steps_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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

// TestAptProxyDetectScript runs the detect script with /bin/sh: it names
// the cache while something listens there and says DIRECT once it is gone.
func TestAptProxyDetectScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("no timeout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	p := cloud.AptProxy{Host: "127.0.0.1", Port: port}
	_, detect := steps.AptProxyFiles(p)
	script := filepath.Join(t.TempDir(), "detect")
	if err := os.WriteFile(script, []byte(detect), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		out, err := exec.Command(script, "http://deb.debian.org/debian").Output()
		if err != nil {
			t.Fatalf("detect script: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if got, want := run(), "http://127.0.0.1:"+strconv.Itoa(port)+"/"; got != want {
		t.Errorf("with the cache listening: %q, want %q", got, want)
	}
	ln.Close()
	if got := run(); got != "DIRECT" {
		t.Errorf("with the cache gone: %q, want DIRECT", got)
	}
}
