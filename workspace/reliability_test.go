package workspace_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"
	"diffuser/engine"
	"diffuser/state"
	"diffuser/workspace"
)

// Reliability tests of the application on real hosts: a host lost in the
// middle of an apply, destroy isolation between workspaces, format's
// refusal to touch a filesystem, hostile values in every kind. Those that
// SIGKILL a real diffuser process, hold the lock against another process,
// or check what a person reads (confirmation prompts, every printed line
// for secrets) are the CLI's (cmd/diffuser reliability_test.go).

const relDir = "testdata/reliability"

// dockerWS is one docker-provider workspace.
type dockerWS struct {
	*sysEnv
	dir, site, ws, recipe string
}

// newDockerWS writes a docker site file (the mirror reachable from
// containers) and registers cleanup: destroy, then removal of anything
// still labelled with a cluster of this workspace, also when the test
// fails.
func newDockerWS(t *testing.T, recipe, ws string) *dockerWS {
	t.Helper()
	dockertest.NeedContainers(t)
	dir := t.TempDir()
	w := &dockerWS{sysEnv: newSysEnv(t, filepath.Join(dir, ".diffuser")), dir: dir,
		site: filepath.Join(dir, "diffuser.hcl"), ws: ws, recipe: recipe}
	site := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", dockertest.MirrorHosts(t))
	if err := os.WriteFile(w.site, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.cleanup(t) })
	return w
}

// sibling is another workspace of the same recipe in the same data dir.
func (w *dockerWS) sibling(t *testing.T, ws string) *dockerWS {
	b := &dockerWS{sysEnv: w.sysEnv, dir: w.dir, site: w.site, ws: ws, recipe: w.recipe}
	t.Cleanup(func() { b.cleanup(t) })
	return b
}

func (w *dockerWS) in(vars ...string) workspace.Inputs {
	return workspace.Inputs{Recipe: w.recipe, Site: w.site, Workspace: w.ws, Vars: vars}
}

// clusterPrefix starts the cluster name of every cluster this workspace
// ever made (clusters are named <workspace>-<lineage prefix>).
// stopHost stops host's container as a machine that goes away would
// (docker stop, 20 s to shut down), in the middle of whatever runs on it,
// and returns the container's ID.
func (w *dockerWS) stopHost(t *testing.T, host string) string {
	t.Helper()
	victim := w.readState(t, w.ws).Hosts[host].ProviderID
	if b, err := exec.Command("docker", "stop", "-t", "20", victim).CombinedOutput(); err != nil {
		t.Fatalf("docker stop %s: %v\n%s", host, err, b)
	}
	return victim
}

func (w *dockerWS) clusterPrefix() string { return workspace.Sanitize(w.ws) + "-" }

func (w *dockerWS) cleanup(t *testing.T) {
	if _, err := os.Stat(w.env.Layout().StateFile(w.ws)); err == nil {
		a, err := w.applyOf(w.in(), "destroy")
		if (err != nil || a.Outcome().Failed > 0) && !t.Failed() {
			t.Errorf("destroy at cleanup: %v %+v", err, a.Outcome().Failures)
		}
	}
	left := dockertest.ContainersWithPrefix(t, w.clusterPrefix())
	clusters := map[string]bool{}
	for _, c := range left {
		clusters[c.Cluster] = true
	}
	if st, err := w.env.ReadState(w.ws); err == nil && st.Cluster != "" {
		clusters[st.Cluster] = true
	}
	dockertest.RemoveClusters(t, w.env.Layout().Workspace(w.ws), clusters)
	if len(left) > 0 && !t.Failed() {
		t.Errorf("destroy left containers behind: %v", left)
	}
}

// TestReliabilityDocker: a host stopped mid-apply, and two workspaces side
// by side. (The SIGKILLs and the confirmation of a data-destroying replace
// are the CLI's TestReliabilityDocker.)
func TestReliabilityDocker(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	t.Run("host loss", testHostLoss)
	t.Run("isolation", testDestroyIsolation)
}

// hostRuns counts the run log lines of a container by first word.
func hostRuns(t *testing.T, container, log string) map[string]int {
	t.Helper()
	out, err := exec.Command("docker", "exec", container, "cat", log).Output()
	if err != nil {
		t.Fatalf("%s: %s: %v", container, log, err)
	}
	m := map[string]int{}
	for _, line := range strings.Fields(string(out)) {
		m[line]++
	}
	return m
}

