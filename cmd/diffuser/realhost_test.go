package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker/dockertest"
	"diffuser/state"
	"diffuser/views"
)

// Real-host tests: node containers launched with the docker provider's Go
// API (systemd, sshd, a loop-device volume each) and driven through the CLI
// as static hosts, the way a person drives machines they already own. They
// need root (loop devices) and a Docker Engine; -short skips them.

const realhostDir = "testdata/realhost"

// needContainers skips container tests under -short, without a Docker
// Engine, or when not root.
func needContainers(t *testing.T) { dockertest.NeedContainers(t) }

// realCluster is a few node containers (cloud/docker/dockertest), each
// with a 1 GB volume, reachable over SSH as root, torn down when the test
// ends, also when it fails.
type realCluster struct {
	*dockertest.Cluster
	specs []cloud.HostSpec
	hosts []cloud.Host
	dir   string // the test's temp dir (site files, data dirs)
}

// launchRealCluster launches n node containers in parallel.
func launchRealCluster(t *testing.T, n int) *realCluster {
	t.Helper()
	c := dockertest.Launch(t, n)
	return &realCluster{Cluster: c, specs: c.Specs, hosts: c.Hosts, dir: c.Dir}
}

func (c *realCluster) mustExec(t *testing.T, i int, script string) string {
	t.Helper()
	return c.MustExec(t, i, script)
}
func (c *realCluster) authorize(t *testing.T, data, ws string) { t.Helper(); c.Authorize(t, data, ws) }
func (c *realCluster) site(t *testing.T, name, group string, hosts ...int) string {
	t.Helper()
	return c.Site(t, name, group, hosts...)
}

// cliEnv runs the CLI in-process against one data directory.
type cliEnv struct {
	data string
}

