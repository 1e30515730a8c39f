package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestReadHostApt(t *testing.T) {
	for _, tc := range []struct {
		root string
		want HostApt
	}{
		// This machine's own layout (deb822, snapshot comments, -updates).
		{"testdata/apt/deb822", HostApt{"http://deb.debian.org/debian", "http://deb.debian.org/debian-security", "bookworm"}},
		// One-line format with options and a trailing slash; deb-src and comments ignored.
		{"testdata/apt/oneline", HostApt{"http://mirror.example/debian", "http://security.example/debian-security", "trixie"}},
		{"testdata/apt/empty", HostApt{defaultMirror, defaultSecurityMirror, defaultSuite}},
	} {
		got, err := ReadHostApt(tc.root)
		if err != nil || got != tc.want {
			t.Errorf("ReadHostApt(%s) = %+v, %v; want %+v", tc.root, got, err, tc.want)
		}
	}
}

// decodeHCL decodes a provider block body written in HCL with the Spec.
func decodeHCL(t *testing.T, src string) cty.Value {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	v, diags := hcldec.Decode(f.Body, Factory{}.Spec(), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return v
}

func TestDecodeSettings(t *testing.T) {
	apt := HostApt{"http://deb.example/debian/", "http://deb.example/debian-security", "bookworm"}

	got, err := DecodeSettings(decodeHCL(t, ""), apt, "/ws")
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Build: BuildAuto, BaseImage: "debian:bookworm", Mirror: "http://deb.example/debian",
		SecurityMirror: "http://deb.example/debian-security", Suite: "bookworm", VolumeDir: "/ws/volumes",
		PackageCache: "controller"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("empty block:\n got %+v\nwant %+v", got, want)
	}
	if got, err := DecodeSettings(cty.NilVal, apt, "/ws"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NilVal: %+v, %v", got, err)
	}

	got, err = DecodeSettings(decodeHCL(t, `
		image        = "my/node:1"
		extra_hosts  = ["deb.debian.org:203.0.113.80"]
		network_cidr = "10.77.0.0/24"
		memory       = "2g"
		cpus         = 1.5
		volume_dir   = "/srv/vols"
		mirror       = "http://other.example/debian"
		suite        = "trixie"
		build        = "debootstrap"
		package_cache = "http://10.9.8.7:3142"
	`), apt, "/ws")
	if err != nil {
		t.Fatal(err)
	}
	want = Settings{Image: "my/node:1", Build: BuildDebootstrap, BaseImage: "debian:trixie",
		Mirror: "http://other.example/debian", SecurityMirror: "http://deb.example/debian-security", Suite: "trixie",
		ExtraHosts: []string{"deb.debian.org:203.0.113.80"}, NetworkCIDR: "10.77.0.0/24",
		Memory: 2 << 30, CPUs: 1.5, VolumeDir: "/srv/vols", PackageCache: "http://10.9.8.7:3142"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("full block:\n got %+v\nwant %+v", got, want)
	}

	// A partial object (group overrides) is fine: missing attributes are unset.
	got, err = DecodeSettings(cty.ObjectVal(map[string]cty.Value{"memory": cty.StringVal("512m")}), apt, "/ws")
	if err != nil || got.Memory != 512<<20 {
		t.Errorf("partial object: %+v, %v", got, err)
	}

	for src, wantErr := range map[string]string{
		`extra_hosts = ["nocolon"]`:         `"nocolon" is not "name:ip"`,
		`extra_hosts = ["a:not-an-ip"]`:     "is not an IP address",
		`network_cidr = "10.1.2.3/16"`:      "host bits set",
		`network_cidr = "banana"`:           "network_cidr",
		`network_cidr = "10.1.2.0/30"`:      "/29 or larger",
		`network_cidr = "fd00::/64"`:        "IPv4 subnet",
		`memory = "lots"`:                   `memory = "lots"`,
		`cpus = -1`:                         "must not be negative",
		`build = "magic"`:                   "want auto, debootstrap or dockerfile",
		`mirror = "ftp://x"`:                "want an http(s) URL",
		`volume_dir = "relative/dir"`:       "absolute path",
		`suite = "bookworm main"`:           "Debian release name",
		`security_mirror = "deb.example/x"`: "security_mirror",
		`package_cache = "first"`:           `want "off", "controller" or an http URL`,
		`package_cache = "https://c:3142"`:  "want an http:// URL",
		`package_cache = "http://c;id"`:     "neither an IP address nor a host name",
		`package_cache = "http://u@c:3142"`: "without user",
	} {
		_, err := DecodeSettings(decodeHCL(t, src), apt, "/ws")
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want one containing %q", src, err, wantErr)
		}
	}
	for name, spec := range (Factory{}).Spec() {
		if a, ok := spec.(*hcldec.AttrSpec); !ok || a.Required {
			t.Errorf("setting %s must be an optional attribute", name)
		}
	}
}

