package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// repoKey looks like an ASCII-armored public key to builtin/package-repo's
// validation (the sim never reads it).
const repoKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEZ1l0ARYJKwYBBAHaRw8BAQdAexample+key/material=
=abcd
-----END PGP PUBLIC KEY BLOCK-----
`

// packageRepoRecipe calls builtin/package-repo on a Debian server and a
// client whose facts say which family it is; var.key is the key text.
const packageRepoRecipe = `
recipe "t" {}
variable "key" { type = string }
variable "name" { default = "gluster" }
variable "uri" { default = "https://download.gluster.org/pub/gluster/glusterfs/11/LATEST/Debian/bookworm/amd64/apt" }
hosts "server" {}
hosts "client" {}

module "repo" {
  source     = "builtin/package-repo"
  hosts      = concat(hosts.server, hosts.client)
  name       = var.name
  uris       = [var.uri]
  suites     = ["bookworm"]
  components = ["main"]
  key        = var.key
}

step "packages" {
  on      = hosts.server
  after   = [module.repo]
  package = ["glusterfs-server"]
}
`

// TestPackageRepoModule: builtin/package-repo on a Debian host writes the
// key and a deb822 source that names it, then updates that source alone;
// on a host whose facts (facts/testdata/rocky9.txt) are of the RHEL
// family it writes a .repo file with gpgcheck and the key under
// /etc/pki/rpm-gpg and runs makecache of that repository only. A changed
// key re-runs the refresh (restart_on on a run step) on every host;
// nothing changed, nothing runs.
func TestPackageRepoModule(t *testing.T) {
	rocky, err := os.ReadFile("../facts/testdata/rocky9.txt")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, packageRepoRecipe)
	w.kinds = simKinds
	w.extra = map[string]string{} // loads with the built-in modules and simKinds
	w.cloud.SetFacts("client[0]", string(rocky))
	w.vars = []string{"key=" + repoKey}
	applyOK(t, w, w.plan())

	args := map[string]string{}
	for addr, inst := range w.st.Steps {
		args[addr] = string(inst.Args)
	}
	for addr, want := range map[string][]string{
		`module.repo.step.key["server[0]"]`:    {`"path": "/etc/apt/keyrings/diffuser-gluster.asc"`},
		`module.repo.step.source["server[0]"]`: {`Types: deb\nURIs: https://download.gluster.org/pub/gluster/glusterfs/11/LATEST/Debian/bookworm/amd64/apt\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/diffuser-gluster.asc\n`},
		`module.repo.step.source["client[0]"]`: {`[diffuser-gluster]\nname=diffuser-gluster\nbaseurl=https://download.gluster.org/`, `gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/diffuser-gluster\n`},
		`module.repo.step.key["client[0]"]`:    {`"mode": "0644"`, `"path": "/etc/pki/rpm-gpg/diffuser-gluster"`, `-----BEGIN PGP PUBLIC KEY BLOCK-----`},
		`module.repo.step.refresh["server[0]"]`: {
			`only=\"-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/diffuser-gluster.sources -o Dir::Etc::sourceparts=-\"`,
			"apt-get -q --error-on=any $only -o APT::Get::List-Cleanup=0 update"},
		`module.repo.step.refresh["client[0]"]`: {`makecache --disablerepo='*' --enablerepo=diffuser-gluster`},
	} {
		for _, s := range want {
			if !strings.Contains(args[addr], s) {
				t.Errorf("%s: arguments %s lack %q", addr, args[addr], s)
			}
		}
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after apply:\n%s", s)
	}

	w.vars = []string{"key=" + strings.Replace(repoKey, "example", "another", 1)}
	want := `~ module.repo.step.key["server[0]"] (inputs changed)
~ module.repo.step.key["client[0]"] (inputs changed)
~ module.repo.step.refresh["server[0]"] (restart because module.repo.step.key["server[0]"] will change)
~ module.repo.step.refresh["client[0]"] (restart because module.repo.step.key["client[0]"] will change)
`
	p := w.plan()
	if got := summary(p); got != want {
		t.Fatalf("plan of a new key:\n%s\nwant:\n%s", got, want)
	}
	res := applyOK(t, w, p)
	for _, h := range []string{"server[0]", "client[0]"} {
		if st := spanStatus(res)[`module.repo.step.refresh["`+h+`"]`]; st != "restarted" {
			t.Errorf("refresh on %s: %q after its key changed, want restarted (run again)", h, st)
		}
	}
	if s := summary(w.plan()); s != "" {
		t.Fatalf("plan after the new key:\n%s", s)
	}
}

