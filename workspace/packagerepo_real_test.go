package workspace_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
)

// TestRealHostPackageRepo builds a one-package apt repository on the
// controller (dpkg-deb, dpkg-scanpackages, a Release file signed with a
// throwaway gpg key), copies it into a node container and applies
// builtin/package-repo with its key: apt-get update of that source alone
// succeeds, a package step installs the package from it (and tree, its
// dependency, from the distribution: the package step still updates the
// distribution's lists on this fresh host), and the plan after is a
// no-op. Then the wrong key, an unsigned repository, and a signed one
// whose Release lists no package index each make the refresh step fail
// with the module's message (and apt's reason); the repository restored,
// it succeeds again, waiting for apt's lists lock, which another process
// holds for 12 s. Destroy removes the key and source files.
func TestRealHostPackageRepo(t *testing.T) {
	dockertest.NeedContainers(t)
	for _, tool := range []string{"dpkg-deb", "dpkg-scanpackages", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (scripts/setup.sh installs it): %v", tool, err)
		}
	}
	repo := buildSignedRepo(t)
	wrongKey := gpgKey(t, "wrong")
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 1)

	copyIn(t, c, repo.dir+"/.", "/srv/diffuser-repo")

	w := newRealWS(t, c, "packagerepo", "packagerepo.hcl", 0)
	w.in = w.with("key=" + repo.key)
	a := w.mustApply(t, w.in, "apply")
	if o := a.State.Outputs["repository"]; o.Value != "diffuser-probe" {
		t.Errorf("output repository = %q", o.Value)
	}
	if got := c.MustExec(t, 0, "dpkg-query -W -f '${Status} ${Version}' diffuser-repo-probe; echo; cat /usr/share/diffuser-repo-probe/hello"); got != "install ok installed 1.0\nhello from the test repository\n" {
		t.Errorf("the package from the repository: %q", got)
	}
	c.MustExec(t, 0, "tree --version")
	if got := c.MustExec(t, 0, "stat -c '%a %U' /etc/apt/keyrings/diffuser-probe.asc /etc/apt/sources.list.d/diffuser-probe.sources"); got != "644 root\n644 root\n" {
		t.Errorf("modes and owners of the key and the source: %q", got)
	}
	if got := c.MustExec(t, 0, "grep -E '^(URIs|Suites|Signed-By):' /etc/apt/sources.list.d/diffuser-probe.sources"); got != "URIs: file:///srv/diffuser-repo\nSuites: ./\nSigned-By: /etc/apt/keyrings/diffuser-probe.asc\n" {
		t.Errorf("the source file: %q", got)
	}
	w.noChanges(t, w.in)

	// The wrong key: the key file changes, so the refresh runs again
	// (restart_on) and apt refuses the repository.
	refreshFails := func(why string, in []string, wantApt string) {
		t.Helper()
		a, err := w.applyOf(w.with(in...), "apply")
		if err != nil {
			t.Fatalf("%s: %v", why, err)
		}
		fs := a.Outcome().Failures
		if len(fs) != 1 || fs[0].Address != `module.repo.step.refresh["node[0]"]` ||
			!strings.Contains(fs[0].Tail, "diffuser: the package repository probe ") || !strings.Contains(fs[0].Tail, wantApt) {
			t.Fatalf("%s: failures %+v, want module.repo.step.refresh failing with the module's message and %q", why, fs, wantApt)
		}
		t.Logf("%s: %s", why, fs[0].Tail)
	}
	refreshFails("the wrong key", []string{"key=" + wrongKey}, "NO_PUBKEY")

	// The right key again, but the repository lost its signature.
	c.MustExec(t, 0, "rm -f /srv/diffuser-repo/InRelease /srv/diffuser-repo/Release.gpg")
	refreshFails("an unsigned repository", []string{"key=" + repo.key}, "Release")

	// A signed Release that lists no package index (suites or components
	// the repository does not have): apt only warns, the module fails.
	c.MustExec(t, 0, "rm -f /srv/diffuser-repo/Release /srv/diffuser-repo/Release.gpg")
	copyIn(t, c, repo.sign(t, fmt.Sprintf(" %x 0 Sources\n", sha256.Sum256(nil))), "/srv/diffuser-repo/InRelease")
	refreshFails("a repository without a package index", []string{"key=" + repo.key}, "offers no package index")

	// The repository as it was, while another process holds apt's lists
	// lock for 12 s (as apt-daily does on a freshly booted machine): the
	// refresh, which apt-get update does not wait for, tries again until
	// the lock is free and succeeds.
	time.Sleep(time.Second) // a Release of a later second
	copyIn(t, c, repo.sign(t, repo.index), "/srv/diffuser-repo/InRelease")
	const hold = 12
	holdLock(t, c, "/var/lib/apt/lists/lock", hold)
	start := time.Now()
	a = w.mustApply(t, w.in, "apply")
	if took := time.Since(start); took < (hold-2)*time.Second {
		t.Errorf("the refresh while the lists' lock was held for %d s took %s", hold, took.Round(time.Second))
	}
	if log, err := a.Run.StepLog("module.repo.step.refresh", "node[0]"); err != nil || !strings.Contains(string(log), "E: Could not get lock /var/lib/apt/lists/lock. It is held by process") {
		t.Errorf("the refresh's log does not show apt refusing while the lock was held (%v; logged: %v):\n%s", err, a.Run.LoggedSteps(), log)
	}
	w.noChanges(t, w.in)

	w.mustApply(t, w.in, "destroy")
	if got := c.MustExec(t, 0, "ls /etc/apt/keyrings /etc/apt/sources.list.d; dpkg -s diffuser-repo-probe >/dev/null 2>&1 && echo installed || echo removed"); strings.Contains(got, "diffuser-probe") || !strings.HasSuffix(got, "removed\n") {
		t.Errorf("after destroy: %q, want no diffuser-probe files and the package removed", got)
	}
	if st := w.readState(t, "packagerepo"); len(st.Steps) != 0 {
		t.Errorf("state after destroy still has %d instances", len(st.Steps))
	}
}