// run runs diffuser with args (and --data-dir) and returns the exit status,
// stdout and stderr.
func (e cliEnv) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(append([]string{}, args...), "--data-dir", e.data)
	code := run(context.Background(), nil, full, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// must runs diffuser and fails the test unless it exits 0.
func (e cliEnv) must(t *testing.T, args ...string) string {
	t.Helper()
	start := time.Now()
	code, out, errs := e.run(t, "", args...)
	if code != 0 {
		t.Fatalf("diffuser %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	t.Logf("diffuser %s: ok in %s", strings.Join(args[:min(2, len(args))], " "), time.Since(start).Round(100*time.Millisecond))
	return out
}

// noChanges fails the test unless plan -detailed-exitcode says nothing
// would change.
func (e cliEnv) noChanges(t *testing.T, args ...string) {
	t.Helper()
	code, out, errs := e.run(t, "", append([]string{"plan", "--detailed-exitcode"}, args...)...)
	if code != 0 {
		t.Fatalf("plan is not a no-op (exit %d):\n%s\n%s", code, out, errs)
	}
}

// planJSON runs plan -json and returns address -> change.
func (e cliEnv) planJSON(t *testing.T, args ...string) map[string]views.ChangeJSON {
	t.Helper()
	code, out, errs := e.run(t, "", append([]string{"plan", "-json"}, args...)...)
	if code != 0 {
		t.Fatalf("plan -json: exit %d\n%s\n%s", code, out, errs)
	}
	var jp views.PlanJSON
	if err := json.Unmarshal([]byte(out), &jp); err != nil {
		t.Fatalf("plan -json output: %v\n%s", err, out)
	}
	m := map[string]views.ChangeJSON{}
	for _, c := range jp.Changes {
		m[c.Address] = c
	}
	return m
}

// loadState reads a workspace's state the way the CLI does (state.json
// with the journal replayed), without taking the lock.
func loadState(t *testing.T, data, ws string) *state.State {
	t.Helper()
	st, err := state.Open(filepath.Join(data, ws)).Load()
	if err != nil {
		t.Fatalf("state of workspace %s does not load: %v", ws, err)
	}
	return st
}

// buildDiffuser builds the CLI into a temp dir, for tests that kill it.
func buildDiffuser(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "diffuser")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a diffuser subprocess.
type proc struct {
	cmd  *exec.Cmd
	out  *os.File
	done chan struct{}
	err  error
}

// startDiffuser starts bin with args (and --data-dir data); its combined
// output goes to a file under dir. The process is killed at cleanup if it
// still runs.
func startDiffuser(t *testing.T, bin, data, outFile string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(append([]string{}, args...), "--data-dir", data)...)
	cmd.Stdout, cmd.Stderr = f, f
	// No sweep: go test runs packages at once, and a real binary's sweep
	// removes the expired clusters other packages' tests made on purpose
	// (cloud/docker's TestSweeperReal lost its orphan to one).
	cmd.Env = append(os.Environ(), "DIFFUSER_NO_SWEEP=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// kill SIGKILLs the process and waits for it; it reports whether the
// process was still running.
func (p *proc) kill() bool {
	select {
	case <-p.done:
		return false
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return true
}

// wait waits up to d for the process to exit and returns its exit status
// (-1 if it had to be killed).
func (p *proc) wait(d time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(d):
		p.kill()
		return -1
	}
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRealHostKill SIGKILLs `diffuser apply`, a real process, at random
// moments on three node containers driven as static hosts, and re-applies
// until it converges, with nothing recorded as applied run twice. The
// application's behaviour on such hosts (every kind, drift, failures and
// resume, host keys) is tested in package workspace (TestRealHost).
func TestRealHostKill(t *testing.T) {
	needContainers(t)
	dockertest.Serialize(t)
	c := launchRealCluster(t, 3)
	testRealKill(t, c)
}

// killLedger checks the rule of a SIGKILLed apply: a step instance may run
// again in a later attempt only if the state read after every earlier
// attempt did not record it as applied. Runs are tagged with the attempt
// that started them.
type killLedger struct {
	appliedAfter []map[string]bool // [k-1]: applied after attempt k
}

// after records the state read once attempt len+1 ended (killed or not).
func (l *killLedger) after(st *state.State) {
	m := map[string]bool{}
	for a, i := range st.Steps {
		if i.Status == state.StatusApplied {
			m[a] = true
		}
	}
	l.appliedAfter = append(l.appliedAfter, m)
}

// check returns the runs that broke the rule and the number of allowed
// re-runs (of instances in flight at a kill).
func (l *killLedger) check(runs map[string][]int) (dups []string, reruns int) {
	for addr, tags := range runs {
		sort.Ints(tags)
		for j, b := range tags {
			if j > 0 && tags[j-1] == b {
				dups = append(dups, fmt.Sprintf("%s ran twice in attempt %d", addr, b))
				continue
			}
			bad := false
			for k := 1; k < b && k <= len(l.appliedAfter); k++ {
				if l.appliedAfter[k-1][addr] {
					dups = append(dups, fmt.Sprintf("%s ran in attempt %d although recorded as applied after attempt %d", addr, b, k))
					bad = true
					break
				}
			}
			if j > 0 && !bad {
				reruns++
			}
		}
	}
	sort.Strings(dups)
	return dups, reruns
}

// parseRunLog reads "<step> <attempt>" lines of host into runs, keyed by
// instance address.
func parseRunLog(t *testing.T, host, log string, runs map[string][]int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var step string
		var attempt int
		if line == "" {
			continue
		}
		if _, err := fmt.Sscanf(line, "%s %d", &step, &attempt); err != nil {
			t.Errorf("%s: bad run log line %q", host, line)
			continue
		}
		addr := fmt.Sprintf("step.%s[%q]", step, host)
		runs[addr] = append(runs[addr], attempt)
	}
}

// testRealKill SIGKILLs `diffuser apply` (a real process) at random moments
// of a 60-instance apply and applies again after each kill, until one
// apply finishes; then plan must be a no-op, state must parse, and no
// instance recorded as applied may have run again. If an apply converges
// before enough kills, a new round starts in a fresh workspace.
func testRealKill(t *testing.T, c *realCluster) {
	bin := buildDiffuser(t)
	recipe := filepath.Join(realhostDir, "kill.hcl")
	site := c.site(t, "kill.hcl", "node", 0, 1, 2)
	const wantKills = 6
	seed := time.Now().UnixNano()
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0))
	t.Logf("kill seed %d", seed)
	kills, reruns := 0, 0
	for round := 1; kills < wantKills; round++ {
		// A kill drawn after the apply already finished does not land: on a
		// fast machine that is common, so rounds are cheap and bounded.
		if round > 12 {
			t.Fatalf("only %d kills landed in %d rounds", kills, round-1)
		}
		ws := fmt.Sprintf("kill%d", round)
		dir := fmt.Sprintf("/var/tmp/realkill-%d", round)
		data := filepath.Join(c.dir, ws, ".diffuser")
		c.authorize(t, data, ws)
		e := cliEnv{data: data}
		args := []string{recipe, "--site", site, "--workspace", ws, "--var", "dir=" + dir}
		for i := range c.hosts {
			c.mustExec(t, i, "mkdir -p "+dir)
		}
		var ledger killLedger
		for attempt := 1; ; attempt++ {
			if attempt > 40 {
				t.Fatalf("round %d: no convergence after %d attempts", round, attempt-1)
			}
			for i := range c.hosts {
				c.mustExec(t, i, fmt.Sprintf("echo %d > %s/attempt", attempt, dir))
			}
			applied := len(ledger.last())
			outFile := filepath.Join(c.dir, ws, fmt.Sprintf("apply-%d.out", attempt))
			p := startDiffuser(t, bin, data, outFile, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)...)
			if kills < wantKills {
				// Within the time the rest takes: about 0.3 s per step left
				// on a host (at least), plus a second to plan and connect.
				left := (60 - applied) / 3
				d := time.Duration(rng.Int64N(int64(time.Second + time.Duration(left)*300*time.Millisecond)))
				select {
				case <-p.done:
				case <-time.After(d):
				}
				if p.kill() {
					kills++
					t.Logf("round %d attempt %d: SIGKILL after %s (%d of 60 applied before)", round, attempt, d.Round(time.Millisecond), applied)
				}
			}
			code := p.wait(5 * time.Minute)
			time.Sleep(time.Second) // commands a killed client left running finish
			st := loadState(t, data, ws)
			ledger.after(st)
			if code == 0 {
				break
			}
			if code != -1 {
				t.Fatalf("attempt %d exited %d:\n%s", attempt, code, readFile(t, outFile))
			}
			// The flock died with its holder: unlock has nothing to break.
			if code, out, errs := e.run(t, "", "state", "unlock", ws); code != 0 {
				t.Fatalf("state unlock after a kill: exit %d\n%s%s", code, out, errs)
			}
		}
		e.noChanges(t, args...)
		runs := map[string][]int{}
		for i, h := range c.specs {
			parseRunLog(t, h.Name, c.mustExec(t, i, "cat "+dir+"/runs.log"), runs)
		}
		st := loadState(t, data, ws)
		for i := range c.specs {
			for s := 1; s <= 20; s++ {
				addr := fmt.Sprintf("step.s%02d[%q]", s, c.specs[i].Name)
				if len(runs[addr]) == 0 {
					t.Errorf("%s never ran", addr)
				}
				if inst := st.Steps[addr]; inst == nil || inst.Status != state.StatusApplied {
					t.Errorf("%s is not applied in the final state: %+v", addr, inst)
				}
			}
		}
		dups, rr := ledger.check(runs)
		for _, d := range dups {
			t.Error(d)
		}
		reruns += rr
		t.Logf("round %d: %d attempts, %d in-flight instance(s) ran again, %d duplicate(s)", round, len(ledger.appliedAfter), rr, len(dups))
	}
	t.Logf("SIGKILL: %d kills, converged, %d in-flight re-runs (allowed)", kills, reruns)
}

// last is the applied set after the latest attempt.
func (l *killLedger) last() map[string]bool {
	if len(l.appliedAfter) == 0 {
		return nil
	}
	return l.appliedAfter[len(l.appliedAfter)-1]
}
