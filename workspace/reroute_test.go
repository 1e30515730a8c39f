package workspace

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/remote"
	"diffuser/remote/sshdtest"
	"diffuser/runner"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// These tests change how a static host is reached at the same address —
// a new SSH key (the old one removed from authorized_keys) or sshd on
// another port — on a real sshd, and check that plan, apply, verify and
// destroy reach it the new way, never the recorded one.

const rerouteRecipe = `
recipe "reroute" {}
variable "out" { type = string }
hosts "server" { count = 1 }
step "hello" {
  on  = hosts.server
  run = "echo reached >> ${var.out}"
  destroy = "echo destroyed >> ${var.out}.destroy"
}
step "conf" {
  on = hosts.server
  file {
    path    = "${var.out}.conf"
    content = "wanted\n"
  }
}
`

// rerouteWorld is one sshd reached as the alias "lab-pc" through an ssh
// config giving its port, with the site's key_file naming the key.
type rerouteWorld struct {
	*sshConfigWorld
	keys *sshdtest.Env
	srv  *sshdtest.Server
}

func newRerouteWorld(t *testing.T) *rerouteWorld {
	t.Helper()
	keys := sshdtest.NewEnv(t)
	srv := keys.NewServer(t, sshdtest.Options{})
	w := &rerouteWorld{sshConfigWorld: newSSHConfigWorld(t, "lab-pc", ""), keys: keys, srv: srv}
	w.writePort(srv.Port)
	w.writeKeyFile(keys.KeyPath)
	must(t, os.WriteFile(filepath.Join(w.dir, "recipe", "main.hcl"), []byte(rerouteRecipe), 0o644))
	return w
}

func (w *rerouteWorld) writePort(port int) {
	w.writeConfig(fmt.Sprintf("Host lab-pc\n    HostName 127.0.0.1\n    Port %d\n    User %s\n", port, w.keys.User))
}

