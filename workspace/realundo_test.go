package workspace_test

import (
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
	"diffuser/state"
)

// testRealUndo: step make succeeds on node[0] (it makes a marker file),
// then fails with a changed input. State keeps that it succeeded there;
// when make leaves the recipe a failing destroy command is a failure and
// make stays in state, and once the destroy command works it runs and the
// marker is gone.
func testRealUndo(t *testing.T, c *dockertest.Cluster) {
	w := newRealWS(t, c, "undo", "everok.hcl", 0)
	marker := func() bool {
		_, err := c.ExecArgs(0, "test", "-e", "/var/tmp/everok/marker")
		return err == nil
	}
	w.mustApply(t, w.in, "apply")
	if !marker() {
		t.Fatal("the marker was not made")
	}
	a, err := w.applyOf(w.with("v=2"), "apply")
	if err != nil || a.Outcome().Failed != 1 {
		t.Fatalf("apply with v=2: %v, %+v; want make to fail", err, a.Outcome())
	}
	st := w.readState(t, "undo")
	inst := st.Steps[`step.make["node[0]"]`]
	if inst == nil || inst.Status != state.StatusFailed || inst.SucceededOn != st.Hosts["node[0]"].ProviderID {
		t.Fatalf("make in state: %+v; want failed, succeeded on %s", inst, st.Hosts["node[0]"].ProviderID)
	}
	c.MustExec(t, 0, "touch /var/tmp/everok/refuse")
	a, err = w.applyOf(w.with("v=2", "keep=false"), "apply")
	if err != nil {
		t.Fatal(err)
	}
	if o := a.Outcome(); o.Failed != 1 || len(o.Failures) != 1 || o.Failures[0].Exit != 4 ||
		!strings.Contains(o.Failures[0].Error+o.Failures[0].Tail, "undo refused") {
		t.Fatalf("removal with a failing destroy command: %+v; want it to fail", o)
	}
	if st := w.readState(t, "undo"); st.Steps[`step.make["node[0]"]`] == nil {
		t.Fatal("make left state although its destroy command failed")
	}
	if !marker() {
		t.Fatal("the marker is gone although the destroy command failed")
	}
	c.MustExec(t, 0, "rm -f /var/tmp/everok/refuse")
	w.mustApply(t, w.with("v=2", "keep=false"), "apply")
	if marker() {
		t.Fatal("the destroy command of make, which once succeeded, did not run: the marker is still there")
	}
	if st := w.readState(t, "undo"); st.Steps[`step.make["node[0]"]`] != nil {
		t.Fatal("make is still in state")
	}
	w.mustApply(t, w.with("v=2", "keep=false"), "destroy")
}
