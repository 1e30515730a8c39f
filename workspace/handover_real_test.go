package workspace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
)

// handOverRecipe calls builtin/systemd-unit as module CALL.
const handOverRecipe = `recipe "handover" {}
hosts "node" {}
module "CALL" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "handover-demo"
  content = "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n"
}
`

// TestRealRenameWithoutMoved: a builtin/systemd-unit call renamed without
// a moved block, applied on a real host. The old call's instances go
// after the new call's ran; their destroy (`systemctl disable --now`, rm
// of the unit file) used to stop and remove the unit the new call had
// just started, with the apply reporting success. Now they are forgotten
// without their undo: the unit stays active and enabled, its file stays,
// and the plan after is empty.
func TestRealRenameWithoutMoved(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 1)
	w := newRealWS(t, c, "handover", "restart.hcl", 0)
	dir := t.TempDir()
	w.in.Recipe = dir
	write := func(call string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(handOverRecipe, "CALL", call, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const check = "systemctl is-active handover-demo && systemctl is-enabled handover-demo && test -f /etc/systemd/system/handover-demo.service"

	write("svc")
	w.mustApply(t, w.in, "apply")
	c.MustExec(t, 0, check)

	write("svc2")
	a := w.mustApply(t, w.in, "apply")
	handed := 0
	for _, d := range a.Plan.Destroys {
		if d.HandedTo != "" {
			handed++
			if d.Addr != `module.svc.step.unit["node[0]"]` || d.HandedTo != `module.svc2.step.unit["node[0]"]` {
				t.Errorf("%s handed to %s", d.Addr, d.HandedTo)
			}
		}
	}
	if handed != 1 {
		t.Errorf("%d destroys handed over, want the unit file's", handed)
	}
	if out, err := c.Exec(0, check); err != nil {
		t.Fatalf("after the rename, the unit is not active, enabled and in place: %v\n%s", err, out)
	}
	w.noChanges(t, w.in)
}
