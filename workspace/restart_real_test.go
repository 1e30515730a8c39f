package workspace_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
	"diffuser/facts"
)

// TestRealRestartOnAndFacts drives two node containers: facts recorded at
// launch match the containers (Debian 12, nproc, the provider's
// capabilities); changing the config on
// node[1] restarts only node[1]'s daemon (its PID changes, node[0]'s does
// not); an apply with nothing changed restarts nothing.
func TestRealRestartOnAndFacts(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 2)
	w := newRealWS(t, c, "restart", "restart.hcl", 0, 1)

	a := w.mustApply(t, w.in, "apply")
	if o := a.State.Outputs["os"]; o.Value != "debian 12" {
		t.Errorf("output os = %q, want the facts of a Debian 12 node", o.Value)
	}
	for i := 0; i < 2; i++ {
		h := a.State.Hosts[c.Specs[i].Name]
		if h == nil {
			t.Fatalf("no host %s in state", c.Specs[i].Name)
		}
		f, ok := facts.Decode(h.Facts)
		if !ok {
			t.Fatalf("%s: no facts recorded", h.Name)
		}
		nproc, _ := strconv.Atoi(strings.TrimSpace(c.MustExec(t, i, "nproc")))
		arch := strings.TrimSpace(c.MustExec(t, i, "uname -m"))
		if f.OS.ID != "debian" || f.OS.VersionID != "12" || f.OS.Family != "debian" || f.Cores != nproc || f.Arch != arch ||
			f.PackageArch == "" || f.MemoryMB <= 0 || len(f.Devices) == 0 {
			t.Errorf("%s: facts %+v, want Debian 12, %d cores, %s", h.Name, f, nproc, arch)
		}
		// The docker provider adds SYS_ADMIN and DAC_READ_SEARCH to
		// Docker's defaults, not NET_ADMIN.
		if !slices.Contains(f.Capabilities, "sys_admin") || !slices.Contains(f.Capabilities, "dac_read_search") ||
			slices.Contains(f.Capabilities, "net_admin") {
			t.Errorf("%s: capabilities %v", h.Name, f.Capabilities)
		}
	}
	pid := func(i int) string {
		p := strings.TrimSpace(c.MustExec(t, i, "systemctl show -p MainPID --value restart-demo"))
		if p == "" || p == "0" {
			t.Fatalf("node[%d]: restart-demo is not running (MainPID %q)", i, p)
		}
		return p
	}
	p0, p1 := pid(0), pid(1)

	// Nothing changed: no restart.
	w.noChanges(t, w.in)
	if a := w.mustApply(t, w.in, "apply"); a.Plan.HasChanges() {
		t.Errorf("second apply was not a no-op: %+v", a.Outcome())
	}
	if pid(0) != p0 || pid(1) != p1 {
		t.Error("a no-op apply restarted a daemon")
	}

	// node[1]'s config changes: only its daemon restarts, and reads it.
	in := w.with("greeting=bonjour")
	changes := w.changes(t, in)
	if len(changes) != 2 {
		t.Errorf("plan: %v, want conf and daemon on node[1]", changes)
	}
	if c := changes[`step.daemon["node[1]"]`]; c == nil || c.Restart != "restart" ||
		c.Reason != `restart because step.conf["node[1]"] will change` {
		t.Errorf("daemon on node[1]: %+v", c)
	}
	w.mustApply(t, in, "apply")
	if pid(0) != p0 {
		t.Error("node[0]'s daemon restarted, its config did not change")
	}
	if n1 := pid(1); n1 == p1 {
		t.Error("node[1]'s daemon kept its PID after its config changed")
	}
	if got := c.MustExec(t, 1, "cat /run/restart-demo.seen"); got != "bonjour\n" {
		t.Errorf("node[1]'s daemon read %q", got)
	}
	w.noChanges(t, in)
}
