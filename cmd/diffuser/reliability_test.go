package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/state"
	"diffuser/workspace"

	"golang.org/x/crypto/ssh"
)

// Reliability and security (issue 8), on the docker provider: what a
// SIGKILL, a lost host, a volume-size change and a second workspace do to
// a real local deploy. docs/reliability.md says what each test proves;
// `make reliability` runs these with the slow ones (-tags reliability).

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dockerWorkspace is one docker-provider workspace driven through the CLI.
type dockerWorkspace struct {
	cliEnv
	dir, site, ws string
	recipe        string
}

// newDockerWorkspace writes a docker site file (the mirror reachable from
// containers) and registers cleanup: destroy through the CLI, then removal
// of anything still labelled with a cluster of this workspace (from an
// apply killed before it recorded what it made), also when the test fails.
func newDockerWorkspace(t *testing.T, recipe, ws string) *dockerWorkspace {
	t.Helper()
	needContainers(t)
	dir := t.TempDir()
	w := &dockerWorkspace{cliEnv: cliEnv{data: filepath.Join(dir, ".diffuser")}, dir: dir,
		site: filepath.Join(dir, "diffuser.hcl"), ws: ws, recipe: recipe}
	site := fmt.Sprintf("default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n}\n", mirrorHosts(t))
	if err := os.WriteFile(w.site, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.cleanup(t) })
	return w
}

// args are the flags every command on this workspace takes after the verb.
func (w *dockerWorkspace) args(extra ...string) []string {
	return append([]string{w.recipe, "--site", w.site, "--workspace", w.ws}, extra...)
}

func (w *dockerWorkspace) apply(t *testing.T, extra ...string) string {
	t.Helper()
	return w.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain"}, w.args(extra...)...)...)
}

// clusterPrefix starts the cluster name of every cluster this workspace
// ever made (the CLI names clusters <workspace>-<lineage prefix>).
func (w *dockerWorkspace) clusterPrefix() string { return workspace.Sanitize(w.ws) + "-" }

func containersWithPrefix(t *testing.T, prefix string) []dockertest.Container {
	t.Helper()
	return dockertest.ContainersWithPrefix(t, prefix)
}

func (w *dockerWorkspace) cleanup(t *testing.T) {
	code, out, errs := w.run(t, "", append([]string{"destroy", "-auto-approve", "--progress", "plain"}, w.args()...)...)
	if code != 0 && !t.Failed() {
		t.Errorf("destroy at cleanup: exit %d\n%s%s", code, out, errs)
	}
	left := containersWithPrefix(t, w.clusterPrefix())
	clusters := map[string]bool{}
	for _, c := range left {
		clusters[c.Cluster] = true
	}
	if st, err := state.Open(filepath.Join(w.data, w.ws)).Load(); err == nil && st.Cluster != "" {
		clusters[st.Cluster] = true
	}
	dockertest.RemoveClusters(t, filepath.Join(w.data, w.ws), clusters)
	if len(left) > 0 && !t.Failed() {
		t.Errorf("destroy left containers behind: %v", left)
	}
}

// crashResult counts what crashLoop did.
type crashResult struct {
	kills, inLaunch, inSteps int // SIGKILLs that hit a running apply, and where
	deploys, converged       int
	dups, reruns             int // runs that broke the rule; allowed re-runs of in-flight steps
	unlockSaid               map[string]int
}

func (r crashResult) String() string {
	return fmt.Sprintf("%d kills tried (%d during launches, %d during steps), %d of %d deploys converged, %d duplicates found (in-flight re-runs, allowed: %d)",
		r.kills, r.inLaunch, r.inSteps, r.converged, r.deploys, r.dups, r.reruns)
}

