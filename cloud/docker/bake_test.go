package docker

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/internal/ctypath"
)

// TestPackagesSetting: only Debian package names get through, each
// mistake reported at its list element, and DecodeSettings (New's path)
// refuses the same values.
func TestPackagesSetting(t *testing.T) {
	good := []string{"jq", "glusterfs-server", "libstdc++6", "g++", "python3.11", "0ad", strings.Repeat("a", maxPackageName)}
	bad := []string{
		"a;rm -rf /", "$(x)", "`x`", "two words", "jq\nrm", "jq\n", " jq", "-jq", "--force", "+jq", ".jq",
		"JQ", "Jq", "", "j", strings.Repeat("a", maxPackageName+1), "jq=1.6", "jq/bookworm", "libc6:i386",
		"a'b", `a"b`, "a\\b", "a|b", "a&b", "a>b", "a*", "ä",
	}
	list := func(names ...string) cty.Value {
		vals := make([]cty.Value, len(names))
		for i, n := range names {
			vals[i] = cty.StringVal(n)
		}
		return cty.ObjectVal(map[string]cty.Value{"packages": cty.ListVal(vals)})
	}
	check := func(v cty.Value) []string {
		var at []string
		for _, p := range (Factory{}).CheckSettings(v, "", cloud.GroupNeed{}) {
			at = append(at, ctypath.String(p.Path))
		}
		return at
	}
	if at := check(list(good...)); len(at) != 0 {
		t.Errorf("good names %q: problems at %v", good, at)
	}
	s, err := DecodeSettings(list(good...), HostApt{}, "/ws")
	if err != nil || strings.Join(s.Packages, " ") != strings.Join(good, " ") {
		t.Errorf("DecodeSettings(good) = %q, %v", s.Packages, err)
	}
	for _, n := range bad {
		if err := checkPackageName(n); err == nil {
			t.Errorf("checkPackageName(%q) accepted it", n)
		}
		at := check(list("jq", n))
		if strings.Join(at, ",") != "packages[1]" {
			t.Errorf("packages = [\"jq\", %q]: problems at %v, want packages[1]", n, at)
		}
		if _, err := DecodeSettings(list("jq", n), HostApt{}, "/ws"); err == nil {
			t.Errorf("DecodeSettings accepted package %q", n)
		}
	}
	// An error message quotes a long name only in part.
	if err := checkPackageName(strings.Repeat("a", 5000)); err == nil || len(err.Error()) > 200 {
		t.Errorf("a 5000-character name: %v", err)
	}
	// Not a list of strings.
	if at := check(cty.ObjectVal(map[string]cty.Value{"packages": cty.StringVal("jq")})); len(at) != 1 || at[0] != "packages" {
		t.Errorf("packages = \"jq\": problems at %v", at)
	}
	// Unset and empty: no derived image.
	for _, v := range []cty.Value{decodeHCL(t, ``), decodeHCL(t, `packages = []`)} {
		if s, err := DecodeSettings(v, HostApt{}, "/ws"); err != nil || len(s.Packages) != 0 {
			t.Errorf("%#v: packages %q, %v", v, s.Packages, err)
		}
	}
}

// TestBakeInputs: the derived image's digest ignores the order and
// repetition of packages and changes with every input.
func TestBakeInputs(t *testing.T) {
	s := Settings{Suite: "bookworm", Mirror: "http://deb.example/debian", SecurityMirror: "http://deb.example/debian-security",
		Packages: []string{"jq", "glusterfs-server", "xfsprogs"}}
	base := bakeInputs("sha256:aaa", s)
	same := s
	same.Packages = []string{"xfsprogs", "jq", "glusterfs-server", "jq"}
	// Settings that do not change what is installed leave it alone.
	same.PackageCache, same.ExtraHosts, same.Memory, same.Build = "off", []string{"deb.debian.org:1.2.3.4"}, 1<<30, BuildDockerfile
	if got := bakeInputs("sha256:aaa", same); got != base {
		t.Errorf("reordered packages, other cache: digest %s, want %s", got, base)
	}
	if s.Packages[0] != "jq" {
		t.Errorf("bakeInputs sorted the caller's list: %q", s.Packages)
	}
	changes := map[string]func(*Settings) string{
		"base image": func(*Settings) string { return "sha256:bbb" },
		"a package":  func(c *Settings) string { c.Packages = []string{"jq", "glusterfs-server"}; return "" },
		"another": func(c *Settings) string {
			c.Packages = []string{"jq", "glusterfs-server", "xfsprogs", "tree"}
			return ""
		},
		"suite":    func(c *Settings) string { c.Suite = "trixie"; return "" },
		"mirror":   func(c *Settings) string { c.Mirror = "http://other.example/debian"; return "" },
		"security": func(c *Settings) string { c.SecurityMirror = "none"; return "" },
	}
	seen := map[string]string{base: "unchanged"}
	for what, change := range changes {
		c := s
		id := "sha256:aaa"
		if b := change(&c); b != "" {
			id = b
		}
		got := bakeInputs(id, c)
		if prev, ok := seen[got]; ok {
			t.Errorf("changing the %s gives the digest of %s", what, prev)
		}
		seen[got] = what
	}
	tag := bakedTag("bookworm", base)
	if tag != ImageRepo+":bookworm-pkgs-"+base[:12] || !validImageRef(tag) {
		t.Errorf("bakedTag = %q", tag)
	}
}

