package workspace_test

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"diffuser/cloud/docker/dockertest"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/workspace"
)

// Real-host tests: node containers (cloud/docker/dockertest) driven through
// workspace.Env as static hosts, the way a person drives machines they
// already own. They need root (loop devices) and a Docker Engine; -short
// skips them. The SIGKILL test on the same kind of cluster is the CLI's
// (cmd/diffuser TestRealHostKill): it kills a real diffuser process.

const realhostDir = "testdata/realhost"

// realWS is one workspace on the cluster: its own data dir and SSH key,
// and a static site listing the given hosts as group "node".
type realWS struct {
	*sysEnv
	in workspace.Inputs
}

func newRealWS(t *testing.T, c *dockertest.Cluster, ws, recipe string, hosts ...int) *realWS {
	t.Helper()
	s := newSysEnv(t, filepath.Join(c.Dir, ws, ".diffuser"))
	c.Authorize(t, s.data(), ws)
	site := c.Site(t, ws+".hcl", "node", hosts...)
	return &realWS{sysEnv: s, in: workspace.Inputs{Recipe: filepath.Join(realhostDir, recipe), Site: site, Workspace: ws}}
}

// with is the inputs plus variables.
func (w *realWS) with(vars ...string) workspace.Inputs {
	in := w.in
	in.Vars = vars
	return in
}

// TestRealHost drives three node containers as static hosts: every step
// kind applied, re-planned as a no-op, drifted and repaired; a step failing
// on one host while the others finish, then resumed; a changed host key
// refused until forgotten; a builtin/systemd-unit call renamed, the old
// unit undone before the new one starts.
func TestRealHost(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 3)
	t.Run("kinds", func(t *testing.T) { testRealKinds(t, c) })
	t.Run("failure", func(t *testing.T) { testRealFailure(t, c) })
	t.Run("undo", func(t *testing.T) { testRealUndo(t, c) })
	t.Run("rename", func(t *testing.T) { testRealRename(t, c) })
	// Last: it changes a host key, which every workspace has pinned.
	t.Run("hostkey", func(t *testing.T) { testRealHostKey(t, c) })
}