// crashLoop deploys testdata/reliability/crash.hcl (3 containers, 12
// chained steps each) with a real diffuser process and SIGKILLs it at
// random moments, applying again after each kill until an apply finishes;
// then it destroys and deploys again until wantKills kills have landed.
// After every kill: state parses, `state unlock` finds the lock already
// gone with its process, and no host has two containers. After every
// convergence: plan is a no-op, exactly one container per host, the ones
// state records, and no step recorded as applied ran again (runs are told
// apart by the time they started: every step logs it on its host).
func crashLoop(t *testing.T, wantKills int) crashResult {
	bin := buildDiffuser(t)
	w := newDockerWorkspace(t, filepath.Join(relDir, "crash.hcl"), "crash"+randHex(3))
	const hosts, stepsPerHost = 3, 12
	seed := time.Now().UnixNano()
	rng := mrand.New(mrand.NewPCG(uint64(seed), 1))
	t.Logf("kill seed %d", seed)
	res := crashResult{unlockSaid: map[string]int{}}
	launchTime := 20 * time.Second // a guess until a deploy ran unkilled
	var full time.Duration         // how long an unkilled deploy from nothing took
	for res.kills < wantKills {
		if res.deploys >= 2*wantKills+3 {
			t.Fatalf("only %d kills landed in %d deploys", res.kills, res.deploys)
		}
		res.deploys++
		var ledger killLedger
		var starts []time.Time
		for attempt := 1; ; attempt++ {
			if attempt > 40 {
				t.Fatalf("deploy %d: no convergence after %d attempts", res.deploys, attempt-1)
			}
			before := loadState(t, w.data, w.ws)
			applied := 0
			for _, i := range before.Steps {
				if i.Status == state.StatusApplied {
					applied++
				}
			}
			bound := 2*time.Second + time.Duration((hosts*stepsPerHost-applied)/hosts)*400*time.Millisecond
			if len(before.Hosts) < hosts {
				bound += launchTime
			}
			if full > 0 {
				// Measured: kill within the time the rest of the work takes,
				// so that kills land on a fast, idle machine too.
				frac := 1.0
				if len(before.Hosts) == hosts {
					frac = float64(hosts*stepsPerHost-applied) / float64(hosts*stepsPerHost)
				}
				bound = time.Duration(frac*float64(full)) + 300*time.Millisecond
			}
			out := filepath.Join(w.dir, fmt.Sprintf("deploy%d-apply%d.out", res.deploys, attempt))
			start := time.Now()
			starts = append(starts, start)
			p := startDiffuser(t, bin, w.data, out, append([]string{"apply", "-auto-approve", "--progress", "plain"}, w.args()...)...)
			killed := false
			if res.kills < wantKills {
				d := time.Duration(rng.Int64N(int64(bound)))
				select {
				case <-p.done:
				case <-time.After(d):
				}
				if killed = p.kill(); killed {
					res.kills++
				}
			}
			code := p.wait(10 * time.Minute)
			time.Sleep(time.Second) // let commands a killed client left running start and log
			after := loadState(t, w.data, w.ws)
			ledger.after(after)
			checkOneContainerPerHost(t, w.clusterPrefix())
			if killed {
				where := "steps"
				if len(before.Hosts) < hosts {
					where, res.inLaunch = "launches", res.inLaunch+1
				} else {
					res.inSteps++
				}
				t.Logf("deploy %d attempt %d: SIGKILL after %s during %s (%d hosts, %d steps applied before; %d, %d after)",
					res.deploys, attempt, time.Since(start).Round(time.Millisecond), where, len(before.Hosts), applied, len(after.Hosts), len(ledger.last()))
				// A flock lock ends with its holder: nothing to break.
				code, msg, errs := w.run(t, "", "state", "unlock", w.ws)
				switch {
				case code != 0:
					t.Fatalf("state unlock after a kill: exit %d\n%s%s", code, msg, errs)
				case strings.Contains(msg, "ended without releasing the lock, and the lock ended with its process"):
					res.unlockSaid["dead holder named"]++
				case strings.Contains(msg, "was not locked"):
					res.unlockSaid["not locked yet"]++ // killed before it took the lock
				default:
					t.Errorf("state unlock after a kill says %q", msg)
				}
				continue
			}
			if code != 0 {
				t.Fatalf("deploy %d attempt %d exited %d:\n%s", res.deploys, attempt, code, readFile(t, out))
			}
			if attempt == 1 {
				full = time.Since(start)
			}
			break
		}
		w.noChanges(t, w.args()...)
		st := loadState(t, w.data, w.ws)
		cs := containersWithPrefix(t, w.clusterPrefix())
		if len(cs) != hosts {
			t.Errorf("deploy %d: %d containers after converging, want %d: %v", res.deploys, len(cs), hosts, cs)
		}
		runs := map[string][]int{}
		for _, c := range cs {
			h := st.Hosts[c.Name]
			if h == nil || h.ProviderID != c.ID || c.Cluster != st.Cluster {
				t.Errorf("container %s (%s of %s) is not the one state records: %+v", c.ID[:12], c.Name, c.Cluster, h)
				continue
			}
			log, err := exec.Command("docker", "exec", c.ID, "cat", "/var/lib/diffuser-crash/runs.log").Output()
			if err != nil {
				t.Fatalf("%s: run log: %v", c.Name, err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
				f := strings.Fields(line)
				ns, err := strconv.ParseInt(f[len(f)-1], 10, 64)
				if len(f) != 2 || err != nil {
					t.Errorf("%s: bad run log line %q", c.Name, line)
					continue
				}
				attempt := sort.Search(len(starts), func(k int) bool { return starts[k].UnixNano() > ns }) // first attempt started after ns
				addr := fmt.Sprintf("step.%s[%q]", f[0], c.Name)
				runs[addr] = append(runs[addr], attempt)
			}
		}
		for _, c := range cs {
			for s := 1; s <= stepsPerHost; s++ {
				if addr := fmt.Sprintf("step.s%02d[%q]", s, c.Name); len(runs[addr]) == 0 {
					t.Errorf("%s never ran", addr)
				}
			}
		}
		dups, rr := ledger.check(runs)
		for _, d := range dups {
			t.Error(d)
		}
		res.dups += len(dups)
		res.reruns += rr
		if !t.Failed() {
			res.converged++
		}
		if res.kills < wantKills {
			w.must(t, append([]string{"destroy", "-auto-approve", "--progress", "plain"}, w.args()...)...)
			if left := containersWithPrefix(t, w.clusterPrefix()); len(left) > 0 {
				t.Fatalf("destroy left %v", left)
			}
		}
	}
	t.Logf("unlock after kills: %v", res.unlockSaid)
	return res
}

func checkOneContainerPerHost(t *testing.T, prefix string) {
	t.Helper()
	dockertest.CheckOneContainerPerHost(t, prefix)
}

// TestReliabilityDocker runs the docker-provider reliability checks of the
// CLI that fit in the default test run: a few SIGKILLs of a real deploy
// and the confirmation a replace that destroys a volume's data asks for.
// (A host stopped mid-apply and two workspaces side by side are the
// application's: TestReliabilityDocker in package workspace.)
func TestReliabilityDocker(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	t.Run("kill at first container", testKillAtFirstContainer)
	t.Run("replace", testReplaceData)
	t.Run("crash", func(t *testing.T) {
		res := crashLoop(t, 4)
		fmt.Printf("RELIABILITY crash safety (default run): %s\n", res)
		if res.dups > 0 {
			t.Errorf("%d duplicate runs", res.dups)
		}
	})
}

// testKillAtFirstContainer SIGKILLs the first apply of a workspace the
// moment its first container exists, before state has recorded anything:
// the next apply must adopt what the killed one made, not launch a second
// set beside it.
func testKillAtFirstContainer(t *testing.T) {
	bin := buildDiffuser(t)
	w := newDockerWorkspace(t, filepath.Join(relDir, "crash.hcl"), "orphan"+randHex(3))
	p := startDiffuser(t, bin, w.data, filepath.Join(w.dir, "apply1.out"),
		append([]string{"apply", "-auto-approve", "--progress", "plain"}, w.args()...)...)
	deadline := time.Now().Add(5 * time.Minute)
	for len(containersWithPrefix(t, w.clusterPrefix())) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no container after 5 minutes:\n%s", readFile(t, filepath.Join(w.dir, "apply1.out")))
		}
		select {
		case <-p.done:
			t.Fatalf("apply ended before its first container was seen:\n%s", readFile(t, filepath.Join(w.dir, "apply1.out")))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !p.kill() {
		t.Fatal("apply ended before the kill")
	}
	made := containersWithPrefix(t, w.clusterPrefix())
	st := loadState(t, w.data, w.ws)
	t.Logf("killed with %d container(s) made and %d host(s) recorded", len(made), len(st.Hosts))
	w.apply(t)
	checkOneContainerPerHost(t, w.clusterPrefix())
	cs := containersWithPrefix(t, w.clusterPrefix())
	if len(cs) != 3 {
		t.Errorf("%d containers after the second apply, want 3: %v", len(cs), cs)
	}
	st = loadState(t, w.data, w.ws)
	for _, m := range made {
		if h := st.Hosts[m.Name]; h == nil || h.ProviderID != m.ID {
			t.Errorf("the container %s made by the killed apply for %s was not adopted (state: %+v)", m.ID[:12], m.Name, h)
		}
	}
	w.noChanges(t, w.args()...)
}

// testReplaceData: growing a volume replaces its host, which destroys the
// data on it. plan marks the launch -/+ and says which volume loses its
// data; apply asks, and "no" or no answer at all changes nothing; "yes"
// replaces the host (a new container, a new, empty volume).
func testReplaceData(t *testing.T) {
	w := newDockerWorkspace(t, filepath.Join(relDir, "voldata.hcl"), "voldata")
	w.apply(t)
	st := loadState(t, w.data, w.ws)
	id := st.Hosts["store[0]"].ProviderID
	if b, err := exec.Command("docker", "exec", id, "sh", "-c", "echo canary > /srv/data/canary && cat /srv/data/precious").CombinedOutput(); err != nil || string(b) != "precious\n" {
		t.Fatalf("data on the volume: %v %q", err, b)
	}
	grow := w.args("--var", "size=2")
	code, text, errs := w.run(t, "", append([]string{"plan", "--no-color"}, grow...)...)
	if code != 0 || !strings.Contains(text, `# launch["store[0]"] must be replaced (host settings or volume sizes changed) (destroys data on volume data)`) ||
		!strings.Contains(text, "-/+ launch store[0]") {
		t.Errorf("plan of a volume growth (exit %d) does not mark the replace and the data it destroys:\n%s%s", code, text, errs)
	}
	if c := w.planJSON(t, grow...)[`launch["store[0]"]`]; c.Action != "replace" || strings.Join(c.Data, ",") != "data" {
		t.Errorf("plan -json: %+v, want replace destroying data on volume data", c)
	}
	stateFile := filepath.Join(w.data, w.ws, "state.json")
	before := readFile(t, stateFile)
	for _, answer := range []string{"no\n", "yes please\n", ""} {
		code, out, errs := w.run(t, answer, append([]string{"apply", "--progress", "plain"}, grow...)...)
		switch {
		case answer == "" && (code != exitError || !strings.Contains(errs, "pass --auto-approve")):
			t.Errorf("apply with nothing on stdin: exit %d, want 1 asking for -auto-approve\n%s%s", code, out, errs)
		case answer != "" && (code != 0 || !strings.Contains(out, "Only 'yes' will be accepted.") || !strings.Contains(out, "Cancelled: nothing was changed.")):
			t.Errorf("apply answered %q: exit %d\n%s%s", answer, code, out, errs)
		}
		if readFile(t, stateFile) != before {
			t.Errorf("apply answered %q changed state.json", answer)
		}
		if cs := containersWithPrefix(t, w.clusterPrefix()); len(cs) != 1 || cs[0].ID != id {
			t.Errorf("apply answered %q: containers %v, want only %s", answer, cs, id[:12])
		}
	}
	if b, err := exec.Command("docker", "exec", id, "cat", "/srv/data/canary").CombinedOutput(); err != nil || string(b) != "canary\n" {
		t.Errorf("the data is gone although nothing was approved: %v %q", err, b)
	}
	code, out, errs := w.run(t, "yes\n", append([]string{"apply", "--progress", "plain"}, grow...)...)
	if code != 0 {
		t.Fatalf("apply answered yes: exit %d\n%s%s", code, out, errs)
	}
	st = loadState(t, w.data, w.ws)
	nid := st.Hosts["store[0]"].ProviderID
	if nid == id {
		t.Fatal("the host was not replaced")
	}
	b, err := exec.Command("docker", "exec", nid, "sh", "-c", "blockdev --getsize64 "+st.Hosts["store[0]"].Volumes["data"].Device+"; cat /srv/data/precious; if test -e /srv/data/canary; then echo canary survived; fi").CombinedOutput()
	if err != nil || string(b) != strconv.Itoa(2<<30)+"\nprecious\n" {
		t.Errorf("the replacement's volume: %v %q, want a new empty 2 GiB volume seeded again", err, b)
	}
	w.noChanges(t, grow...)
}

// TestReliabilityStatic runs the reliability and security checks of the
// CLI that need real hosts but no provider of their own, on two node
// containers driven as static hosts: the workspace lock under contention
// between processes, and sensitive values in everything printed, file
// modes and keys. (Format's refusal to touch a filesystem and hostile
// values in every kind are TestReliabilityStatic in package workspace.)
func TestReliabilityStatic(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	c := launchRealCluster(t, 2)
	t.Run("lock", func(t *testing.T) { testLock(t, c) })
	t.Run("secrets", func(t *testing.T) { testSecrets(t, c) })
}

// waitLock waits until the process with pid holds the workspace lock.
func waitLock(t *testing.T, p *proc, store *state.Store) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if h, err := store.LockInfo(); err == nil && h != nil && h.PID == p.cmd.Process.Pid {
			return
		}
		select {
		case <-p.done:
			t.Fatal("apply ended before it was seen holding the lock")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("apply did not take the lock within 2 minutes")
		}
	}
}

