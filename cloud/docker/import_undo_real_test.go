package docker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestUndoImportReal: a container imported by mistake (not diffuser's, no
// sshd: the import is then not recorded) is given back as it was: it
// leaves the cluster network it was connected to, and root's
// authorized_keys holds again what it held, without the workspace key.
// Before, both stayed: a stranger's container kept a way in for whoever
// has the workspace key, and a place on the cluster's network.
func TestUndoImportReal(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tag, err := e.p.EnsureImage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := "diffuser-test-stranger-" + e.cluster
	if out, err := exec.Command("docker", "run", "-d", "--name", name, "--entrypoint", "/bin/sleep", tag, "infinity").CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	const theirs = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITheirOwnKeyStaysTheirs owner@elsewhere"
	if out, err := exec.Command("docker", "exec", name, "sh", "-c", "mkdir -p -m 700 /root/.ssh && printf '%s' '"+theirs+"' > /root/.ssh/authorized_keys").CombinedOutput(); err != nil {
		t.Fatalf("docker exec: %v %s", err, out)
	}
	inspect := func(what string) string {
		out, err := exec.Command("docker", "inspect", "-f", what, name).CombinedOutput()
		if err != nil {
			t.Fatalf("docker inspect: %v %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	keys := func() string {
		out, err := exec.Command("docker", "exec", name, "cat", "/root/.ssh/authorized_keys").CombinedOutput()
		if err != nil {
			t.Fatalf("cat authorized_keys: %v %s", err, out)
		}
		return string(out)
	}
	networks := `{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}`
	spec := e.spec("client", 0)
	h, err := e.p.Import(ctx, spec, name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inspect(networks), NetworkName(e.cluster)) || !strings.Contains(keys(), strings.TrimSpace(e.p.env.Keys.PublicKey)) {
		t.Fatalf("after Import: networks %q, authorized_keys %q", inspect(networks), keys())
	}
	if err := e.p.UndoImport(ctx, spec, h); err != nil {
		t.Fatal(err)
	}
	if got := inspect(networks); strings.Contains(got, NetworkName(e.cluster)) {
		t.Errorf("after UndoImport the container is still on the cluster network: %s", got)
	}
	if got := keys(); got != theirs {
		t.Errorf("after UndoImport root's authorized_keys is %q, want %q as before", got, theirs)
	}
	if got := inspect("{{.State.Running}}"); got != "true" {
		t.Errorf("the container is not running after UndoImport: %s", got)
	}
}
