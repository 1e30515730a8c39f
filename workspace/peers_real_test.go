package workspace_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/workspace"
)

// Peers on the same host: another process holding apt's locks, another
// tool editing /etc/fstab, and a second diffuser workspace applying to the
// same static host at the same time (docs/reliability.md, "Peer tools on
// the same hosts").

const peersDir = "testdata/peers"

// newPeerWS is a workspace ws on host 0 of c with a recipe of
// testdata/peers.
func newPeerWS(t *testing.T, c *dockertest.Cluster, ws, recipe string) *realWS {
	t.Helper()
	s := newSysEnv(t, filepath.Join(c.Dir, ws, ".diffuser"))
	c.Authorize(t, s.data(), ws)
	site := c.Site(t, ws+".hcl", "node", 0)
	return &realWS{sysEnv: s, in: workspace.Inputs{Recipe: filepath.Join(peersDir, recipe), Site: site, Workspace: ws}}
}

// TestRealPeers drives one node container (Debian 12) as a static host.
func TestRealPeers(t *testing.T) {
	dockertest.NeedContainers(t)
	dockertest.Serialize(t)
	c := dockertest.Launch(t, 1)
	// Until the boot is over, systemd-tmpfiles may empty /tmp under the
	// subtests' files (seen: the lock holder's log and ready file gone).
	start := time.Now()
	state, _ := c.Exec(0, "timeout 60 systemctl is-system-running --wait")
	t.Logf("boot over (%s) in %s", strings.TrimSpace(state), time.Since(start).Round(100*time.Millisecond))
	t.Run("apt_locks", func(t *testing.T) { testPeerAptLocks(t, c) })
	t.Run("workspaces", func(t *testing.T) { testPeerWorkspaces(t, c) })
	t.Run("tools", func(t *testing.T) { testPeerTools(t, c) })
}

// holdLockScript holds an fcntl lock on path (as apt and dpkg take theirs;
// flock(1) would not conflict with them) for secs seconds, after writing
// ready.
const holdLockScript = `import fcntl, os, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
with open(sys.argv[2], "w") as r:
    r.write(str(os.getpid()))
time.sleep(float(sys.argv[3]))
`