// validImageRef: repository:tag with the characters a tag allows.
func validImageRef(ref string) bool {
	repo, tag, ok := strings.Cut(ref, ":")
	if !ok || repo == "" || len(tag) > 128 {
		return false
	}
	return validName(tag)
}

// TestBakeDockerfile: the derived build runs bake.sh in exec form (no
// shell reads the names), FROM the base image's ID, on the host's network.
func TestBakeDockerfile(t *testing.T) {
	df, err := bakeDockerfile("sha256:0123abcd", "http://127.0.0.1:3142/", []string{"glusterfs-server", "jq"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(df), "\n")
	if len(lines) != 3 || lines[0] != "FROM sha256:0123abcd" || lines[1] != "COPY bake.sh /diffuser-bake.sh" || !strings.HasPrefix(lines[2], "RUN [") {
		t.Fatalf("Dockerfile:\n%s", df)
	}
	var argv []string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[2], "RUN ")), &argv); err != nil {
		t.Fatalf("RUN is not exec form: %v\n%s", err, df)
	}
	want := []string{"/bin/sh", "/diffuser-bake.sh", "http://127.0.0.1:3142/", "--", "glusterfs-server", "jq"}
	if strings.Join(argv, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("RUN %q, want %q", argv, want)
	}
	df, err = bakeDockerfile("sha256:0123abcd", "", []string{"jq"})
	if err != nil || !strings.Contains(df, `"/diffuser-bake.sh","-","--","jq"]`) {
		t.Errorf("without a cache: %v\n%s", err, df)
	}
	// Defence in depth: what the settings check refuses never gets here,
	// and would be refused here too.
	for _, bad := range [][]string{{"jq", "a;rm -rf /"}, {"$(x)"}, {"-o"}, {""}} {
		if df, err := bakeDockerfile("sha256:0", "", bad); err == nil {
			t.Errorf("bakeDockerfile(%q) =\n%s", bad, df)
		}
	}
	if _, err := bakeDockerfile("sha256:0", "http://x;y/", []string{"jq"}); err == nil {
		t.Error("bakeDockerfile accepted a proxy URL with ';'")
	}

	ctx, err := bakeContext(df)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(ctx))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	if files["Dockerfile"] != df || files["bake.sh"] != string(bakeScript) || len(files) != 2 {
		t.Errorf("build context files %v", files)
	}
	for _, must := range []string{"policy-rc.d", "exit 101", "--no-install-recommends", `"$@"`, ": >/etc/machine-id", "rm -rf /var/lib/apt/lists/*"} {
		if !strings.Contains(string(bakeScript), must) {
			t.Errorf("bake.sh lacks %q", must)
		}
	}

	s := Settings{ExtraHosts: []string{"deb.debian.org:1.2.3.4"}}
	o := bakeBuildOptions(s, "diffuser-node:bookworm-pkgs-0123456789ab", "0123456789abcdef", []string{"glusterfs-server", "jq"})
	if o.NetworkMode != "host" || len(o.Tags) != 1 || o.Tags[0] != "diffuser-node:bookworm-pkgs-0123456789ab" ||
		strings.Join(o.ExtraHosts, ",") != "deb.debian.org:1.2.3.4" || !o.Remove || !o.ForceRemove ||
		o.Labels[labelImageBuild] != BuildPackages || o.Labels[labelImagePackages] != "glusterfs-server,jq" ||
		o.Labels[labelImageInputs] != "0123456789abcdef" {
		t.Errorf("build options %+v", o)
	}
}

// TestBakeProxy: "off" means none, a URL is used as checked.
func TestBakeProxy(t *testing.T) {
	for cache, want := range map[string]string{
		"off":                   "",
		"":                      "",
		"http://10.0.0.5:3142":  "http://10.0.0.5:3142/",
		"http://cache.lab":      "http://cache.lab:3142/",
		"http://bad host:3142/": "",
	} {
		if got := bakeProxy(t.Context(), Settings{PackageCache: cache}); got != want {
			t.Errorf("bakeProxy(%q) = %q, want %q", cache, got, want)
		}
	}
}