// copyIn copies a controller file or directory (DIR/. for its content)
// into node[0] at dst, readable by apt's sandbox user.
func copyIn(t *testing.T, c *dockertest.Cluster, src, dst string) {
	t.Helper()
	out, err := exec.Command("docker", "cp", src, c.Container(0)+":"+dst).CombinedOutput()
	if err != nil {
		t.Fatalf("docker cp %s: %v\n%s", src, err, out)
	}
	c.MustExec(t, 0, "chown -R root:root /srv/diffuser-repo && chmod -R a+rX /srv/diffuser-repo")
}

// signedRepo is a flat apt repository in dir signed with key.
type signedRepo struct {
	dir   string
	key   string // the armored public key
	home  string // the GNUPGHOME holding the signing key
	index string // the SHA256 lines of its Release
}

// release is a Release file dated now listing index (SHA256 lines): apt
// refuses a Release older than the one it has.
func (r signedRepo) release(index string) string {
	return fmt.Sprintf("Origin: diffuser-test\nLabel: diffuser-test\nDate: %s\nSHA256:\n%s", time.Now().UTC().Format(time.RFC1123), index)
}

// sign clear-signs a Release listing index with the repository's key and
// returns the path of the signed file (an InRelease).
func (r signedRepo) sign(t *testing.T, index string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Release"), []byte(r.release(index)), 0o644); err != nil {
		t.Fatal(err)
	}
	controllerRun(t, dir, []string{"GNUPGHOME=" + r.home}, "gpg", "--batch", "--yes", "--clearsign", "-o", "InRelease", "Release")
	return filepath.Join(dir, "InRelease")
}

// buildSignedRepo makes a flat apt repository holding one package,
// diffuser-repo-probe 1.0 (depending on tree), with InRelease and
// Release.gpg signed by a fresh key.
func buildSignedRepo(t *testing.T) signedRepo {
	t.Helper()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg")
	repo := filepath.Join(dir, "repo")
	for _, d := range []string{filepath.Join(pkg, "DEBIAN"), filepath.Join(pkg, "usr/share/diffuser-repo-probe"), repo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(pkg, "DEBIAN/control"), "Package: diffuser-repo-probe\nVersion: 1.0\nArchitecture: all\n"+
		"Depends: tree\nMaintainer: diffuser tests <tests@example.invalid>\nDescription: a package of diffuser's builtin/package-repo test\n")
	write(filepath.Join(pkg, "usr/share/diffuser-repo-probe/hello"), "hello from the test repository\n")
	controllerRun(t, dir, nil, "dpkg-deb", "--root-owner-group", "--build", pkg, filepath.Join(repo, "diffuser-repo-probe_1.0_all.deb"))
	// Packages.gz alone: apt then keeps the list as a file of its own in
	// /var/lib/apt/lists, as it does for an http repository (an
	// uncompressed index of a file: repository is only linked to).
	packages := controllerRun(t, repo, nil, "dpkg-scanpackages", "--multiversion", ".", "/dev/null")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(packages)); err != nil || zw.Close() != nil {
		t.Fatalf("gzip: %v", err)
	}
	write(filepath.Join(repo, "Packages.gz"), gz.String())
	// Release lists the index uncompressed too: apt checks what it
	// decompressed against that line.
	sum, gzSum := sha256.Sum256([]byte(packages)), sha256.Sum256(gz.Bytes())
	r := signedRepo{dir: repo, home: gnupgHome(t),
		index: fmt.Sprintf(" %s %d Packages\n %s %d Packages.gz\n", hex.EncodeToString(sum[:]), len(packages), hex.EncodeToString(gzSum[:]), gz.Len())}
	r.key = gpgGen(t, r.home, "signer")
	write(filepath.Join(repo, "Release"), r.release(r.index))
	env := []string{"GNUPGHOME=" + r.home}
	controllerRun(t, repo, env, "gpg", "--batch", "--yes", "--clearsign", "-o", "InRelease", "Release")
	controllerRun(t, repo, env, "gpg", "--batch", "--yes", "--armor", "--detach-sign", "-o", "Release.gpg", "Release")
	return r
}

// gpgKey is the armored public key of a fresh key that signs nothing.
func gpgKey(t *testing.T, name string) string {
	t.Helper()
	return gpgGen(t, gnupgHome(t), name)
}

// gnupgHome is a fresh GNUPGHOME whose agent is stopped at cleanup. It is
// short: the agent's socket path must fit in 108 bytes.
func gnupgHome(t *testing.T) string {
	t.Helper()
	home, err := os.MkdirTemp("", "dfgpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
		_ = os.RemoveAll(home)
	})
	return home
}

// gpgGen makes a key without a passphrase in home and returns its armored
// public key.
func gpgGen(t *testing.T, home, name string) string {
	t.Helper()
	env := []string{"GNUPGHOME=" + home}
	uid := "diffuser " + name + " <" + name + "@example.invalid>"
	controllerRun(t, home, env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
	return controllerRun(t, home, env, "gpg", "--armor", "--export", uid)
}

// controllerRun runs a controller command in dir and returns its stdout.
func controllerRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
