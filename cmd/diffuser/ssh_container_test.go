package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/state"

	"golang.org/x/crypto/ssh"
)

const sshRecipe = `recipe "sshtest" {
  description = "one host for diffuser ssh"
}

hosts "node" {}

step "mark" {
  on      = hosts.node
  run     = "echo from-diffuser > /root/mark"
  creates = "/root/mark"
}
`

// TestSSHContainer launches one node container with the docker provider
// through the CLI and runs `diffuser ssh WS HOST -- COMMAND` against it
// with the system ssh client: the command's output and exit status come
// back, and a host key that differs from the pinned one is refused. It
// needs root, a Docker Engine and ssh; -short skips it.
func TestSSHContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("container test: skipped with -short")
	}
	if os.Geteuid() != 0 || !dockerOK() {
		t.Skip("container test: needs root and a Docker Engine (scripts/setup.sh)")
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	recipe := filepath.Join(dir, "sshtest.hcl")
	site := filepath.Join(dir, "site.hcl")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(recipe, []byte(sshRecipe), 0o644))
	must(os.WriteFile(site, []byte("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = ["+mirrorHosts(t)+"]\n}\n"), 0o644))
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a first image build takes minutes
		defer cancel()
		code := run(ctx, nil, append([]string{"--data-dir", data}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	t.Cleanup(func() {
		if code, out, errs := cli("destroy", recipe, "-site", site, "-auto-approve", "--progress", "plain"); code != 0 {
			t.Errorf("destroy: exit %d\n%s%s", code, out, errs)
		}
	})
	if code, out, errs := cli("apply", recipe, "-site", site, "-auto-approve", "--progress", "plain"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}

	code, out, errs := cli("ssh", "sshtest", "node[0]", "--", "uname", "-n;", "cat", "/root/mark")
	if code != 0 || out != "node-0\nfrom-diffuser\n" {
		t.Errorf("ssh -- uname -n; cat /root/mark: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, errs := cli("ssh", "sshtest", "node[0]", "--", "exit", "3"); code != 3 {
		t.Errorf("ssh -- exit 3: exit %d, want 3 (%s)", code, errs)
	}

	// Pin another key: ssh must refuse the host's real one.
	store := state.Open(filepath.Join(data, "sshtest"))
	unlock, err := store.Lock(context.Background(), state.CurrentHolder("test"))
	must(err)
	defer func() { _ = unlock() }()
	st, err := store.Load()
	must(err)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	sp, err := ssh.NewPublicKey(pub)
	must(err)
	real := st.Hosts["node[0]"].SSH.HostKey
	st.Hosts["node[0]"].SSH.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	must(store.Save(st))
	code, out, errs = cli("ssh", "sshtest", "node[0]", "--", "echo", "reached")
	if code == 0 || strings.Contains(out, "reached") || !strings.Contains(errs, "HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("a changed host key was not refused: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	st.Hosts["node[0]"].SSH.HostKey = real
	must(store.Save(st))
	must(unlock())
}
