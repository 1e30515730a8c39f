package workspace

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/remote"
	"diffuser/remote/sshdtest"
	"diffuser/state"
)

// These tests change the site file's own port, user or address of a
// static host on a real sshd, and check that the machine answering there
// decides: the one with the pinned host key is the same host (only its
// launch is recorded again; nothing re-runs, no destroy command runs),
// another one (or none) replaces it, saying which.

const readdressRecipe = rerouteRecipe + `
step "addr" {
  on  = hosts.server
  run = "echo ${host.private_ip} >> ${var.out}.addr"
}
`

// newReaddressWorld is the reroute world with no ssh config: the site file
// alone says how server[0] is reached.
func newReaddressWorld(t *testing.T, opt sshdtest.Options) *rerouteWorld {
	t.Helper()
	keys := sshdtest.NewEnv(t)
	srv := keys.NewServer(t, opt)
	w := &rerouteWorld{sshConfigWorld: newSSHConfigWorld(t, "127.0.0.1", ""), keys: keys, srv: srv}
	must(t, os.WriteFile(filepath.Join(w.dir, "recipe", "main.hcl"), []byte(readdressRecipe), 0o644))
	w.writeSite("127.0.0.1", "", srv.Port)
	return w
}

// writeSite lists server[0] at address, logging in as user ("" = unset:
// root) at port.
func (w *rerouteWorld) writeSite(address, user string, port int) {
	var login string
	if user != "" {
		login = fmt.Sprintf("  user       = %q\n", user)
	}
	site := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = ""
  key_file   = %q
  port       = %d
%s  hosts "server" { addresses = [%q] }
}
`, w.keys.KeyPath, port, login, address)
	must(w.t, os.WriteFile(w.inputs.Site, []byte(site), 0o644))
}

func fingerprint(t *testing.T, key string) string {
	t.Helper()
	fp, err := remote.Fingerprint(key)
	must(t, err)
	return fp
}

// destroy runs `diffuser destroy` on the workspace; a failure of any
// instance fails the test.
func (w *rerouteWorld) destroy() {
	w.t.Helper()
	pl, err := w.env.Plan(context.Background(), PlanRequest{Inputs: w.inputs, Command: "destroy", Lock: true, Destroy: true})
	must(w.t, err)
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	pl.Close()
	must(w.t, err)
	for _, f := range res.Failures {
		w.t.Errorf("destroy: %s: %v", f.Addr, f.Err)
	}
}

// destroyed is what the recipe's destroy command wrote on the host.
func (w *rerouteWorld) destroyed() string {
	b, _ := os.ReadFile(w.out + ".destroy")
	return string(b)
}

// expectSame checks that the machine answering the new way is the same
// and that nothing but the recorded way changed since old was recorded.
func (w *rerouteWorld) expectSame(old map[string]string, wantRuns string) {
	w.t.Helper()
	if w.runs() != wantRuns || w.destroyed() != "" || !maps.Equal(w.started(), old) {
		w.t.Errorf("after apply: ran %q (want %q), destroy commands %q, steps started again: %v", w.runs(), wantRuns, w.destroyed(), !maps.Equal(w.started(), old))
	}
}

// The site file's port changes to another port of the same sshd (moved
// for hardening, the old one still open while it is changed): the same
// machine, its launch recorded again and nothing else.
func TestStaticSitePortChanged(t *testing.T) {
	port2 := sshdtest.FreePort(t)
	w := newReaddressWorld(t, sshdtest.Options{Extra: fmt.Sprintf("ListenAddress 127.0.0.1:%d", port2)})
	w.apply()
	old, started := w.host(), w.started()

	w.writeSite("127.0.0.1", "", port2)
	pl, got := w.plan()
	pl.Close()
	want := fmt.Sprintf(`~ launch["server[0]"] (reached another way now, at the same addresses: the machine with the pinned host key %s answers at root@127.0.0.1:%d (found by refresh))`,
		fingerprint(t, w.srv.HostKeys[0]), port2)
	if strings.TrimSpace(got) != want {
		t.Fatalf("plan after the site's port changed: want the launch only\n%s\ngot\n%s", want, got)
	}
	w.apply()
	h := w.host()
	if h.SSH.Port != port2 || h.SSH.HostKey != old.SSH.HostKey || h.ProviderID != old.ProviderID || h.Digest != old.Digest {
		t.Errorf("after apply state records port %d, host key %q, id %q (was %q), digest %q (was %q)", h.SSH.Port, h.SSH.HostKey, h.ProviderID, old.ProviderID, h.Digest, old.Digest)
	}
	w.expectSame(started, "reached\n")
	w.expectConverged()
}

// sshd restarted on another port only, and the site file's port changed:
// destroy reaches the host at the new port (the recorded one answers no
// more) to run its steps' destroy commands.
func TestStaticSitePortChangedThenDestroyed(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	w.apply()
	w.srv.Stop()
	port := sshdtest.FreePort(t)
	w.srv.Listen(port)
	w.srv.Start()
	w.writeSite("127.0.0.1", "", port)

	w.destroy()
	if w.destroyed() != "destroyed\n" {
		t.Errorf("the destroy command did not run at the new port: %q", w.destroyed())
	}
}

// The site file's port now reaches another sshd (behind a NAT, another
// port of one address can be another machine), or none: the host is
// replaced, and the plan says why, naming both host keys.
func TestStaticSitePortOtherMachine(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	w.apply()
	old := w.host()
	other := w.keys.NewServer(t, sshdtest.Options{})

	nothing := sshdtest.FreePort(t)
	w.writeSite("127.0.0.1", "", nothing)
	pl, got := w.plan()
	pl.Close()
	if !strings.Contains(got, fmt.Sprintf(`-/+ launch["server[0]"] (nothing answers at 127.0.0.1:%d (`, nothing)) {
		t.Errorf("plan with nothing at the new port: want the launch replaced, saying so:\n%s", got)
	}

	w.writeSite("127.0.0.1", "", other.Port)
	pl, got = w.plan()
	pl.Close()
	want := fmt.Sprintf(`-/+ launch["server[0]"] (another machine answers at root@127.0.0.1:%d (host key %s, state pins %s) (found by refresh))`,
		other.Port, fingerprint(t, other.HostKeys[0]), fingerprint(t, w.srv.HostKeys[0]))
	if !strings.Contains(got, want) {
		t.Fatalf("plan with another sshd at the new port: want\n%s\ngot\n%s", want, got)
	}
	w.apply()
	h := w.host()
	if h.SSH.Port != other.Port || h.SSH.HostKey != other.HostKeys[0] || h.ProviderID == old.ProviderID {
		t.Errorf("after the replacement state records port %d, host key %q, id %q", h.SSH.Port, h.SSH.HostKey, h.ProviderID)
	}
	if w.runs() != "reached\nreached\n" {
		t.Errorf("replaced: runs %q; want the recipe run again", w.runs())
	}
	w.expectConverged()
}

// sshd moved to another port and the site file followed (the host keeps
// the provider id naming its first port); later the site names the first
// port again, where another machine answers now (a NAT forwarding it
// elsewhere): that machine is asked too, and the host replaced, the plan
// naming both keys, not planned as the same machine and refused by apply.
func TestStaticSiteNamedBackOtherMachine(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	w.apply()
	first, old := w.srv.Port, w.host()
	w.srv.Stop()
	w.srv.Listen(sshdtest.FreePort(t))
	w.srv.Start()
	w.writeSite("127.0.0.1", "", w.srv.Port)
	w.apply()
	if h := w.host(); h.SSH.Port != w.srv.Port || h.ProviderID != old.ProviderID {
		t.Fatalf("after the port moved state records port %d, id %q", h.SSH.Port, h.ProviderID)
	}

	other := w.keys.Configure(t, sshdtest.Options{})
	other.Listen(first)
	other.Start()
	w.writeSite("127.0.0.1", "", first)
	pl, got := w.plan()
	pl.Close()
	want := fmt.Sprintf(`-/+ launch["server[0]"] (another machine answers at root@127.0.0.1:%d (host key %s, state pins %s) (found by refresh))`,
		first, fingerprint(t, other.HostKeys[0]), fingerprint(t, w.srv.HostKeys[0]))
	if !strings.Contains(got, want) {
		t.Fatalf("plan naming the first port again, another machine there: want\n%s\ngot\n%s", want, got)
	}
	w.apply()
	if h := w.host(); h.SSH.Port != first || h.SSH.HostKey != other.HostKeys[0] {
		t.Errorf("after the replacement state records port %d, host key %q", h.SSH.Port, h.SSH.HostKey)
	}
	w.expectConverged()
}

// The site file's user changes: the machine answering is the same (its
// host key), so the host is not replaced; a user the machine refuses
// fails apply at the launch, nothing runs, and state keeps the old way
// until the site says one it accepts.
func TestStaticSiteUserChanged(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	w.apply()
	old, started := w.host(), w.started()

	w.writeSite("127.0.0.1", "diffuser-nobody", w.srv.Port)
	pl, got := w.plan()
	pl.Close()
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0],
		fmt.Sprintf(`~ launch["server[0]"] (reached another way now, at the same addresses: the machine with the pinned host key %s answers at diffuser-nobody@127.0.0.1:%d`,
			fingerprint(t, old.SSH.HostKey), w.srv.Port)) {
		t.Fatalf("plan after the site's user changed: want the launch only:\n%s", got)
	}
	msg := w.applyFailing()
	if !strings.Contains(msg, `launch["server[0]"]`) || !strings.Contains(msg, "the new way (diffuser-nobody@127.0.0.1") {
		t.Errorf("apply as a user the machine refuses: %s", msg)
	}
	if h := w.host(); h.SSH.User != old.SSH.User || h.ProviderID != old.ProviderID {
		t.Errorf("the refused user was recorded: %+v", h.SSH)
	}
	w.expectSame(started, "reached\n")

	w.writeSite("127.0.0.1", w.keys.User, w.srv.Port) // root, now written
	w.expectConverged()
}

// The site file's address changes to another address of the same sshd:
// the machine moved, so the steps reading its address run again, and
// nothing is destroyed.
func TestStaticSiteAddressMoved(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{Also: []string{"127.0.0.2"}})
	w.apply()
	old := w.host()
	started := w.started()

	w.writeSite("127.0.0.2", "", w.srv.Port)
	pl, got := w.plan()
	pl.Close()
	wantLaunch := fmt.Sprintf(`~ launch["server[0]"] (moved: the machine with the pinned host key %s answers at root@127.0.0.2:%d (found by refresh))`,
		fingerprint(t, old.SSH.HostKey), w.srv.Port)
	// What the steps read of a moved host is known after apply, which
	// runs only those whose inputs changed then.
	if !strings.Contains(got, wantLaunch) || !strings.Contains(got, `step.addr["server[0]"]`) || strings.Contains(got, "-/+") || strings.Contains(got, " + ") {
		t.Fatalf("plan after the site's address changed: want the launch moved and the step reading the address:\n%s", got)
	}
	w.apply()
	h := w.host()
	if h.SSH.Address != "127.0.0.2" || h.PrivateIP != "127.0.0.2" || h.ProviderID != old.ProviderID || h.SSH.HostKey != old.SSH.HostKey {
		t.Errorf("after apply state records %s (private %s), id %q, key %q", h.SSH.Address, h.PrivateIP, h.ProviderID, h.SSH.HostKey)
	}
	if b, _ := os.ReadFile(w.out + ".addr"); string(b) != "127.0.0.1\n127.0.0.2\n" {
		t.Errorf("the step reading the address: %q", b)
	}
	delete(started, `step.addr["server[0]"]`)
	now := w.started()
	delete(now, `step.addr["server[0]"]`)
	if w.runs() != "reached\n" || w.destroyed() != "" || !maps.Equal(now, started) {
		t.Errorf("moved: ran %q, destroy commands %q", w.runs(), w.destroyed())
	}
	w.expectConverged()
}

// A host recorded before the site file's address, user and port left the
// launch digest (its digest holds them) plans as a no-op while they stay
// (also when its address is written another way naming the same machine),
// and as readdressed, not replaced for changed settings, when its own
// changes: what its record says they were is tried (engine formerDigest).
func TestStaticSiteDigestBeforeUpgrade(t *testing.T) {
	port2 := sshdtest.FreePort(t)
	w := newReaddressWorld(t, sshdtest.Options{Extra: fmt.Sprintf("ListenAddress 127.0.0.1:%d", port2)})
	w.apply()
	pl, _ := w.plan()
	opt := pl.WS.planOptions()
	opt.ReachSettings = []string{"ssh_config", "package_cache", "key_file", "jump"} // before
	settings, diags := pl.WS.Settings("server")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	before := pl.WS.Loaded.LaunchDigest(opt, "server", settings)
	pl.Close()
	if before == w.host().Digest {
		t.Fatal("the digest before the upgrade is the one recorded now: the test would prove nothing")
	}
	s := state.Open(w.env.Layout().Workspace("reach"))
	unlock, err := s.Lock(context.Background(), state.CurrentHolder("test"))
	must(t, err)
	st, err := s.Load()
	must(t, err)
	st.Hosts["server[0]"].Digest = before
	must(t, s.Save(st))
	must(t, unlock())

	w.expectConverged()
	// The same machine written another way (user and port in the address).
	w.writeSite(fmt.Sprintf("root@127.0.0.1:%d", w.srv.Port), "", w.srv.Port)
	w.expectConverged()
	w.writeSite("127.0.0.1", "", port2)
	pl, got := w.plan()
	pl.Close()
	if lines := strings.Split(strings.TrimSpace(got), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], `~ launch["server[0]"] (reached another way now`) {
		t.Errorf("port changed on a host recorded before: want the launch only:\n%s", got)
	}
	w.writeSite("127.0.0.2", "", w.srv.Port) // nothing listens there
	pl, got = w.plan()
	pl.Close()
	if !strings.Contains(got, `-/+ launch["server[0]"] (nothing answers at 127.0.0.2:`) {
		t.Errorf("address changed on a host recorded before: want it asked, not replaced for its settings:\n%s", got)
	}
}

// A typo in the site file's address (nothing listens there) plans the host
// replaced; the launch fails, and state keeps the host as it was recorded
// (its address, pinned host key, facts and steps), so that putting the
// address back plans nothing, not a replacement trusting whatever key
// answers and running every step again.
func TestStaticSiteAddressTypoKeepsHost(t *testing.T) {
	w := newReaddressWorld(t, sshdtest.Options{})
	w.apply()
	old := w.host()
	st, err := w.env.ReadState("reach")
	must(t, err)
	steps := st.Steps
	if old.SSH.HostKey == "" || len(old.Facts) == 0 {
		t.Fatalf("first apply recorded no host key or facts: %+v", old)
	}

	w.writeSite("127.0.0.2", "", w.srv.Port) // nothing listens there
	pl, got := w.plan()
	pl.Close()
	if !strings.Contains(got, `-/+ launch["server[0]"] (nothing answers at 127.0.0.2:`) {
		t.Fatalf("plan with the typo: want the launch replaced, saying nothing answers:\n%s", got)
	}
	msg := w.applyFailing()
	if !strings.Contains(msg, `launch["server[0]"]`) || !strings.Contains(msg, "state keeps server[0] as recorded (root@127.0.0.1:") {
		t.Errorf("apply with the typo: %s", msg)
	}
	h := w.host()
	if h.SSH.Address != old.SSH.Address || h.SSH.HostKey != old.SSH.HostKey || h.PrivateIP != old.PrivateIP ||
		h.ProviderID != old.ProviderID || h.Digest != old.Digest || string(h.Facts) != string(old.Facts) || !h.Launched.Equal(old.Launched) {
		t.Errorf("the failed launch changed the recorded host:\nwas %+v\nnow %+v", old, h)
	}
	st, err = w.env.ReadState("reach")
	must(t, err)
	for addr, in := range steps {
		if now := st.Steps[addr]; now == nil || now.Status != in.Status || now.Digest != in.Digest || !now.Started.Equal(in.Started) {
			t.Errorf("%s: was %+v, now %+v", addr, in, now)
		}
	}
	if len(st.Steps) != len(steps) {
		t.Errorf("state holds %d step instances, was %d", len(st.Steps), len(steps))
	}
	if w.runs() != "reached\n" || w.destroyed() != "" {
		t.Errorf("with the typo: ran %q, destroy commands %q", w.runs(), w.destroyed())
	}

	w.writeSite("127.0.0.1", "", w.srv.Port) // the typo fixed
	w.expectConverged()
	if w.host().SSH.HostKey != old.SSH.HostKey {
		t.Errorf("host key after the typo was fixed: %q, was %q", w.host().SSH.HostKey, old.SSH.HostKey)
	}
}