// testLock: while an apply holds the workspace lock, a second apply exits
// at once with status 1 naming the holder's pid and command, `state
// unlock` refuses to break the live lock, and plan (which takes no lock)
// still works; the first apply then finishes as if alone. The lock of a
// SIGKILLed apply ends with it: unlock says so and the next apply runs.
func testLock(t *testing.T, c *realCluster) {
	bin := buildDiffuser(t)
	data := filepath.Join(c.dir, "lock", ".diffuser")
	const ws = "lock"
	c.authorize(t, data, ws)
	e := cliEnv{data: data}
	site := c.site(t, "lock.hcl", "node", 0, 1)
	args := []string{filepath.Join(relDir, "lock.hcl"), "--site", site, "--workspace", ws}
	apply := append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)
	store := state.Open(filepath.Join(data, ws))

	outA := filepath.Join(c.dir, "lock", "applyA.out")
	pa := startDiffuser(t, bin, data, outA, apply...)
	waitLock(t, pa, store)
	pid := strconv.Itoa(pa.cmd.Process.Pid)

	start := time.Now()
	code, out, errs := e.run(t, "", apply...)
	took := time.Since(start)
	if code != exitError || !strings.Contains(errs, "pid "+pid) || !strings.Contains(errs, `running "diffuser apply `) {
		t.Errorf("a second apply: exit %d, want 1 naming pid %s running \"diffuser apply ...\"\n%s%s", code, pid, out, errs)
	}
	if took > 3*time.Second {
		t.Errorf("the second apply took %s to give up; it should not wait", took)
	}
	t.Logf("the second apply, after %s: %s", took.Round(time.Millisecond), strings.TrimSpace(errs))

	code, out, errs = e.run(t, "", "state", "unlock", ws)
	if code != exitError || !strings.Contains(out+errs, "pid "+pid) || !strings.Contains(out+errs, "not broken") {
		t.Errorf("state unlock of a live lock: exit %d, want 1 naming pid %s and saying it is not broken\n%s%s", code, pid, out, errs)
	}
	if h, err := store.LockInfo(); err != nil || h == nil || strconv.Itoa(h.PID) != pid {
		t.Errorf("after unlock the lock is held by %+v (%v), want pid %s", h, err, pid)
	}
	if code, out, errs := e.run(t, "", append([]string{"plan"}, args...)...); code != 0 {
		t.Errorf("plan during an apply: exit %d\n%s%s", code, out, errs)
	}
	select {
	case <-pa.done:
		t.Errorf("the first apply ended while the others ran; the checks did not overlap it:\n%s", readFile(t, outA))
	default:
	}
	if code := pa.wait(3 * time.Minute); code != 0 {
		t.Fatalf("the first apply: exit %d\n%s", code, readFile(t, outA))
	}
	e.noChanges(t, args...)
	for i := range c.hosts {
		dockertest.CheckCounts(t, c.specs[i].Name, c.RunCounts(t, i, "/var/tmp/diffuser-lock/runs.log"), map[string]int{"a": 1, "b": 1, "c": 1, "d": 1})
	}
	if h, _ := store.LockInfo(); h != nil {
		t.Errorf("the lock is still held after the apply: %v", h)
	}
	if code, out, _ := e.run(t, "", "state", "unlock", ws); code != 0 || !strings.Contains(out, "was not locked") {
		t.Errorf("state unlock after a clean apply: exit %d: %s", code, out)
	}

	// A killed holder.
	kill := append(append([]string{}, apply...), "--var", "dir=/var/tmp/diffuser-lock2")
	pk := startDiffuser(t, bin, data, filepath.Join(c.dir, "lock", "applyK.out"), kill...)
	waitLock(t, pk, store)
	time.Sleep(1500 * time.Millisecond)
	kpid := strconv.Itoa(pk.cmd.Process.Pid)
	pk.kill()
	code, out, errs = e.run(t, "", "state", "unlock", ws)
	if code != 0 || !strings.Contains(out, "pid "+kpid) || !strings.Contains(out, "ended without releasing the lock") {
		t.Errorf("state unlock after a SIGKILL: exit %d, want 0 naming pid %s as gone\n%s%s", code, kpid, out, errs)
	}
	loadState(t, data, ws)
	e.must(t, kill...)
	e.noChanges(t, append(args, "--var", "dir=/var/tmp/diffuser-lock2")...)
}