// TestPackageRepoModuleRefusesBadInputs: a name that is not a file-name
// token, a URI of another scheme or with a space, a key that is not an
// armored public key (a private key, a fingerprint), suites and
// no suites or URIs, components with a flat suite ("./"): each an error
// at the call, saying what is allowed.
func TestPackageRepoModuleRefusesBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars []string
		src  func(string) string
		want string
	}{
		{"name with a slash", []string{"name=../etc"}, nil, `module.repo input name is "../etc"`},
		{"name with a space", []string{"name=a b"}, nil, "[a-z0-9][a-z0-9_-]{0,62}"},
		{"ftp URI", []string{"uri=ftp://example.org/debian"}, nil, "(https?://"},
		{"URI with a newline", []string{"uri=https://example.org/x\nSigned-By: /tmp/k"}, nil, "(https?://"},
		{"not a key", []string{"key=ABCD1234ABCD1234"}, nil, "key is the text of an ASCII-armored OpenPGP public key"},
		{"a private key", []string{"key=" + strings.ReplaceAll(repoKey, "PUBLIC", "PRIVATE")}, nil, "key is the text of an ASCII-armored OpenPGP public key"},
		{"a public and a private key", []string{"key=" + repoKey + strings.ReplaceAll(repoKey, "PUBLIC", "PRIVATE")}, nil, "key is the text of an ASCII-armored OpenPGP public key"},
		{"a binary key", []string{"key=-----BEGIN PGP PUBLIC KEY BLOCK-----\n\u0099\x01\n-----END PGP PUBLIC KEY BLOCK-----"}, nil, "key is the text of an ASCII-armored OpenPGP public key"},
		// Bytes that are not UTF-8 are refused by -var itself.
		{"a key of raw bytes", []string{"key=-----BEGIN PGP PUBLIC KEY BLOCK-----\n\x99\x01\n-----END PGP PUBLIC KEY BLOCK-----"}, nil, "The value of -var key is not UTF-8 text"},
		{"no end line", []string{"key=-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ1l0\n"}, nil, "key is the text of an ASCII-armored OpenPGP public key"},
		{"no suites", nil, func(s string) string { return strings.Replace(s, `suites     = ["bookworm"]`, `suites = []`, 1) }, "suites lists at least one suite"},
		{"no URI", nil, func(s string) string { return strings.Replace(s, `uris       = [var.uri]`, `uris = []`, 1) }, "uris lists at least one URI"},
		{"a flat suite with components", nil, func(s string) string { return strings.Replace(s, `suites     = ["bookworm"]`, `suites = ["./"]`, 1) },
			"components is [] with a flat repository"},
	} {
		src := packageRepoRecipe
		if tc.src != nil {
			src = tc.src(src)
		}
		vars := append([]string{"key=" + repoKey}, tc.vars...)
		_, diags := load(t, src, vars...)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, diags, tc.want)
		}
	}
	flat := strings.Replace(strings.Replace(packageRepoRecipe, `suites     = ["bookworm"]`, `suites = ["./"]`, 1), `components = ["main"]`, `components = []`, 1)
	if _, diags := load(t, flat, "key="+repoKey); diags.HasErrors() {
		t.Errorf("a flat repository: %v", diags)
	}
}

// TestGlusterfsPackageRepository: the glusterfs recipe's
// package_repository (null by default: no instances of
// module.package_repository) puts the repository on every server and
// client, and their package steps run after it on each host.
func TestGlusterfsPackageRepository(t *testing.T) {
	plan := func(varFiles ...string) (*engine.Plan, *state.State, *state.Store) {
		return planBuiltin(t, "glusterfs", lang.Inputs{VarFiles: varFiles})
	}
	repoChanges := func(p *engine.Plan) []string {
		var out []string
		for _, c := range p.Changes {
			if strings.HasPrefix(c.Addr, "module.package_repository.") {
				out = append(out, c.Addr)
			}
		}
		return out
	}
	if p, _, _ := plan(); len(repoChanges(p)) != 0 {
		t.Errorf("without package_repository: %v", repoChanges(p))
	}

	vf := filepath.Join(t.TempDir(), "gluster11.hcl")
	src := `package_repository = {
  name       = "gluster-11"
  uris       = ["https://download.gluster.org/pub/gluster/glusterfs/11/LATEST/Debian/bookworm/amd64/apt"]
  suites     = ["bookworm"]
  components = ["main"]
  architectures = ["amd64"]
  key        = <<-EOT
` + repoKey + `  EOT
}
`
	if err := os.WriteFile(vf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, st, store := plan(vf)
	got := repoChanges(p)
	if len(got) != 9 {
		t.Fatalf("with package_repository: %v, want key, source and refresh on server[0], server[1] and client[0]", got)
	}
	c := sim.New()
	prov, _ := c.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	res := p.Apply(context.Background(), st, engine.ApplyOptions{Provider: prov, Cluster: "t", Connector: c.Connector(),
		Recorder: recorder{store}, LogDir: t.TempDir()})
	if len(res.Failures) > 0 {
		t.Fatalf("apply failed: %v", res.Failures[0].Err)
	}
	spans := map[string]engine.Span{}
	for _, s := range res.Spans {
		spans[s.Addr] = s
	}
	for pkgs, host := range map[string]string{`step.packages["server[1]"]`: "server[1]", `step.client_packages["client[0]"]`: "client[0]"} {
		refresh, ok := spans[`module.package_repository.step.refresh["`+host+`"]`]
		if !ok || spans[pkgs].Start.Before(refresh.End) {
			t.Errorf("%s started at %v, before the repository's refresh on %s ended (%v, ran: %v)", pkgs, spans[pkgs].Start, host, refresh.End, ok)
		}
	}
	if a := st.Steps[`module.package_repository.step.source["client[0]"]`]; a == nil || !strings.Contains(string(a.Args), "/etc/apt/sources.list.d/diffuser-gluster-11.sources") ||
		!strings.Contains(string(a.Args), `Components: main\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/diffuser-gluster-11.asc\n`) {
		t.Errorf("the client's source: %+v", a)
	}
}