// testHostLoss stops server[1]'s container while one of its steps runs.
// That step fails with a failure naming the host, the steps after it on
// server[1] and the step waiting for both servers are skipped, server[0]'s
// own chain finishes, and state records all of it. The next apply starts
// the stopped container, runs only what did not finish, and verify passes;
// so do they after a replace of server[1] gives it a new container.
func testHostLoss(t *testing.T) {
	w := newDockerWS(t, filepath.Join(relDir, "hostloss.hcl"), "hostloss")
	started := make(chan struct{})
	var once sync.Once
	type result struct {
		a   applied
		err error
	}
	done := make(chan result, 1)
	pl, err := w.planOf(w.in(), "apply")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer pl.Close()
		res, err := pl.Apply(context.Background(), workspace.ApplyOptions{OnEvent: func(ev engine.Event) {
			if ev.Type == engine.EvStart && ev.Step == "s3" && ev.Host == "server[1]" {
				once.Do(func() { close(started) })
			}
		}})
		done <- result{applied{Plan: pl.Plan, Res: res, Run: pl.Run, State: pl.WS.State}, err}
	}()
	select {
	case <-started:
	case r := <-done:
		t.Fatalf("apply ended before server[1] s3 started: %v %+v", r.err, r.a.Outcome())
	case <-time.After(5 * time.Minute):
		t.Fatal("server[1] s3 did not start within 5 minutes")
	}
	victim := w.stopHost(t, "server[1]")
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Minute):
		t.Fatal("apply did not end within 5 minutes of the host loss")
	}
	if r.err != nil {
		t.Fatalf("apply with a host lost: %v", r.err)
	}
	o := r.a.Outcome()
	s3failed := false
	for _, f := range o.Failures {
		if f.Host != "server[1]" {
			t.Errorf("apply with server[1] lost failed on %s too: %+v", f.Host, f)
		}
		s3failed = s3failed || f.Address == `step.s3["server[1]"]`
	}
	if !s3failed || o.Skipped == 0 {
		t.Errorf("apply with a host lost: %+v; want step.s3[\"server[1]\"] failed on server[1], dependents skipped", o)
	}
	if r.a.Run.Status != workspace.RunFailed {
		t.Errorf("the run's status is %s, want failed", r.a.Run.Status)
	}
	st := w.readState(t, w.ws)
	if s3 := st.Steps[`step.s3["server[1]"]`]; s3 == nil || s3.Status != state.StatusFailed || s3.Error == "" {
		t.Errorf("state of the interrupted step: %+v", s3)
	}
	for _, a := range []string{`step.s4["server[1]"]`, `step.ready["server[1]"]`, `step.cluster["server[0]"]`} {
		if st.Steps[a] != nil {
			t.Errorf("%s should have been skipped, state has %+v", a, st.Steps[a])
		}
	}
	if r := st.Steps[`step.ready["server[0]"]`]; r == nil || r.Status != state.StatusApplied {
		t.Errorf("server[0]'s own chain did not finish: %+v", r)
	}

	if c := w.changes(t, w.in())[`launch["server[1]"]`]; c == nil || c.Action != engine.Start {
		t.Errorf("plan for the stopped host: %+v, want start", c)
	}
	w.mustApply(t, w.in(), "apply")
	runs := hostRuns(t, victim, "/var/lib/diffuser-hostloss/runs.log")
	// s3 logged its name before it was cut off, so it ran twice.
	want := map[string]int{"prep": 1, "s1": 1, "s2": 1, "s3": 2, "s4": 1}
	dockertest.CheckCounts(t, "server[1]", runs, want)
	dockertest.CheckCounts(t, "server[0]", hostRuns(t, st.Hosts["server[0]"].ProviderID, "/var/lib/diffuser-hostloss/runs.log"),
		map[string]int{"prep": 1, "s1": 1, "s2": 1, "s3": 1, "s4": 1, "cluster": 1})
	w.verify(t, w.in())
	w.noChanges(t, w.in())

	w.mustApply(t, w.in(), "apply", "server[1]")
	st = w.readState(t, w.ws)
	if st.Hosts["server[1]"].ProviderID == victim {
		t.Errorf("replacing server[1] kept the container")
	}
	dockertest.CheckOneContainerPerHost(t, w.clusterPrefix())
	if cs := dockertest.ContainersWithPrefix(t, w.clusterPrefix()); len(cs) != 2 {
		t.Errorf("%d containers after the replace, want 2", len(cs))
	}
	w.verify(t, w.in())
	w.noChanges(t, w.in())
}