func TestImageInputs(t *testing.T) {
	s, err := DecodeSettings(cty.NilVal, HostApt{}, "/ws")
	if err != nil {
		t.Fatal(err)
	}
	a, err := imageInputs(s, BuildDebootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := imageInputs(s, BuildDebootstrap); a != b || len(a) != 64 {
		t.Fatalf("inputs hash not stable: %s vs %s", a, b)
	}
	changed := func(name string, mod func(*Settings), method string) {
		s2 := s
		mod(&s2)
		b, _ := imageInputs(s2, method)
		if a == b {
			t.Errorf("changing %s does not change the image tag", name)
		}
	}
	changed("mirror", func(s *Settings) { s.Mirror = "http://x.example/debian" }, BuildDebootstrap)
	changed("suite", func(s *Settings) { s.Suite = "trixie" }, BuildDebootstrap)
	changed("security mirror", func(s *Settings) { s.SecurityMirror = "none" }, BuildDebootstrap)
	changed("method", func(*Settings) {}, BuildDockerfile)
	// Host-level settings do not make a different image.
	s2 := s
	s2.Memory, s2.ExtraHosts, s2.VolumeDir = 1<<30, []string{"a:1.2.3.4"}, "/x"
	if b, _ := imageInputs(s2, BuildDebootstrap); a != b {
		t.Error("memory/extra_hosts/volume_dir must not change the image tag")
	}
}

func TestDockerfileContext(t *testing.T) {
	s, err := DecodeSettings(cty.ObjectVal(map[string]cty.Value{"mirror": cty.StringVal("http://m.example/debian")}), HostApt{}, "/ws")
	if err != nil {
		t.Fatal(err)
	}
	b, err := dockerfileContext(s)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*tar.Header{}
	bodies := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		files[h.Name], bodies[h.Name] = h, string(body)
	}
	for _, name := range []string{"Dockerfile", "setup.sh", "rootfs/etc/ssh/sshd_config.d/diffuser.conf",
		"rootfs/etc/systemd/system/ssh.service.d/diffuser-hostkeys.conf", "rootfs/usr/local/sbin/diffuser-ssh-hostkeys",
		"rootfs/etc/apt/sources.list.d/debian.sources", "rootfs/etc/", "rootfs/usr/local/sbin/"} {
		if files[name] == nil {
			t.Errorf("build context lacks %s", name)
		}
	}
	if h := files["rootfs/usr/local/sbin/diffuser-ssh-hostkeys"]; h != nil && h.Mode != 0o755 {
		t.Errorf("hostkeys script mode %o, want 755", h.Mode)
	}
	if !strings.Contains(bodies["rootfs/etc/apt/sources.list.d/debian.sources"], "URIs: http://m.example/debian\n") {
		t.Errorf("sources do not use the mirror:\n%s", bodies["rootfs/etc/apt/sources.list.d/debian.sources"])
	}
	df := bodies["Dockerfile"]
	for _, want := range []string{"FROM debian:bookworm\n", "openssh-server", "xfsprogs", `CMD ["/sbin/init"]`, "STOPSIGNAL SIGRTMIN+3"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, df)
		}
	}
}

func TestStripStreamHeaders(t *testing.T) {
	frame := func(stream byte, s string) []byte {
		return append([]byte{stream, 0, 0, 0, 0, 0, 0, byte(len(s))}, s...)
	}
	in := append(frame(1, "hello "), frame(2, "world")...)
	if got := stripStreamHeaders(in); got != "hello world" {
		t.Errorf("got %q", got)
	}
	if got := stripStreamHeaders([]byte("plain tty output")); got != "plain tty output" {
		t.Errorf("got %q", got)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/tmp/a\040b/proc`); got != "/tmp/a b/proc" {
		t.Errorf("got %q", got)
	}
}

func TestNames(t *testing.T) {
	e := &testEnv{cluster: "c1"}
	spec := e.spec("server", 2)
	if got := ContainerName(spec); got != "diffuser-c1-server-2" {
		t.Errorf("ContainerName = %s", got)
	}
	if got := NetworkName("c1"); got != "diffuser-c1" {
		t.Errorf("NetworkName = %s", got)
	}
	if err := checkSpec(spec); err != nil {
		t.Error(err)
	}
	bad := spec
	bad.Group = "bad group"
	if checkSpec(bad) == nil {
		t.Error("checkSpec accepted a group with a space")
	}
	if validName("-x") || validName("") || !validName("a_b.c-1") {
		t.Error("validName wrong")
	}
}
