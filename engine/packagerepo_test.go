package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"

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

// refreshStubs are the commands builtin/package-repo's Debian refresh runs,
// as scripts for a real sh: apt-get refuses `update` as apt 2.6 does while
// another process holds the lists' lock, for the number of tries written
// in the file locked (each try is counted in tries; "forever" never lets
// go), then updates; a key file holding "NO_PUBKEY" fails the update as a
// wrong key does. sleep and ps only log and answer.
var refreshStubs = map[string]string{
	"apt-get": `#!/bin/sh
case "$*" in
*" update")
  n=$(cat "$STUB/tries" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB/tries"
  held=$(cat "$STUB/locked")
  if [ "$held" = forever ] || [ "$n" -lt "$held" ]; then
    echo "Reading package lists..."
    echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (unattended-upgr)" >&2
    echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
    exit 100
  fi
  if grep -q NO_PUBKEY "$STUB/key" 2>/dev/null; then
    echo "W: GPG error: file:/srv/repo ./ InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 0123456789ABCDEF" >&2
    echo "E: The repository 'file:/srv/repo ./ InRelease' is not signed." >&2
    exit 100
  fi
  echo "Get:1 https://download.gluster.org/pub/gluster bookworm InRelease"
  echo "Reading package lists..." ;;
*indextargets*)
  echo /var/lib/apt/lists/download.gluster.org_bookworm_main_binary-amd64_Packages ;;
*) echo "unexpected apt-get $*" >&2; exit 1 ;;
esac
`,
	"sleep": "#!/bin/sh\necho \"$1\" >> \"$STUB/slept\"\n",
	"ps":    "#!/bin/sh\n[ \"$*\" = '-o args= -p 4242' ] && echo '/usr/bin/python3 /usr/bin/unattended-upgrade --download-only'\n",
}

// TestPackageRepoRefreshWaitsForAptLock: apt-get update exits 100 at once
// while another process (apt-daily or unattended-upgrades on a freshly
// booted machine, an administrator, another diffuser's package step)
// holds /var/lib/apt/lists/lock. The Debian refresh command of
// builtin/package-repo, as the engine renders it, run with a real sh
// against stub apt-get, sleep and ps: a lock held for three tries is
// waited for (5 s between tries) and the refresh succeeds; one never let
// go fails after 24 pauses (120 s) naming the lock and its holder's
// command line, without blaming the repository; a repository apt refuses
// fails at once with the module's message. Before, the first refusal
// failed the step saying "are its uris, suites and components right, and
// is its key the one that signs its Release file?".
func TestPackageRepoRefreshWaitsForAptLock(t *testing.T) {
	w := newWorld(t, packageRepoRecipe)
	w.kinds = simKinds
	w.extra = map[string]string{}
	w.vars = []string{"key=" + repoKey}
	applyOK(t, w, w.plan())
	var args struct {
		Command string `json:"command"`
	}
	inst := w.st.Steps[`module.repo.step.refresh["server[0]"]`]
	if inst == nil || json.Unmarshal(inst.Args, &args) != nil || !strings.Contains(args.Command, "apt-get -q --error-on=any") {
		t.Fatalf("the Debian refresh command: %+v", inst)
	}

	bin := t.TempDir()
	for name, body := range refreshStubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(locked, key string) (out string, exit int, tries, pauses int) {
		t.Helper()
		stub := t.TempDir()
		for f, s := range map[string]string{"locked": locked, "key": key} {
			if err := os.WriteFile(filepath.Join(stub, f), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c := exec.Command("sh", "-c", args.Command)
		c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STUB="+stub)
		b, err := c.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		count := func(f string) int {
			b, _ := os.ReadFile(filepath.Join(stub, f))
			if f == "tries" {
				n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				return n
			}
			return strings.Count(string(b), "\n")
		}
		return string(b), exit, count("tries"), count("slept")
	}

	out, exit, tries, pauses := run("3", "")
	if exit != 0 || tries != 4 || pauses != 3 || !strings.Contains(out, "Get:1 https://download.gluster.org") {
		t.Errorf("lock held for 3 tries: exit %d after %d tries and %d pauses, want 0 after 4 and 3:\n%s", exit, tries, pauses, out)
	}

	out, exit, tries, pauses = run("forever", "")
	want := "diffuser: apt-get update of the package repository gluster: /var/lib/apt/lists/lock is still held by process 4242 (/usr/bin/python3 /usr/bin/unattended-upgrade --download-only) after 120 s of waiting: let it finish"
	if exit != 1 || tries != 25 || pauses != 24 || !strings.Contains(out, want) || strings.Contains(out, "are its uris") {
		t.Errorf("lock never let go: exit %d after %d tries and %d pauses, want 1 after 25 and 24, saying %q and not blaming the repository:\n%s", exit, tries, pauses, want, out)
	}

	out, exit, tries, pauses = run("0", "NO_PUBKEY")
	if exit != 1 || tries != 1 || pauses != 0 || !strings.Contains(out, "NO_PUBKEY") ||
		!strings.Contains(out, "diffuser: the package repository gluster did not update (see apt's errors above): are its uris") {
		t.Errorf("a repository apt refuses: exit %d after %d tries and %d pauses, want 1 at once with apt's reason and the module's message:\n%s", exit, tries, pauses, out)
	}
}

// TestGlusterfsPackageRepositoryShape: a package_repository without an
// attribute the recipe reads, or with a misspelt optional one, is refused
// at the -var-file line that gives it, naming the attributes; it was four
// "Unsupported attribute" errors at the recipe's own lines (or, for
// architecture, no error: the value was dropped).
func TestGlusterfsPackageRepositoryShape(t *testing.T) {
	for name, body := range map[string]string{
		"no key":                `name = "gluster-11"` + "\n" + `uris = ["https://download.gluster.org/x"]` + "\n" + `suites = ["bookworm"]` + "\n" + `components = ["main"]`,
		"architecture misspelt": `name = "gluster-11"` + "\n" + `uris = ["https://download.gluster.org/x"]` + "\n" + `suites = ["bookworm"]` + "\n" + `components = ["main"]` + "\n" + `architecture = ["amd64"]` + "\n" + "key = <<-EOT\n" + repoKey + "  EOT",
	} {
		vf := filepath.Join(t.TempDir(), "repo.hcl")
		if err := os.WriteFile(vf, []byte("package_repository = {\n"+body+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: "glusterfs", Display: "glusterfs", Modules: recipes.Modules()},
			lang.Inputs{VarFiles: []string{vf}}, builtin.Kinds())
		if !diags.HasErrors() {
			t.Errorf("%s: loaded", name)
			continue
		}
		if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Filename != vf || diags[0].Subject.Start.Line != 1 ||
			!strings.Contains(diags[0].Detail, "an object with exactly these attributes: name, uris, suites, components, key, and optionally architectures") {
			t.Errorf("%s: want one error at %s line 1 naming the attributes, got %s", name, vf, diags.Error())
		}
	}
}