// testDestroyIsolation: destroy removes what its own workspace's state
// says it made and nothing else: a second workspace of the same recipe
// keeps its container and its no-op plan.
func testDestroyIsolation(t *testing.T) {
	a := newDockerWS(t, filepath.Join(relDir, "tiny.hcl"), "tiny-a")
	b := a.sibling(t, "tiny-b")
	a.mustApply(t, a.in(), "apply")
	b.mustApply(t, b.in(), "apply")
	ca, cb := dockertest.ContainersWithPrefix(t, a.clusterPrefix()), dockertest.ContainersWithPrefix(t, b.clusterPrefix())
	if len(ca) != 1 || len(cb) != 1 || ca[0].Cluster == cb[0].Cluster {
		t.Fatalf("two workspaces: %v and %v, want one container each in its own cluster", ca, cb)
	}
	a.mustApply(t, a.in(), "destroy")
	if left := dockertest.ContainersWithPrefix(t, a.clusterPrefix()); len(left) != 0 {
		t.Errorf("destroy of %s left %v", a.ws, left)
	}
	if now := dockertest.ContainersWithPrefix(t, b.clusterPrefix()); len(now) != 1 || now[0].ID != cb[0].ID || !now[0].Running {
		t.Errorf("destroy of %s touched %s: %v, was %v", a.ws, b.ws, now, cb)
	}
	b.noChanges(t, b.in())
	if out, err := exec.Command("docker", "network", "ls", "-q", "--filter", "label="+docker.LabelCluster+"="+cb[0].Cluster).Output(); err != nil || len(strings.TrimSpace(string(out))) == 0 {
		t.Errorf("the network of %s is gone: %v", b.ws, err)
	}
}

// TestReliabilityStatic: on two node containers driven as static hosts,
// format's refusal to touch a filesystem and hostile values in every kind.
// (The lock under contention between processes and the secrets check of
// everything printed are the CLI's TestReliabilityStatic.)
func TestReliabilityStatic(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 2)
	t.Run("format", func(t *testing.T) { testFormatGuard(t, c) })
	t.Run("injection", func(t *testing.T) { testInjection(t, c) })
}

// staticWS is a workspace on the cluster's hosts as static hosts.
func staticWS(t *testing.T, c *dockertest.Cluster, ws, recipe string, hosts ...int) (*sysEnv, workspace.Inputs) {
	t.Helper()
	s := newSysEnv(t, filepath.Join(c.Dir, ws, ".diffuser"))
	c.Authorize(t, s.data(), ws)
	site := c.Site(t, ws+".hcl", "node", hosts...)
	return s, workspace.Inputs{Recipe: recipe, Site: site, Workspace: ws}
}

// testFormatGuard: node[0]'s volume holds an ext4 filesystem with data,
// node[1]'s is blank. Applying (twice) a recipe that formats xfs on both
// volumes: node[0] fails with a message saying what the device holds and
// that force would destroy it, its mount is skipped, its data is intact;
// node[1] (blank) is formatted and mounted. Only force = true wipes it.
func testFormatGuard(t *testing.T, c *dockertest.Cluster) {
	const ws = "format"
	s, in := staticWS(t, c, ws, filepath.Join(relDir, "format.hcl"), 0, 1)
	dev := dockertest.DataDevice
	c.MustExec(t, 0, "wipefs -aq "+dev+" && mkfs.ext4 -q -F "+dev+" && mkdir -p /mnt/old && mount "+dev+" /mnt/old && "+
		"head -c 1048576 /dev/urandom > /mnt/old/precious && sha256sum /mnt/old/precious > /root/precious.sum && umount /mnt/old")
	c.MustExec(t, 1, "wipefs -aq "+dev)

	for round := 1; round <= 2; round++ {
		a, err := s.applyOf(in, "apply")
		if err != nil {
			t.Fatalf("apply %d over ext4: %v", round, err)
		}
		o := a.Outcome()
		want := "refusing to format " + dev + " as xfs: it holds ext4; force = true would destroy its data"
		if len(o.Failures) != 1 || o.Failures[0].Address != `step.fs["node[0]"]` || o.Failures[0].Host != "node[0]" ||
			!strings.Contains(o.Failures[0].Error+o.Failures[0].Tail, want) || o.Skipped != 1 {
			t.Errorf("apply %d: %+v; want step.fs[\"node[0]\"] failed on node[0] saying %q, 1 dependent skipped", round, o, want)
		}
		if got := strings.TrimSpace(c.MustExec(t, 0, "blkid -p -o value -s TYPE "+dev)); got != "ext4" {
			t.Fatalf("apply %d: node[0]'s volume holds %q now", round, got)
		}
		// The kernel may still hold the device a moment after the apply's
		// probes under load ("already mounted or mount point busy"): retry.
		c.MustExec(t, 0, "for i in 1 2 3 4 5; do mount -o ro "+dev+" /mnt/old && break; sleep 1; done; "+
			"(cd / && sha256sum -c --quiet /root/precious.sum); r=$?; umount /mnt/old; exit $r")
	}
	st := s.readState(t, ws)
	if s := st.Steps[`step.fs["node[0]"]`]; s == nil || s.Status != state.StatusFailed {
		t.Errorf("state of the refused format: %+v", s)
	}
	if s := st.Steps[`step.mnt["node[1]"]`]; s == nil || s.Status != state.StatusApplied {
		t.Errorf("node[1] was not formatted and mounted: %+v", s)
	}
	if got := strings.TrimSpace(c.MustExec(t, 1, "findmnt -rn -o FSTYPE --mountpoint /srv/guarded")); got != "xfs" {
		t.Errorf("node[1]: /srv/guarded is %q", got)
	}

	force := in
	force.Vars = []string{"force=true"}
	s.mustApply(t, force, "apply")
	if got := strings.TrimSpace(c.MustExec(t, 0, "findmnt -rn -o FSTYPE --mountpoint /srv/guarded")); got != "xfs" {
		t.Errorf("node[0] after force = true: /srv/guarded is %q", got)
	}
	s.noChanges(t, force)
	for i := range c.Hosts {
		c.MustExec(t, i, "umount /srv/guarded")
	}
}