func (w *rerouteWorld) writeKeyFile(key string) {
	site := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = %q
  key_file   = %q
  hosts "server" { addresses = ["lab-pc"] }
}
`, w.cfg, key)
	must(w.t, os.WriteFile(w.inputs.Site, []byte(site), 0o644))
}

// rotateKey makes a new key, authorizes it instead of the old one and
// names it in the site file.
func (w *rerouteWorld) rotateKey() string {
	w.t.Helper()
	key, line, err := remote.GenerateKey(filepath.Join(w.dir, "new-key"))
	must(w.t, err)
	must(w.t, os.WriteFile(w.keys.AuthFile, []byte(line+"\n"), 0o600))
	w.writeKeyFile(key)
	return key
}

func (w *rerouteWorld) host() state.Host {
	w.t.Helper()
	st, err := w.env.ReadState("reach")
	must(w.t, err)
	h := st.Hosts["server[0]"]
	if h == nil {
		w.t.Fatal("no server[0] in state")
	}
	return *h
}

func (w *rerouteWorld) runs() string {
	b, _ := os.ReadFile(w.out)
	return string(b)
}

const reroutedLaunch = `~ launch["server[0]"] (reached or set up another way now, at the same addresses (found by refresh))`

// expectRerouted checks that a plan lists the launch, the drift planted
// on the conf file (found by asking the host the new way), and nothing
// else.
func (w *rerouteWorld) expectRerouted() {
	w.t.Helper()
	pl, got := w.plan()
	pl.Close()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || lines[0] != reroutedLaunch || !strings.HasPrefix(lines[1], `~ step.conf["server[0]"] (drift: content differs`) {
		w.t.Fatalf("plan after the reach changed: want the launch and the drifted file only:\n%s", got)
	}
}

func (w *rerouteWorld) expectConverged() {
	w.t.Helper()
	pl, got := w.plan()
	pl.Close()
	if got != "" {
		w.t.Fatalf("not converged:\n%s", got)
	}
}

func TestStaticKeyRotated(t *testing.T) {
	w := newRerouteWorld(t)
	w.apply()
	old := w.host()
	if w.runs() != "reached\n" || old.Attrs["ssh_key_file"] != w.keys.KeyPath {
		t.Fatalf("first apply: ran %q, recorded %v", w.runs(), old.Attrs)
	}

	newKey := w.rotateKey()
	must(t, os.WriteFile(w.out+".conf", []byte("edited by hand\n"), 0o644))
	w.expectRerouted()
	w.apply()
	h := w.host()
	if h.Attrs["ssh_key_file"] != newKey || h.SSH.HostKey != old.SSH.HostKey || h.ProviderID != old.ProviderID {
		t.Errorf("after apply state records key %q, host key %q, id %q", h.Attrs["ssh_key_file"], h.SSH.HostKey, h.ProviderID)
	}
	if w.runs() != "reached\n" {
		t.Errorf("the run step ran again: %q", w.runs())
	}
	if b, _ := os.ReadFile(w.out + ".conf"); string(b) != "wanted\n" {
		t.Errorf("the drifted file was not repaired: %q", b)
	}
	w.expectConverged()
}

func TestStaticPortMoved(t *testing.T) {
	w := newRerouteWorld(t)
	w.apply()
	old := w.host()

	w.srv.Stop()
	port := sshdtest.FreePort(t)
	w.srv.Listen(port)
	w.srv.Start()
	w.writePort(port)
	must(t, os.WriteFile(w.out+".conf", []byte("edited by hand\n"), 0o644))
	w.expectRerouted()
	w.apply()
	h := w.host()
	if h.SSH.Port != port || h.SSH.HostKey != old.SSH.HostKey || h.ProviderID != old.ProviderID {
		t.Errorf("after apply state records port %d, host key %q, id %q", h.SSH.Port, h.SSH.HostKey, h.ProviderID)
	}
	if w.runs() != "reached\n" {
		t.Errorf("the run step ran again: %q", w.runs())
	}
	w.expectConverged()
}

// A new key_file the machine does not accept fails apply naming the host
// and the way tried, even while the old key still works: nothing falls
// back to it, state keeps the old way, nothing runs, and the next plan
// still plans the launch.
func TestStaticNewKeyRefused(t *testing.T) {
	w := newRerouteWorld(t)
	w.apply()
	old := w.host()
	started := w.started()
	wrong, _, err := remote.GenerateKey(filepath.Join(w.dir, "wrong-key"))
	must(t, err)
	w.writeKeyFile(wrong) // the old key stays authorized
	mark := len(w.srv.Log.String())

	pl, got := w.plan()
	var warned string
	for _, d := range pl.WS.Warnings {
		warned += d.Summary + ": " + d.Detail + "\n"
	}
	pl.Close()
	if !strings.Contains(got, reroutedLaunch) || strings.Contains(got, "step.") {
		t.Errorf("plan with a key the host refuses: want the launch only:\n%s", got)
	}
	if !strings.Contains(warned, "server[0] does not answer the new way") || !strings.Contains(warned, "key_file "+wrong) {
		t.Errorf("plan warned %q; want it to name the host and the key tried", warned)
	}

	msg := w.applyFailing()
	for _, want := range []string{`launch["server[0]"]`, "the new way", "key_file " + wrong, fmt.Sprintf(":%d", w.srv.Port),
		"state still records the way it was reached before", "ssh-copy-id -i " + wrong + ".pub"} {
		if !strings.Contains(msg, want) {
			t.Errorf("apply with a key the host refuses: %s\nwant it to say %q", msg, want)
		}
	}
	if log := w.srv.Log.String()[mark:]; strings.Contains(log, "Accepted publickey") {
		t.Errorf("a login was accepted after the site named a key the host refuses (the old key was used):\n%s", log)
	}
	if h := w.host(); h.Attrs["ssh_key_file"] != old.Attrs["ssh_key_file"] || !h.Launched.Equal(old.Launched) {
		t.Errorf("the refused way was recorded: %v", h.Attrs)
	}
	if w.runs() != "reached\n" || !maps.Equal(w.started(), started) {
		t.Errorf("something ran again: %q", w.runs())
	}
	pl, got = w.plan()
	pl.Close()
	if !strings.Contains(got, reroutedLaunch) {
		t.Errorf("the plan after the failed apply forgot the launch:\n%s", got)
	}
}

// Destroy reaches a rerouted host the new way to run its destroy
// commands; verify and bench (OpenApplied) reach it the new way too.
func TestStaticKeyRotatedThenDestroyed(t *testing.T) {
	w := newRerouteWorld(t)
	w.apply()
	w.rotateKey()

	ws, conn, closeConn, err := w.env.OpenApplied(context.Background(), w.inputs, "verify")
	must(t, err)
	h := ws.State.Hosts["server[0]"]
	r, err := engine.ConnectHost(context.Background(), conn, h, nil)
	if err != nil {
		t.Errorf("verify's connection to the rerouted host: %v", err)
	} else if res, err := r.Run(context.Background(), "cat "+w.out, runner.Options{}); err != nil || res.Stdout != "reached\n" {
		t.Errorf("verify's command on the rerouted host: %v %+v", err, res)
	}
	closeConn()
	ws.Close()

	w.destroy()
	if w.destroyed() != "destroyed\n" {
		t.Errorf("the destroy command did not run on the rerouted host: %q", w.destroyed())
	}
	st, err := w.env.ReadState("reach")
	must(t, err)
	if len(st.Hosts) != 0 || len(st.Steps) != 0 {
		t.Errorf("after destroy state holds %d hosts, %d steps", len(st.Hosts), len(st.Steps))
	}
}

// started is when each recorded step instance last started.
func (w *rerouteWorld) started() map[string]string {
	w.t.Helper()
	st, err := w.env.ReadState("reach")
	must(w.t, err)
	out := map[string]string{}
	for addr, in := range st.Steps {
		out[addr] = in.Started.String()
	}
	return out
}

// refusingFactory is a provider that cannot start (no credentials, no
// daemon): a command that needs it says so.
type refusingFactory struct{ started *int }

func (refusingFactory) Spec() hcldec.ObjectSpec { return hcldec.ObjectSpec{} }

func (f refusingFactory) New(context.Context, cty.Value, cloud.Env) (cloud.Provider, error) {
	*f.started++
	return nil, errors.New("no credentials here")
}

// Verify and bench ask only the static provider how its hosts are reached
// now: a workspace with a group on another provider (aws, docker) does not
// start that one, which they never needed.
func TestRerouteAsksOnlyStatic(t *testing.T) {
	w := newRerouteWorld(t)
	w.apply()
	started := 0
	w.env.Factories = map[string]cloud.Factory{"faraway": refusingFactory{&started}}
	recipe := filepath.Join(w.dir, "recipe", "main.hcl")
	b, err := os.ReadFile(recipe)
	must(t, err)
	must(t, os.WriteFile(recipe, append(b, "hosts \"client\" { count = 1 }\n"...), 0o644))
	w.rotateKey() // rewrites the site file
	b, err = os.ReadFile(w.inputs.Site)
	must(t, err)
	must(t, os.WriteFile(w.inputs.Site, append(b, "hosts \"client\" { provider = faraway }\n"...), 0o644))

	ws, conn, closeConn, err := w.env.OpenApplied(context.Background(), w.inputs, "verify")
	if err != nil {
		t.Fatalf("verify on a workspace with a group on another provider: %v", err)
	}
	defer ws.Close()
	defer closeConn()
	if started != 0 {
		t.Errorf("verify started the other provider %d times", started)
	}
	if _, err := engine.ConnectHost(context.Background(), conn, ws.State.Hosts["server[0]"], nil); err != nil {
		t.Errorf("verify's connection to the rerouted static host: %v", err)
	}
}
