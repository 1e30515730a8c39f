package workspace_test

import (
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
)

// TestRealHostModules applies a recipe built from the built-in modules
// xfs-volume and systemd-unit on two node containers: the volume is an
// XFS mount with its label, the service runs and is enabled, state
// records module addresses, the plan after it is a no-op, and destroy
// stops the service and removes its unit file and the mount.
func TestRealHostModules(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 2)
	w := newRealWS(t, c, "modules", "modules", 0, 1)
	a := w.mustApply(t, w.in, "apply")
	if o := a.State.Outputs["unit"]; o.Value != "diffuser-modsleep.service" {
		t.Errorf("output unit = %q", o.Value)
	}
	for i := 0; i < 2; i++ {
		h := c.Specs[i].Name
		if got := c.MustExec(t, i, "findmnt -rn -o FSTYPE,LABEL --mountpoint /srv/moddata"); strings.TrimSpace(got) != "xfs moddata" {
			t.Errorf("%s: /srv/moddata is %q, want an xfs mount labelled moddata", h, got)
		}
		c.MustExec(t, i, "grep -q ' /srv/moddata xfs ' /etc/fstab")
		c.MustExec(t, i, "systemctl is-active diffuser-modsleep && systemctl is-enabled diffuser-modsleep")
		if got := c.MustExec(t, i, "systemctl show -p WorkingDirectory --value diffuser-modsleep"); strings.TrimSpace(got) != "/srv/moddata" {
			t.Errorf("%s: the unit's working directory is %q (the module output did not reach the other module)", h, got)
		}
	}
	st := w.readState(t, "modules")
	for _, addr := range []string{`module.data.step.format["node[0]"]`, `module.data.step.mount["node[1]"]`,
		`module.sleeper.step.unit["node[0]"]`, `module.sleeper.step.service["node[1]"]`} {
		if st.Steps[addr] == nil {
			t.Errorf("state lacks %s", addr)
		}
	}
	w.noChanges(t, w.in)

	// A changed unit file restarts the running service (restart_on in
	// builtin/systemd-unit): a new MainPID; an unchanged one keeps it.
	pid := func(i int) string {
		return strings.TrimSpace(c.MustExec(t, i, "systemctl show -p MainPID --value diffuser-modsleep"))
	}
	before := []string{pid(0), pid(1)}
	changed := w.with("sleep_note=second")
	w.mustApply(t, changed, "apply")
	for i := 0; i < 2; i++ {
		if now := pid(i); now == before[i] || now == "0" {
			t.Errorf("%s: MainPID %s after the unit changed, was %s: the service was not restarted", c.Specs[i].Name, now, before[i])
		}
		if got := c.MustExec(t, i, "systemctl show -p Description --value diffuser-modsleep"); !strings.Contains(got, "(second)") {
			t.Errorf("%s: the running unit's description is %q: systemd did not reload the file", c.Specs[i].Name, got)
		}
	}
	after := []string{pid(0), pid(1)}
	w.mustApply(t, changed, "apply")
	if now := []string{pid(0), pid(1)}; now[0] != after[0] || now[1] != after[1] {
		t.Errorf("an apply with nothing changed restarted the service: MainPID %v, was %v", now, after)
	}
	w.in = changed

	w.mustApply(t, w.in, "destroy")
	for i := 0; i < 2; i++ {
		h := c.Specs[i].Name
		got := c.MustExec(t, i, "systemctl is-active diffuser-modsleep || true; test -e /etc/systemd/system/diffuser-modsleep.service && echo unit-left || echo unit-gone; findmnt --mountpoint /srv/moddata >/dev/null && echo mounted || echo unmounted")
		if want := "inactive\nunit-gone\nunmounted\n"; got != want {
			t.Errorf("%s after destroy: %q, want %q", h, got, want)
		}
	}
	if st := w.readState(t, "modules"); len(st.Steps) != 0 {
		t.Errorf("state after destroy still has %d instances", len(st.Steps))
	}
}
