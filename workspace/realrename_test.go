package workspace_test

import (
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
	"diffuser/engine"
)

// testRealRename: a builtin/systemd-unit call applied as diffuser-webd,
// then renamed diffuser-webd2 (one port for both). The plan replaces the
// unit step, naming both unit files; apply runs the destroy command
// recorded for the old name first, so afterwards the old unit is
// inactive, not enabled, its file gone, and the new one active and
// enabled; the plan after is empty and destroy stops the new one. With
// the old code the rename was an update: diffuser-webd stayed active and
// enabled, diffuser-webd2 failed (Address already in use), and state's
// destroy command named only diffuser-webd2.
func testRealRename(t *testing.T, c *dockertest.Cluster) {
	const node = 2
	w := newRealWS(t, c, "rename", "rename.hcl", node)
	w.mustApply(t, w.in, "apply")
	c.MustExec(t, node, "systemctl is-active diffuser-webd && systemctl is-enabled diffuser-webd")

	renamed := w.with("name=diffuser-webd2")
	unit := `module.web.step.unit["node[0]"]`
	ch := w.changes(t, renamed)
	want := "the file moves from /etc/systemd/system/diffuser-webd.service to /etc/systemd/system/diffuser-webd2.service: the old one's destroy command runs first"
	if u := ch[unit]; u == nil || u.Action != engine.Replace || u.Reason != want {
		t.Fatalf("plan of the rename: %s, want %s replaced (%s)", strings.Join(changeLines(ch), "; "), unit, want)
	}
	a, err := w.applyOf(renamed, "apply")
	if err != nil {
		t.Fatal(err)
	}
	if o := a.Outcome(); o.Failed != 0 {
		t.Errorf("apply of the rename: %+v", o.Failures)
	}
	got := c.MustExec(t, node, `for u in diffuser-webd diffuser-webd2; do
  e=$(systemctl is-enabled $u 2>/dev/null); [ -n "$e" ] || e=unknown
  printf '%s %s %s %s\n' "$u" "$(systemctl is-active $u)" "$e" "$(test -e /etc/systemd/system/$u.service && echo file || echo nofile)"
done`)
	if wantOn := "diffuser-webd inactive unknown nofile\ndiffuser-webd2 active enabled file\n"; got != wantOn {
		t.Errorf("after the rename:\n%swant:\n%s", got, wantOn)
	}
	if d := a.State.Steps[unit].Destroy; !strings.Contains(d, "diffuser-webd2.service") {
		t.Errorf("recorded destroy command: %q", d)
	}
	w.noChanges(t, renamed)

	w.mustApply(t, renamed, "destroy")
	if got := c.MustExec(t, node, "systemctl is-active diffuser-webd2 || true; test -e /etc/systemd/system/diffuser-webd2.service && echo file || echo nofile"); got != "inactive\nnofile\n" {
		t.Errorf("after destroy: %q", got)
	}
}