// holdLock starts a process on host 0 holding an apt lock for secs
// seconds and returns once it holds it. The process is killed at cleanup
// if it still runs.
func holdLock(t *testing.T, c *dockertest.Cluster, path string, secs int) {
	t.Helper()
	ready := fmt.Sprintf("/tmp/peers-lock-ready-%d", time.Now().UnixNano())
	if out, err := c.ExecArgs(0, "sh", "-c", `python3 -c "$1" "$2" "$3" "$4" >/tmp/peers-holder.log 2>&1 &`, "sh", holdLockScript, path, ready, fmt.Sprint(secs)); err != nil {
		t.Fatalf("starting the lock holder: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = c.Exec(0, "test -s "+ready+" && kill $(cat "+ready+") 2>/dev/null") })
	for i := 0; ; i++ {
		if _, err := c.Exec(0, "test -s "+ready); err == nil {
			return
		}
		if i == 100 {
			out, _ := c.Exec(0, "cat /tmp/peers-holder.log")
			t.Fatalf("the lock holder did not take %s within 10 s: %s", path, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testPeerAptLocks: while another process holds /var/lib/apt/lists/lock
// (apt-get update does not wait for it) for 15 s, a package step with
// update_cache applies; then, while one holds /var/cache/apt/archives/lock
// (apt-get install does not wait for it either), another package installs.
// Both succeed after waiting, and the step logs show apt's refusals.
func testPeerAptLocks(t *testing.T, c *dockertest.Cluster) {
	const hold = 15
	w := newPeerWS(t, c, "aptlocks", "apt.hcl")
	for _, tc := range []struct {
		lock, pkg string
		update    bool
	}{
		{"/var/lib/apt/lists/lock", "hello", true},
		{"/var/cache/apt/archives/lock", "sl", false},
	} {
		holdLock(t, c, tc.lock, hold)
		start := time.Now()
		a := w.mustApply(t, w.with("package="+tc.pkg, fmt.Sprintf("update_cache=%t", tc.update)), "apply")
		took := time.Since(start)
		if took < (hold-2)*time.Second {
			t.Errorf("installing %s while %s was held took %s, less than the %d s it was held", tc.pkg, tc.lock, took.Round(time.Second), hold)
		}
		c.MustExec(t, 0, "dpkg-query -W -f='${Status}\\n' "+tc.pkg+" | grep -qx 'install ok installed'")
		log, err := a.Run.StepLog("pkg", "node[0]")
		if err != nil {
			t.Fatal(err)
		}
		if want := "E: Could not get lock " + tc.lock + ". It is held by process"; !strings.Contains(string(log), want) {
			t.Errorf("the step log does not show apt refusing while %s was held (%q):\n%s", tc.lock, want, log)
		}
		t.Logf("%s installed in %s while another process held %s for %d s", tc.pkg, took.Round(time.Second), tc.lock, hold)
	}
}

// fstabPeerScript appends n lines to /etc/fstab, one every 50 ms, each by
// reading the file, writing a temp file and renaming it over fstab, under
// diffuser's lock (flock(1) on /run/lock/diffuser-fstab.lock): a tool that
// cooperates, as a second diffuser does.
const fstabPeerScript = `i=0
while [ $i -lt "$1" ]; do
  flock /run/lock/diffuser-fstab.lock sh -c 'cp -p /etc/fstab /etc/fstab.peer && echo "peer:/x$1 /srv/peer/x$1 nfs noauto 0 0" >> /etc/fstab.peer && mv /etc/fstab.peer /etc/fstab' sh $i
  i=$((i+1))
  sleep 0.05
done`

// testPeerWorkspaces: two workspaces apply the mounts recipe (four fstab
// lines, an apt-get update and a package each) to the same host at the
// same time while a peer appends 40 lines to /etc/fstab; both installs
// succeed (one apt-get waits for the other's lock) and every line of all
// three survives.
// Then one workspace is destroyed while the other applies again and the
// peer writes again: only the destroyed workspace's lines and mounts go.
func testPeerWorkspaces(t *testing.T, c *dockertest.Cluster) {
	const peerLines = 40
	alpha := newPeerWS(t, c, "alpha", "mounts.hcl")
	beta := newPeerWS(t, c, "beta", "mounts.hcl")
	alphaIn := alpha.with("name=alpha", "package=bc")
	betaIn := beta.with("name=beta", "package=figlet")
	c.MustExec(t, 0, "cp -p /etc/fstab /tmp/fstab.before-peers 2>/dev/null || true")
	t.Cleanup(func() {
		_, _ = c.Exec(0, "for m in $(findmnt -rn -o TARGET | grep '^/srv/peers/'); do umount $m; done; cp -p /tmp/fstab.before-peers /etc/fstab")
	})

	peer := func(wg *sync.WaitGroup, tag string) {
		defer wg.Done()
		script := strings.ReplaceAll(fstabPeerScript, "/x$1", "/"+tag+"$1")
		if out, err := c.ExecArgs(0, "sh", "-c", script, "sh", fmt.Sprint(peerLines)); err != nil {
			t.Errorf("the fstab peer: %v %s", err, out)
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go peer(&wg, "a")
	alphaRes := goApply(t, &wg, alpha, alphaIn, "apply")
	betaRes := goApply(t, &wg, beta, betaIn, "apply")
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	fstab := c.MustExec(t, 0, "cat /etc/fstab")
	for _, name := range []string{"alpha", "beta"} {
		for i := 0; i < 4; i++ {
			target := fmt.Sprintf("/srv/peers/%s/m%d", name, i)
			if !strings.Contains(fstab, "tmpfs "+target+" tmpfs defaults 0 0\n") {
				t.Errorf("the fstab line for %s is lost", target)
			}
			c.MustExec(t, 0, "findmnt --mountpoint "+target+" >/dev/null")
		}
	}
	peerLinesIn(t, fstab, "peer:/a", peerLines)
	c.MustExec(t, 0, "bc --version >/dev/null && figlet -v >/dev/null")
	for ws, r := range map[string]*applied{"alpha": alphaRes, "beta": betaRes} {
		log, _ := r.Run.StepLog("pkg", "node[0]")
		for _, l := range strings.Split(string(log), "\n") {
			if strings.Contains(l, "E: Could not get lock") {
				t.Logf("%s's package step met an apt lock (the other workspace's apt-get): %s", ws, l)
			}
		}
	}

	wg.Add(1)
	go peer(&wg, "b")
	_ = goApply(t, &wg, alpha, alphaIn, "destroy")
	_ = goApply(t, &wg, beta, betaIn, "apply")
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	fstab = c.MustExec(t, 0, "cat /etc/fstab")
	for _, name := range []string{"alpha", "beta"} {
		for i := 0; i < 4; i++ {
			target := fmt.Sprintf("/srv/peers/%s/m%d", name, i)
			_, err := c.Exec(0, "findmnt --mountpoint "+target)
			if has := strings.Contains(fstab, " "+target+" "); has != (name == "beta") || (err == nil) != (name == "beta") {
				t.Errorf("after destroying alpha: %s in fstab = %v, mounted = %v; want both %v", target, has, err == nil, name == "beta")
			}
		}
	}
	peerLinesIn(t, fstab, "peer:/a", peerLines)
	peerLinesIn(t, fstab, "peer:/b", peerLines)
	if out := c.MustExec(t, 0, "ls -a /etc | grep -c '^\\.fstab\\.diffuser-' || true"); strings.TrimSpace(out) != "0" {
		t.Errorf("stage files left in /etc: %s", out)
	}
}

// goApply applies (or destroys) in on a goroutine of wg, reporting a
// failure with t.Errorf (t.Fatal belongs to the test's goroutine). The
// result is filled in when wg is done.
func goApply(t *testing.T, wg *sync.WaitGroup, w *realWS, in workspace.Inputs, command string) *applied {
	res := &applied{}
	wg.Go(func() {
		start := time.Now()
		a, err := w.applyOf(in, command)
		*res = a
		switch {
		case err != nil:
			t.Errorf("%s %s: %v", in.Workspace, command, err)
		case a.Res != nil && len(a.Res.Failures) > 0:
			t.Errorf("%s %s failed: %+v", in.Workspace, command, a.Outcome().Failures)
		default:
			t.Logf("%s %s: %d done in %s", in.Workspace, command, a.Outcome().Done, time.Since(start).Round(100*time.Millisecond))
			if command == "apply" && a.Run != nil {
				t.Logf("%s: %d fstab swaps tried (one per changed mount step without a retry)", in.Workspace, swapsTried(a))
			}
		}
	})
	return res
}

// swapsTried counts the fstab swap commands in an apply's step logs: more
// than one per mount step means some found fstab changed and retried.
func swapsTried(a applied) int {
	n := 0
	for _, step := range a.Run.LoggedSteps() {
		b, _ := a.Run.StepLog(step, "node[0]")
		n += strings.Count(string(b), "f=/etc/fstab s=/etc/.fstab.diffuser-")
	}
	return n
}

// peerLinesIn checks that fstab has n lines starting with prefix.
func peerLinesIn(t *testing.T, fstab, prefix string, n int) {
	t.Helper()
	got := 0
	for _, l := range strings.Split(fstab, "\n") {
		if strings.HasPrefix(l, prefix) {
			got++
		}
	}
	if got != n {
		t.Errorf("/etc/fstab has %d of the peer's %d lines starting %q", got, n, prefix)
	}
}
