package workspace

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/remote/sshdtest"
)

// These tests reach static hosts (real OpenSSH servers on loopback) only
// through what a temporary ssh config says: an alias as the address, and
// HostName, Port, User, IdentityFile and ProxyJump from the file. Neither
// the site file nor diffuser's defaults (root, 22, the workspace key, which
// no server authorizes) could reach them.

const reachRecipe = `
recipe "reach" {}
variable "out" { type = string }
hosts "server" { count = 1 }
step "hello" {
  on  = hosts.server
  run = "echo reached > ${var.out}"
}
`

// sshConfigWorld is a recipe, a site file and an ssh config in temp dirs.
type sshConfigWorld struct {
	t      *testing.T
	env    *Env
	dir    string
	cfg    string // the ssh config file
	out    string // what the step writes
	inputs Inputs
}

func newSSHConfigWorld(t *testing.T, address, sshConfig string) *sshConfigWorld {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("steps run as root: a non-root login would go through sudo")
	}
	t.Setenv("SSH_AUTH_SOCK", "") // only the keys the config names
	dir := t.TempDir()
	w := &sshConfigWorld{t: t, env: &Env{DataDir: filepath.Join(dir, "data")}, dir: dir,
		cfg: filepath.Join(dir, "ssh_config"), out: filepath.Join(dir, "out")}
	w.writeConfig(sshConfig)
	must(t, os.MkdirAll(filepath.Join(dir, "recipe"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "recipe", "main.hcl"), []byte(reachRecipe), 0o644))
	site := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = %q
  hosts "server" { addresses = [%q] }
}
`, w.cfg, address)
	must(t, os.WriteFile(filepath.Join(dir, "site.hcl"), []byte(site), 0o644))
	w.inputs = Inputs{Recipe: filepath.Join(dir, "recipe"), Site: filepath.Join(dir, "site.hcl"), Workspace: "reach",
		Vars: []string{"out=" + w.out}}
	return w
}

func (w *sshConfigWorld) writeConfig(s string) {
	must(w.t, os.WriteFile(w.cfg, []byte(s), 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// plan plans with refresh and returns the plan's summary lines.
// applyFailing applies a fresh plan and returns its error and failures, as text.
func (w *sshConfigWorld) applyFailing() string {
	w.t.Helper()
	pl, _ := w.plan()
	defer pl.Close()
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	msg := fmt.Sprint(err)
	if res != nil {
		for _, f := range res.Failures {
			msg += "\n" + f.Addr + ": " + f.Err.Error()
		}
	}
	return msg
}

func (w *sshConfigWorld) plan() (*Planned, string) {
	w.t.Helper()
	pl, err := w.env.Plan(context.Background(), PlanRequest{Inputs: w.inputs, Command: "apply", Lock: true, Refresh: true})
	if err != nil {
		w.t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range pl.Plan.Changes {
		fmt.Fprintf(&b, "%s %s (%s)\n", c.Action.Symbol(), c.Addr, c.Reason)
	}
	return pl, b.String()
}

func (w *sshConfigWorld) apply() *engine.Result {
	w.t.Helper()
	pl, _ := w.plan()
	defer pl.Close()
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, f := range res.Failures {
		w.t.Errorf("%s on %s: %v\n%s", f.Addr, f.Host, f.Err, f.Tail)
	}
	if w.t.Failed() {
		w.t.FailNow()
	}
	return res
}

// systemSSH runs `diffuser ssh`'s command line (the system ssh client)
// with a remote command and returns its output.
func (w *sshConfigWorld) systemSSH(cmd ...string) string {
	w.t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		w.t.Skip("no ssh client: apt-get install openssh-client")
	}
	argv, err := w.env.SSHCommand("reach", "server[0]", cmd)
	if err != nil {
		w.t.Fatal(err)
	}
	argv = append([]string{argv[0], "-o", "BatchMode=yes"}, argv[1:]...)
	c := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		w.t.Fatalf("%q: %v\n%s%s", argv, err, out, stderr.String())
	}
	return string(out)
}

func TestStaticHostReachedThroughSSHConfig(t *testing.T) {
	env := sshdtest.NewEnv(t)
	srv := env.NewServer(t, sshdtest.Options{})
	w := newSSHConfigWorld(t, "lab-pc-01", fmt.Sprintf(`Host lab-*
    HostName 127.0.0.1
    Port %d
    User %s
    IdentityFile %s