// The values injection.hcl's variables hold, as Go strings.
const (
	evilText = "$(touch /tmp/pwned) `touch /tmp/pwned`; touch /tmp/pwned && rm -rf /tmp/diffuser-canary || rm -rf /tmp/diffuser-canary | sh -c 'touch /tmp/pwned' \"$HOME\" \\ ' \" ${IFS}\nsecond line; touch /tmp/pwned"
	evilWord = "x$(touch${IFS}pwned)`touch${IFS}pwned`;touch${IFS}pwned;rm${IFS}-rf${IFS}..'\"\\*?[a]{b,c}"
)

// testInjection applies injection.hcl: hostile values through shellquote
// in a run command, in env, creates and capture, in a file's path and
// content, a mount target and a package name. Afterwards no payload has
// run on any host (no file named pwned anywhere, the canary directory the
// payloads remove is there) and every value arrived byte for byte. The
// package step fails, as a package of that name does not exist.
func testInjection(t *testing.T, c *dockertest.Cluster) {
	const ws = "injection"
	s, in := staticWS(t, c, ws, filepath.Join(relDir, "injection.hcl"), 0, 1)
	for i := range c.Hosts {
		c.MustExec(t, i, "rm -f /tmp/pwned /root/pwned /pwned; mkdir -p /tmp/diffuser-canary")
	}
	a, err := s.applyOf(in, "apply")
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	o := a.Outcome()
	failed := 0
	for _, f := range o.Failures {
		if strings.HasPrefix(f.Address, "step.package[") {
			failed++
		} else {
			t.Errorf("apply failed %s: %+v", f.Address, f)
		}
	}
	if failed != 2 {
		t.Errorf("apply: %+v, want only the package step failing, on both hosts", o)
	}
	st := s.readState(t, ws)
	dir := "/tmp/diffuser-inject"
	for i, h := range c.Specs {
		if got := c.MustExec(t, i, "find / -xdev -name pwned 2>/dev/null; test -d /tmp/diffuser-canary || echo canary removed"); got != "" {
			t.Errorf("%s: a payload ran: %s", h.Name, got)
		}
		for _, f := range []string{dir + "/echo.txt", dir + "/env.txt", dir + "/" + evilWord} {
			if got, err := c.ExecArgs(i, "cat", f); err != nil || got != evilText {
				t.Errorf("%s: %q holds %q (%v), want the value byte for byte", h.Name, f, got, err)
			}
		}
		if got, err := c.ExecArgs(i, "findmnt", "-rn", "-o", "FSTYPE", "--mountpoint", dir+"/mnt-"+evilWord); err != nil || strings.TrimSpace(got) != "tmpfs" {
			t.Errorf("%s: the mount at the hostile target: %q %v", h.Name, got, err)
		}
		if s := st.Steps[fmt.Sprintf("step.echo[%q]", h.Name)]; s == nil || s.Outputs["echoed"] != strings.TrimSpace(evilText) {
			t.Errorf("%s: captured %+v", h.Name, s)
		}
	}
	// Refresh reads the hostile paths back: no drift.
	changes := s.changes(t, in)
	for addr := range changes {
		if !strings.HasPrefix(addr, "step.package[") {
			t.Errorf("plan after apply changes %s: %+v", addr, changes[addr])
		}
	}
	for i := range c.Hosts {
		if _, err := c.ExecArgs(i, "umount", dir+"/mnt-"+evilWord); err != nil {
			t.Errorf("umount: %v", err)
		}
	}
}

// randomSuffix makes workspace names unique across runs (their clusters
// are named after them).
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