// testSecrets applies secrets.hcl with a sensitive variable, then with
// another value, then with the step that prints it failing, and collects
// everything a person or a machine reads: plan (text and -json), apply
// progress (plain and json), failure summaries, `logs`, `runs`, `show`,
// `output`, `state show` and every file of every run (records with their
// command lines, step logs, timelines). Neither password nor the token the
// sensitive step captured on the host may appear in any of it. State,
// journal, lock, logs and the workspace key are 0600 in 0700 directories;
// the key is ed25519 and exists nowhere else, not on the hosts either.
func testSecrets(t *testing.T, c *realCluster) {
	data := filepath.Join(c.dir, "secrets", ".diffuser")
	const ws = "secrets"
	home, _ := os.UserHomeDir()
	sshBefore := dirListing(filepath.Join(home, ".ssh"))
	c.authorize(t, data, ws)
	e := cliEnv{data: data}
	site := c.site(t, "secrets.hcl", "node", 0, 1)
	pw1, pw2 := "pw1-"+randHex(8), "pw2-"+randHex(8)
	args := func(pw string, extra ...string) []string {
		return append([]string{filepath.Join(relDir, "secrets.hcl"), "--site", site, "--workspace", ws, "--var", "db_password=" + pw}, extra...)
	}
	var seen strings.Builder
	run := func(wantCode int, cmd ...string) {
		t.Helper()
		code, out, errs := e.run(t, "", cmd...)
		seen.WriteString(out + errs)
		if code != wantCode {
			t.Fatalf("diffuser %s: exit %d, want %d\n%s%s", strings.Join(cmd, " "), code, wantCode, out, errs)
		}
	}
	run(0, append([]string{"plan"}, args(pw1)...)...)
	run(0, append([]string{"plan", "-json"}, args(pw1)...)...)
	run(0, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args(pw1)...)...)
	token := strings.TrimSpace(c.mustExec(t, 0, "cat /root/token"))
	if len(token) != 32 {
		t.Fatalf("token %q", token)
	}
	if got := c.mustExec(t, 1, "cat /root/db-password /root/token.copy"); got != pw1+"\n"+token {
		t.Fatalf("the secrets did not reach the hosts: %q", got)
	}
	run(0, append([]string{"plan"}, args(pw2)...)...)
	run(0, append([]string{"plan", "-json"}, args(pw2)...)...)
	run(0, append([]string{"apply", "-auto-approve", "--progress", "json"}, args(pw2)...)...)
	run(exitError, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args(pw2, "--var", "fail=true")...)...)
	run(exitError, append([]string{"apply", "-auto-approve", "-json"}, args(pw2, "--var", "fail=true")...)...)
	run(0, "logs", "announce")
	run(0, "logs", "token")
	run(0, "runs", ws)
	for _, r := range runsOf(t, data, ws) {
		run(0, "show", r.ID)
	}
	run(0, "output", ws)
	run(0, "output", ws, "-json")
	run(exitError, "output", ws, "token")
	run(0, "state", "show", ws, `step.token["node[0]"]`)
	run(0, "state", "show", ws, `step.announce["node[1]"]`)
	run(0, "state", "list", ws)
	if !strings.Contains(seen.String(), "(sensitive)") {
		t.Errorf("nothing was shown as (sensitive): is the test looking at the right output?")
	}
	err := filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		mode := fi.Mode().Perm()
		switch {
		case d.IsDir():
			if mode&0o077 != 0 {
				t.Errorf("%s/ has mode %v: others may read it", rel, mode)
			}
			return nil
		case strings.HasPrefix(rel, filepath.Join(ws, "runs")+string(filepath.Separator)):
			// Run records, step logs and timelines.
			b, _ := os.ReadFile(p)
			seen.WriteString(string(b))
			if mode != 0o600 {
				t.Errorf("run file %s has mode %v, want 0600", rel, mode)
			}
		case strings.HasPrefix(filepath.Base(p), "state.") || filepath.Base(p) == "id_ed25519":
			if mode != 0o600 {
				t.Errorf("%s has mode %v, want 0600", rel, mode)
			}
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), "PRIVATE KEY") && rel != filepath.Join(ws, "id_ed25519") {
			t.Errorf("%s holds a private key", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"the first password": pw1, "the second password": pw2, "the captured token": token} {
		if i := strings.Index(seen.String(), secret); i >= 0 {
			s := seen.String()
			t.Errorf("%s appears in what diffuser printed or logged: …%s…", name, s[max(0, i-200):min(len(s), i+100)])
		}
	}
	for _, f := range []string{"state.json", "state.json.backup", "state.lock"} {
		if _, err := os.Stat(filepath.Join(data, ws, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}

	// The workspace key: ed25519, in the workspace only.
	keyFile := filepath.Join(data, ws, "id_ed25519")
	priv, err := ssh.ParseRawPrivateKey([]byte(readFile(t, keyFile)))
	if err != nil {
		t.Fatalf("workspace key: %v", err)
	}
	if _, ok := priv.(*ed25519.PrivateKey); !ok {
		t.Errorf("the workspace key is a %T, want ed25519", priv)
	}
	if pub := readFile(t, keyFile+".pub"); !strings.HasPrefix(pub, "ssh-ed25519 ") {
		t.Errorf("the public key is %q", pub)
	}
	if after := dirListing(filepath.Join(home, ".ssh")); after != sshBefore {
		t.Errorf("%s/.ssh changed:\nbefore: %s\nafter:  %s", home, sshBefore, after)
	}
	for i, h := range c.specs {
		if got := c.mustExec(t, i, "grep -rl 'PRIVATE KEY' /root /tmp /var/tmp /home 2>/dev/null || true"); got != "" {
			t.Errorf("%s holds a private key: %s", h.Name, got)
		}
	}
}

// dirListing names the files of dir with their sizes and times.
func dirListing(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %s; ", e.Name(), fi.Size(), fi.ModTime())
		}
	}
	return b.String()
}