`, srv.Port, env.User, env.KeyPath))

	w.apply()
	if b, err := os.ReadFile(w.out); err != nil || string(b) != "reached\n" {
		t.Fatalf("the step did not run on the host: %q %v", b, err)
	}
	st, err := w.env.ReadState("reach")
	must(t, err)
	h := st.Hosts["server[0]"]
	if h.SSH.Address != "127.0.0.1" || h.SSH.Port != srv.Port || h.SSH.User != env.User ||
		len(h.SSH.IdentityFiles) != 1 || h.SSH.IdentityFiles[0] != env.KeyPath || h.Attrs["ssh_host"] != "lab-pc-01" || h.Attrs["ssh_config"] != w.cfg {
		t.Errorf("state records %+v attrs %v", h.SSH, h.Attrs)
	}
	if h.ProviderID != "static:root@lab-pc-01:22" {
		t.Errorf("provider id %q: it names the host as the site file does", h.ProviderID)
	}
	if h.SSH.HostKey != srv.HostKeys[0] {
		t.Errorf("pinned %q, want the server's key", h.SSH.HostKey)
	}

	// diffuser ssh reaches the same host with the system ssh client.
	if got := w.systemSSH("cat", w.out); got != "reached\n" {
		t.Errorf("diffuser ssh ran and printed %q", got)
	}

	// The machine moves: the config's HostName changes. Refresh finds it,
	// apply records the new address, keeps the pinned key and re-runs nothing.
	w.writeConfig(fmt.Sprintf("Host lab-pc-01\n    HostName localhost\n    Port %d\n    User %s\n    IdentityFile %s\n", srv.Port, env.User, env.KeyPath))
	pl, got := w.plan()
	pl.Close()
	if !strings.Contains(got, `~ launch["server[0]"] (reached another way now`) || strings.Contains(got, "-/+") {
		t.Fatalf("plan after the config changed:\n%s", got)
	}
	must(t, os.Remove(w.out))
	res := w.apply()
	for _, sp := range res.Spans {
		if sp.Kind != "launch" && sp.Status == "ok" {
			t.Errorf("%s ran again after the host moved", sp.Addr)
		}
	}
	if _, err := os.Stat(w.out); err == nil {
		t.Error("the step ran again after the host moved")
	}
	st, err = w.env.ReadState("reach")
	must(t, err)
	if h := st.Hosts["server[0]"]; h.SSH.Address != "localhost" || h.SSH.HostKey != srv.HostKeys[0] || h.PrivateIP != "localhost" {
		t.Errorf("after the move state records %+v, private ip %s", h.SSH, h.PrivateIP)
	}
	pl, got = w.plan()
	pl.Close()
	if got != "" {
		t.Errorf("not converged:\n%s", got)
	}

	// Pointing the site's ssh_config at another file moves the host too; it
	// never replaces it (ssh_config stays out of the launch digest).
	b, err := os.ReadFile(w.cfg)
	must(t, err)
	w.cfg = filepath.Join(w.dir, "other_config")
	w.writeConfig(string(b))
	site, err := os.ReadFile(w.inputs.Site)
	must(t, err)
	must(t, os.WriteFile(w.inputs.Site, []byte(strings.Replace(string(site), filepath.Join(w.dir, "ssh_config"), w.cfg, 1)), 0o644))
	pl, got = w.plan()
	pl.Close()
	if !strings.Contains(got, `~ launch["server[0]"] (reached or set up another way now, at the same addresses`) || strings.Contains(got, "-/+") ||
		strings.Contains(got, "step.") {
		t.Fatalf("plan after ssh_config changed (the same addresses: only the launch):\n%s", got)
	}
}

func TestStaticHostReachedThroughProxyJump(t *testing.T) {
	env := sshdtest.NewEnv(t)
	bastion := env.NewServer(t, sshdtest.Options{Extra: "LogLevel DEBUG1"})
	target := env.NewServer(t, sshdtest.Options{})
	dir := t.TempDir()
	w := newSSHConfigWorld(t, "lab-behind", fmt.Sprintf(`Host lab-behind
    HostName 127.0.0.1
    Port %d
    ProxyJump bastion

Host bastion
    HostName 127.0.0.1
    Port %d
    # what the system ssh needs for the jump host's key (diffuser pins its own)
    UserKnownHostsFile %s
    StrictHostKeyChecking accept-new

Host *
    User %s
    IdentityFile %s
`, target.Port, bastion.Port, filepath.Join(dir, "known_hosts"), env.User, env.KeyPath))

	w.apply()
	if b, err := os.ReadFile(w.out); err != nil || string(b) != "reached\n" {
		t.Fatalf("the step did not run on the host: %q %v", b, err)
	}
	forwarded := fmt.Sprintf("target 127.0.0.1 port %d", target.Port)
	if n := strings.Count(bastion.Log.String(), forwarded); n == 0 {
		t.Fatalf("the bastion forwarded nothing to the target: diffuser did not go through it")
	}
	st, err := w.env.ReadState("reach")
	must(t, err)
	h := st.Hosts["server[0]"]
	if j := h.SSH.Jump; j == nil || j.Address != "127.0.0.1" || j.Port != bastion.Port || j.User != env.User || j.Jump != nil {
		t.Errorf("jump chain in state: %+v", j)
	}
	if want := fmt.Sprintf("%s@bastion:%d", env.User, bastion.Port); h.Attrs["ssh_jump"] != want {
		t.Errorf("ssh_jump = %q, want %q", h.Attrs["ssh_jump"], want)
	}

	// diffuser ssh goes through the same bastion.
	before := strings.Count(bastion.Log.String(), forwarded)
	if got := w.systemSSH("cat", w.out); got != "reached\n" {
		t.Errorf("diffuser ssh ran and printed %q", got)
	}
	if strings.Count(bastion.Log.String(), forwarded) == before {
		t.Error("diffuser ssh did not go through the bastion")
	}
}

// A chain of two jump hosts, the second reached through the first.
func TestStaticHostReachedThroughJumpChain(t *testing.T) {
	env := sshdtest.NewEnv(t)
	outer := env.NewServer(t, sshdtest.Options{Extra: "LogLevel DEBUG1"})
	inner := env.NewServer(t, sshdtest.Options{Extra: "LogLevel DEBUG1"})
	target := env.NewServer(t, sshdtest.Options{})
	w := newSSHConfigWorld(t, "lab-far", fmt.Sprintf(`Host lab-far
    HostName 127.0.0.1
    Port %d
    ProxyJump hop1,hop2

Host hop1
    HostName 127.0.0.1
    Port %d

Host hop2
    HostName 127.0.0.1
    Port %d

Host *
    User %s
    IdentityFile %s
`, target.Port, outer.Port, inner.Port, env.User, env.KeyPath))
	w.apply()
	if b, err := os.ReadFile(w.out); err != nil || string(b) != "reached\n" {
		t.Fatalf("the step did not run on the host: %q %v", b, err)
	}
	if !strings.Contains(outer.Log.String(), fmt.Sprintf("target 127.0.0.1 port %d", inner.Port)) {
		t.Error("the first hop did not forward to the second")
	}
	if !strings.Contains(inner.Log.String(), fmt.Sprintf("target 127.0.0.1 port %d", target.Port)) {
		t.Error("the second hop did not forward to the target")
	}
}

// A jump host's key is pinned in state on first use like a target's; a
// changed one is refused with a message naming the jump host and how to
// forget its key; after forget-hostkey --jump the next apply pins the new
// key.
func TestJumpHostKeyPinnedAndRefusedWhenChanged(t *testing.T) {
	env := sshdtest.NewEnv(t)
	bastion := env.NewServer(t, sshdtest.Options{})
	target := env.NewServer(t, sshdtest.Options{})
	config := func(alias string) string {
		return fmt.Sprintf(`Host lab-behind
    HostName 127.0.0.1
    Port %d
    ProxyJump %s

Host %s
    HostName 127.0.0.1
    Port %d

Host *
    User %s
    IdentityFile %s
`, target.Port, alias, alias, bastion.Port, env.User, env.KeyPath)
	}
	w := newSSHConfigWorld(t, "lab-behind", config("bastion"))
	w.apply()
	jumpKey := func() string {
		st, err := w.env.ReadState("reach")
		must(t, err)
		j := st.Hosts["server[0]"].SSH.Jump
		if j == nil {
			t.Fatal("no jump chain in state")
		}
		return j.HostKey
	}
	first := jumpKey()
	if first != bastion.HostKeys[0] {
		t.Fatalf("jump host key in state = %q, want the bastion's %q", first, bastion.HostKeys[0])
	}

	// The bastion is rebuilt; a changed step makes apply connect again.
	// The ssh config now names the same bastion by another alias: the
	// host is reached another way and recorded again, and its new record
	// keeps the key pinned for that bastion (same address and port).
	bastion.RotateHostKey()
	bastion.Stop()
	bastion.Start()
	w.writeConfig(config("gateway"))
	w.inputs.Vars = []string{"out=" + w.out + "2"}
	msg := w.applyFailing()
	name := fmt.Sprintf("127.0.0.1:%d", bastion.Port)
	for _, want := range []string{"host key of jump host " + name, "forget-hostkey reach --jump " + name} {
		if !strings.Contains(msg, want) {
			t.Errorf("apply through a changed jump host: %s\nwant it to say %q", msg, want)
		}
	}
	if _, err := os.Stat(w.out + "2"); err == nil {
		t.Error("the step ran through a jump host whose key changed")
	}
	if got := jumpKey(); got != first {
		t.Errorf("the refused key replaced the pinned one: %q", got)
	}

	if _, err := w.env.ForgetJumpHostKey(context.Background(), "reach", "127.0.0.1:1"); err == nil ||
		!strings.Contains(err.Error(), name) {
		t.Errorf("forgetting an unknown jump host: %v; want an error listing %s", err, name)
	}
	hosts, err := w.env.ForgetJumpHostKey(context.Background(), "reach", name)
	must(t, err)
	if fmt.Sprint(hosts) != "[server[0]]" {
		t.Errorf("forgot the jump key on the way to %v", hosts)
	}
	if got := jumpKey(); got != "" {
		t.Fatalf("after forget the jump key is %q", got)
	}
	w.apply()
	if got := jumpKey(); got != bastion.HostKeys[0] || got == first {
		t.Errorf("after forget and apply the jump key is %q, want the new %q", got, bastion.HostKeys[0])
	}
}