// testRealKinds: apply every kind, re-plan (no-op), drift four of them on
// node[1] behind diffuser's back, see exactly those (and the wait on the
// stopped service's port) planned as updates with drift reasons, repair,
// re-plan (no-op). Run steps run once each throughout.
func testRealKinds(t *testing.T, c *dockertest.Cluster) {
	w := newRealWS(t, c, "kinds", "kinds.hcl", 0, 1, 2)
	a := w.mustApply(t, w.in, "apply")
	if o := a.State.Outputs["roster"]; o.Value != "node-0 node-1" {
		t.Errorf("the roster output (from captures) is %q, want %q", o.Value, "node-0 node-1")
	}
	const runLog = "/var/tmp/realkinds/runs.log"
	for i := 0; i < 2; i++ {
		h := c.Specs[i].Name
		c.MustExec(t, i, "tree --version")
		if got := c.MustExec(t, i, "cat /etc/diffuser-motd; stat -c %a /etc/diffuser-motd"); got != "hello from "+h+"\n640\n" {
			t.Errorf("%s: motd and its mode = %q", h, got)
		}
		if got := c.MustExec(t, i, "findmnt -rn -o FSTYPE --mountpoint /srv/data"); strings.TrimSpace(got) != "xfs" {
			t.Errorf("%s: /srv/data is %q, want an xfs mount", h, got)
		}
		c.MustExec(t, i, "systemctl is-active diffuser-echo && systemctl is-enabled diffuser-echo && test -s /srv/data/marker")
		if got := c.MustExec(t, i, "bash -c 'exec 3<>/dev/tcp/127.0.0.1/7777 && head -n1 <&3'"); strings.TrimSpace(got) != h {
			t.Errorf("%s: the listener answered %q", h, got)
		}
		want := map[string]int{"log_dir": 1, "marker": 1, "identity": 1}
		if i == 0 {
			want["roster"] = 1
		}
		dockertest.CheckCounts(t, h, c.RunCounts(t, i, runLog), want)
	}
	if got := c.MustExec(t, 2, "test -e /etc/diffuser-motd && echo present || echo absent"); strings.TrimSpace(got) != "absent" {
		t.Errorf("node[2] is not in the recipe (nodes = 2) but got the motd file")
	}
	st := w.readState(t, "kinds")
	if o := st.Steps[`step.identity["node[1]"]`]; o == nil || o.Outputs["hostname"] != "node-1" || o.Outputs["greeting"] != "hello from node[1]" {
		t.Errorf("captures of identity on node[1] = %+v", o)
	}

	// Nothing to do: plan says so, and apply runs nothing.
	w.noChanges(t, w.in)
	if a := w.mustApply(t, w.in, "apply"); a.Plan.HasChanges() || a.Res != nil {
		t.Errorf("second apply was not a no-op: %+v", a.Outcome())
	}

	// Drift on node[1]: package removed, file changed, volume unmounted,
	// service stopped.
	c.MustExec(t, 1, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q tree >/dev/null && echo tampered > /etc/diffuser-motd && umount /srv/data && systemctl stop diffuser-echo")
	changes := w.changes(t, w.in)
	drifted := map[string]string{
		`step.tools["node[1]"]`:      "tree",
		`step.motd["node[1]"]`:       "",
		`step.data_mount["node[1]"]`: "/srv/data",
		`step.echo["node[1]"]`:       "",
		`step.echo_up["node[1]"]`:    "7777",
	}
	for addr, word := range drifted {
		c, ok := changes[addr]
		switch {
		case !ok:
			t.Errorf("plan misses the drift of %s", addr)
		case c.Action != engine.Update || !strings.HasPrefix(c.Reason, "drift: ") || !strings.Contains(c.Reason, word):
			t.Errorf("%s: %s (%s), want an update with a drift reason naming %q", addr, c.Action, c.Reason, word)
		}
	}
	for addr, c := range changes {
		if _, ok := drifted[addr]; !ok {
			t.Errorf("plan has %s: %s (%s), but only the drifted instances should change", addr, c.Action, c.Reason)
		}
	}

	// Saved with `plan -out`, the repair is applied from the file: apply
	// asks the hosts again (the plan's refresh found drift) and, finding
	// the same, runs exactly the saved plan.
	saved := filepath.Join(t.TempDir(), "drift.plan")
	w.savePlan(t, w.in, saved)
	a, err := w.applySaved(t, saved)
	if err != nil {
		t.Fatalf("apply of a plan saved with drift: %v", err)
	}
	if o := a.Outcome(); o.Failed != 0 || o.Done != len(drifted) {
		t.Fatalf("apply of a plan saved with drift: %+v, want the %d drifted instances done", o, len(drifted))
	}
	c.MustExec(t, 1, "tree --version >/dev/null && grep -qx 'hello from node\\[1\\]' /etc/diffuser-motd && findmnt --mountpoint /srv/data >/dev/null && systemctl is-active diffuser-echo && test -s /srv/data/marker")
	w.noChanges(t, w.in)

	// Drift saved in a plan, then repaired behind diffuser's back: the
	// plan is no longer what the hosts make, and is refused, saying so.
	c.MustExec(t, 1, "systemctl stop diffuser-echo")
	w.savePlan(t, w.in, saved)
	c.MustExec(t, 1, "systemctl start diffuser-echo")
	serial := w.readState(t, "kinds").Serial
	if _, err := w.applySaved(t, saved); err == nil || !strings.Contains(err.Error(), "no longer matches") ||
		!strings.Contains(err.Error(), "the hosts answer otherwise") || !strings.Contains(err.Error(), `step.echo["node[1]"]: saved update, now no-op`) {
		t.Fatalf("a plan saved with drift since repaired: want it refused naming the hosts and the instance, got %v", err)
	}
	if got := w.readState(t, "kinds").Serial; got != serial {
		t.Errorf("the refused plan moved the serial from %d to %d", serial, got)
	}
	w.noChanges(t, w.in)

	// A changed command whose creates guard holds does not run again; the
	// instance is recorded with its new inputs.
	second := w.with("marker_note=second")
	w.mustApply(t, second, "apply")
	w.noChanges(t, second)
	for i := 0; i < 2; i++ {
		want := map[string]int{"log_dir": 1, "marker": 1, "identity": 1}
		if i == 0 {
			want["roster"] = 1
		}
		dockertest.CheckCounts(t, c.Specs[i].Name, c.RunCounts(t, i, runLog), want)
		if got := c.MustExec(t, i, "cat /srv/data/marker"); got != "first\n" {
			t.Errorf("%s: the marker was rewritten: %q", c.Specs[i].Name, got)
		}
	}
}

// testRealFailure: a step fails on node[1] only. The result names the
// instance, the host, the exit status, the output tail and the log;
// independent instances finish on every host, dependents of the failed
// one are skipped. Fixing the variable and applying again runs only what
// did not finish.
func testRealFailure(t *testing.T, c *dockertest.Cluster) {
	w := newRealWS(t, c, "failure", "failure.hcl", 0, 1, 2)
	a, err := w.applyOf(w.in, "apply")
	if err != nil {
		t.Fatalf("apply with a failing step: %v", err)
	}
	o := a.Outcome()
	if o.Done != 13 || o.Failed != 1 || o.Skipped != 2 {
		t.Errorf("apply: %d done, %d failed, %d skipped; want 13 done (3 launches), 1 failed, 2 skipped", o.Done, o.Failed, o.Skipped)
	}
	wantLog := filepath.Join(a.Run.LogDir(), "steps.log")
	if len(o.Failures) != 1 {
		t.Fatalf("failures: %+v", o.Failures)
	}
	if f := o.Failures[0]; f.Address != `step.flaky["node[1]"]` || f.Host != "node[1]" || f.Exit != 3 ||
		!strings.Contains(f.Tail, "no space left on node[1]") || f.Log != wantLog {
		t.Errorf("the failure is %+v; want step.flaky[\"node[1]\"] on node[1], exit 3, its output in the tail, log %s", f, wantLog)
	}
	if a.Run.Status != workspace.RunFailed {
		t.Errorf("run status %s, want failed", a.Run.Status)
	}
	if log, _ := a.Run.StepLog("flaky", "node[1]"); !strings.Contains(string(log), "no space left on node[1]") {
		t.Errorf("the step log lacks the output:\n%s", log)
	}
	const runLog = "/var/tmp/realfail/runs.log"
	want := []map[string]int{
		{"first": 1, "flaky": 1, "after_flaky": 1, "independent": 1},
		{"first": 1, "flaky": 1, "independent": 1},
		{"first": 1, "flaky": 1, "after_flaky": 1, "independent": 1},
	}
	for i := range want {
		dockertest.CheckCounts(t, c.Specs[i].Name, c.RunCounts(t, i, runLog), want[i])
	}
	st := w.readState(t, "failure")
	if f := st.Steps[`step.flaky["node[1]"]`]; f == nil || f.Status != state.StatusFailed || !strings.Contains(f.Error, "3") {
		t.Errorf("state of the failed instance: %+v", f)
	}
	for _, a := range []string{`step.after_flaky["node[1]"]`, `step.gather["node[0]"]`} {
		if st.Steps[a] != nil {
			t.Errorf("%s was skipped but state has %+v", a, st.Steps[a])
		}
	}
	for _, a := range []string{`step.flaky["node[2]"]`, `step.independent["node[1]"]`, `step.after_flaky["node[0]"]`} {
		if s := st.Steps[a]; s == nil || s.Status != state.StatusApplied {
			t.Errorf("%s finished but state has %+v", a, s)
		}
	}

	fixed := w.with("broken_hosts=[]")
	var addrs []string
	for a := range w.changes(t, fixed) {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	if got := strings.Join(addrs, " "); got != `step.after_flaky["node[1]"] step.flaky["node[1]"] step.gather["node[0]"]` {
		t.Errorf("after the fix the plan changes %s; want only what did not finish", got)
	}
	w.mustApply(t, fixed, "apply")
	want[0]["gather"] = 1
	want[1]["flaky"], want[1]["after_flaky"] = 2, 1
	for i := range want {
		dockertest.CheckCounts(t, c.Specs[i].Name, c.RunCounts(t, i, runLog), want[i])
	}
	w.noChanges(t, fixed)
}

// testRealHostKey: after an apply pinned both host keys, node[1] gets a new
// one. plan and apply (at its refresh, before touching anything) refuse
// it, naming the host and the two ways to accept a new key; node[1]'s
// pinned key stays. After ForgetHostKey the next apply pins the new key
// and works; after another change, apply with Replace node[1] does the same.
func testRealHostKey(t *testing.T, c *dockertest.Cluster) {
	const ws = "hostkey"
	w := newRealWS(t, c, ws, "hostkey.hcl", 0, 1)
	w.mustApply(t, w.in, "apply")
	hostKey := func(i int) string {
		f := strings.Fields(c.MustExec(t, i, "cat /etc/ssh/ssh_host_ed25519_key.pub"))
		return f[0] + " " + f[1]
	}
	pinned := func(st *state.State, h string) string {
		f := strings.Fields(st.Hosts[h].SSH.HostKey)
		if len(f) < 2 {
			return ""
		}
		return f[0] + " " + f[1]
	}
	st := w.readState(t, ws)
	old0, old1 := hostKey(0), hostKey(1)
	if pinned(st, "node[0]") != old0 || pinned(st, "node[1]") != old1 {
		t.Fatalf("pinned keys %q, %q are not the hosts' keys %q, %q", pinned(st, "node[0]"), pinned(st, "node[1]"), old0, old1)
	}

	c.MustExec(t, 1, "rm -f /etc/ssh/ssh_host_* && /usr/local/sbin/diffuser-ssh-hostkeys && systemctl restart ssh")
	newKey := hostKey(1)
	if newKey == old1 {
		t.Fatal("the host key did not change")
	}
	// Something to do on node[1], so that apply must connect to it.
	c.MustExec(t, 1, "echo drifted > /var/tmp/realhostkey-stamp")
	for _, command := range []string{"plan", "apply"} {
		var err error
		if command == "plan" {
			var pl *workspace.Planned
			if pl, err = w.planOf(w.in, "plan"); err == nil {
				pl.Close()
			}
		} else {
			_, err = w.applyOf(w.in, "apply")
		}
		if err == nil {
			t.Errorf("%s with a changed host key: no error", command)
			continue
		}
		all := diagText(err)
		for _, want := range []string{"Host key changed", "host key of node[1]", "diffuser state forget-hostkey " + ws + " node[1]", "-replace=node[1]"} {
			if !strings.Contains(all, want) {
				t.Errorf("%s with a changed host key does not say %q:\n%s", command, want, all)
			}
		}
		if strings.Contains(all, "host key of node[0]") {
			t.Errorf("%s blames node[0]:\n%s", command, all)
		}
	}
	st = w.readState(t, ws)
	if pinned(st, "node[1]") != old1 {
		t.Errorf("the refused key replaced the pinned one")
	}
	if got := c.MustExec(t, 1, "cat /var/tmp/realhostkey-stamp"); got != "drifted\n" {
		t.Errorf("something reached node[1] through the refused key: stamp = %q", got)
	}

	if err := w.env.ForgetHostKey(context.Background(), ws, "node[1]"); err != nil {
		t.Fatalf("forget-hostkey: %v", err)
	}
	if st := w.readState(t, ws); pinned(st, "node[1]") != "" || pinned(st, "node[0]") != old0 {
		t.Errorf("after forget-hostkey node[1] has %q pinned, node[0] %q", pinned(st, "node[1]"), pinned(st, "node[0]"))
	}
	w.mustApply(t, w.in, "apply")
	st = w.readState(t, ws)
	if pinned(st, "node[1]") != newKey || pinned(st, "node[0]") != old0 {
		t.Errorf("after forget-hostkey and apply the pinned keys are %q, %q; want %q, %q",
			pinned(st, "node[0]"), pinned(st, "node[1]"), old0, newKey)
	}
	w.noChanges(t, w.in)

	// What the message also offers: Replace node[1], for a static host a
	// new machine at the same address, whose key is trusted on first use.
	c.MustExec(t, 1, "rm -f /etc/ssh/ssh_host_* && /usr/local/sbin/diffuser-ssh-hostkeys && systemctl restart ssh")
	newest := hostKey(1)
	if _, err := w.applyOf(w.in, "apply"); err == nil || !strings.Contains(diagText(err), "-replace=node[1]") {
		t.Errorf("apply after the second key change: %v, want an error offering -replace=node[1]", err)
	}
	w.mustApply(t, w.in, "apply", "node[1]")
	st = w.readState(t, ws)
	if pinned(st, "node[1]") != newest || pinned(st, "node[0]") != old0 {
		t.Errorf("after apply -replace=node[1] the pinned keys are %q, %q; want %q, %q",
			pinned(st, "node[0]"), pinned(st, "node[1]"), old0, newest)
	}
	w.noChanges(t, w.in)
}
