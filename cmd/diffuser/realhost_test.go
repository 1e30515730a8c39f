package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/remote"
	"diffuser/state"
	"diffuser/views"

	"github.com/zclconf/go-cty/cty"
)

// Real-host tests: node containers launched with the docker provider's Go
// API (systemd, sshd, a loop-device volume each) and driven through the CLI
// as static hosts, the way a person drives machines they already own. They
// need root (loop devices) and a Docker Engine; -short skips them.

const realhostDir = "testdata/realhost"

// needContainers skips container tests under -short, without a Docker
// Engine, or when not root.
func needContainers(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("container test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("container test: needs root for loop devices")
	}
	if !dockerOK() {
		t.Skip("docker is not reachable: run scripts/setup.sh")
	}
}

// realCluster is a few node containers, each with a 1 GB volume, reachable
// over SSH as root. They are torn down (containers, network, loop devices,
// volume files) when the test ends, also when it fails.
type realCluster struct {
	p       *docker.Provider
	cluster string
	dir     string // the test's temp dir (site files, data dirs)
	specs   []cloud.HostSpec
	hosts   []cloud.Host
}

// dataDevice is the path of the volume inside every container: a symlink
// to the loop device the provider attached, so one static `volumes`
// setting serves every host of a group.
const dataDevice = "/dev/diffuser-data"

// extraHosts returns what scripts/mirror-hosts.sh prints, as a list.
func extraHosts(t *testing.T) []string {
	var out []string
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(mirrorHosts(t), -1) {
		out = append(out, m[1])
	}
	return out
}

// launchRealCluster launches n node containers in parallel.
func launchRealCluster(t *testing.T, n int) *realCluster {
	t.Helper()
	needContainers(t)
	dir := t.TempDir()
	// The provider authorizes one key; each workspace adds its own later.
	_, pub, err := remote.GenerateKey(filepath.Join(dir, "launch-key"))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]cty.Value{"memory": cty.StringVal("768m")}
	if eh := extraHosts(t); len(eh) > 0 {
		var vs []cty.Value
		for _, h := range eh {
			vs = append(vs, cty.StringVal(h))
		}
		settings["extra_hosts"] = cty.ListVal(vs)
	}
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		t.Logf(format, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := docker.New(ctx, cty.ObjectVal(settings), cloud.Env{Keys: cloud.Keys{PublicKey: pub}, WorkDir: dir, Log: logf})
	if err != nil {
		t.Skipf("docker provider not usable: %v", err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	c := &realCluster{p: p, cluster: "rh" + hex.EncodeToString(b), dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range c.hosts {
				out, _ := c.exec(i, "systemctl is-system-running; systemctl --failed --no-legend; systemctl status ssh --no-pager -n 5")
				t.Logf("%s after the failure:\n%s", c.specs[i].Name, out)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for i, s := range c.specs {
			var h cloud.Host
			if i < len(c.hosts) {
				h = c.hosts[i]
			}
			if err := p.Destroy(ctx, s, h); err != nil {
				t.Errorf("destroy %s: %v", s.Name, err)
			}
		}
		if err := p.Cleanup(ctx, c.cluster); err != nil {
			t.Errorf("cleanup of cluster %s: %v", c.cluster, err)
		}
		p.Close()
	})
	c.specs = make([]cloud.HostSpec, n)
	c.hosts = make([]cloud.Host, n)
	for i := range c.specs {
		c.specs[i] = cloud.HostSpec{Cluster: c.cluster, Group: "node", Index: i, Count: n,
			Name: fmt.Sprintf("node[%d]", i), Hostname: fmt.Sprintf("node-%d", i),
			Volumes: []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}}
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 25*time.Minute) // a first image build takes minutes
	defer lcancel()
	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range c.specs {
		wg.Go(func() { c.hosts[i], errs[i] = p.Launch(lctx, c.specs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("launch %s: %v", c.specs[i].Name, err)
		}
	}
	for i, h := range c.hosts {
		dev := h.Volumes["data"].Device
		if dev == "" {
			t.Fatalf("%s has no data volume: %+v", c.specs[i].Name, h)
		}
		c.mustExec(t, i, "ln -sfn "+dev+" "+dataDevice)
	}
	t.Logf("%d node containers up in %s", n, time.Since(start).Round(time.Second))
	return c
}

// container is the docker name of host i.
func (c *realCluster) container(i int) string { return docker.ContainerName(c.specs[i]) }

// exec runs a shell script in host i's container (not over SSH).
func (c *realCluster) exec(i int, script string) (string, error) {
	out, err := exec.Command("docker", "exec", c.container(i), "sh", "-c", script).CombinedOutput()
	return string(out), err
}

func (c *realCluster) mustExec(t *testing.T, i int, script string) string {
	t.Helper()
	out, err := c.exec(i, script)
	if err != nil {
		t.Fatalf("%s: %q: %v\n%s", c.specs[i].Name, script, err, out)
	}
	return out
}

// authorize makes the SSH key of workspace ws under data (generating it as
// diffuser would, <data>/<ws>/id_ed25519) a root key on every host.
func (c *realCluster) authorize(t *testing.T, data, ws string) {
	t.Helper()
	_, pub, err := remote.GenerateKey(filepath.Join(data, ws))
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.hosts {
		c.mustExec(t, i, fmt.Sprintf("printf '%%s\\n' '%s' >> /root/.ssh/authorized_keys", strings.TrimSpace(pub)))
	}
}

// site writes a static site file listing hosts (indexes into the cluster)
// as group and returns its path.
func (c *realCluster) site(t *testing.T, name, group string, hosts ...int) string {
	t.Helper()
	var addrs []string
	for _, i := range hosts {
		addrs = append(addrs, fmt.Sprintf("%q", c.hosts[i].SSHAddress))
	}
	// ssh_config = "": this machine's own ~/.ssh/config must not change
	// how the test reaches its containers.
	src := fmt.Sprintf(`default_provider = "static"
provider "static" {
  ssh_config = ""
  hosts %q {
    addresses = [%s]
    volumes   = { data = %q }
  }
}
`, group, strings.Join(addrs, ", "), dataDevice)
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
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

// runCounts reads a run log (one "<name> ..." line per run) from host i and
// counts lines per first word.
func (c *realCluster) runCounts(t *testing.T, i int, log string) map[string]int {
	t.Helper()
	out := c.mustExec(t, i, "cat "+log+" 2>/dev/null || true")
	m := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			m[f[0]]++
		}
	}
	return m
}

func checkCounts(t *testing.T, host string, got, want map[string]int) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var bad []string
	for k := range keys {
		if got[k] != want[k] {
			bad = append(bad, fmt.Sprintf("%s ran %d time(s), want %d", k, got[k], want[k]))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%s: %s", host, strings.Join(bad, "; "))
	}
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

// TestRealHost drives three node containers as static hosts through the
// CLI: every step kind applied, re-planned as a no-op, drifted and
// repaired; a step failing on one host while the others finish, then
// resumed; apply SIGKILLed at random moments and re-applied until it
// converges, with nothing recorded as applied run twice; a changed host key
// refused until forgotten.
func TestRealHost(t *testing.T) {
	needContainers(t)
	e2eMu.Lock()
	defer e2eMu.Unlock()
	c := launchRealCluster(t, 3)
	t.Run("kinds", func(t *testing.T) { testRealKinds(t, c) })
	t.Run("failure", func(t *testing.T) { testRealFailure(t, c) })
	t.Run("kill", func(t *testing.T) { testRealKill(t, c) })
	// Last: it changes a host key, which every workspace has pinned.
	t.Run("hostkey", func(t *testing.T) { testRealHostKey(t, c) })
}

// testRealKinds: apply every kind, re-plan (no-op), drift four of them on
// node[1] behind diffuser's back, see exactly those (and the wait on the
// stopped service's port) planned as updates with drift reasons, repair,
// re-plan (no-op). Run steps run once each throughout.
func testRealKinds(t *testing.T, c *realCluster) {
	data := filepath.Join(c.dir, "kinds", ".diffuser")
	const ws = "kinds"
	c.authorize(t, data, ws)
	e := cliEnv{data: data}
	site := c.site(t, "kinds.hcl", "node", 0, 1, 2)
	recipe := filepath.Join(realhostDir, "kinds.hcl")
	args := []string{recipe, "--site", site, "--workspace", ws}

	out := e.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)...)
	if !strings.Contains(out, "roster = node-0 node-1") {
		t.Errorf("apply output lacks the roster output from captures:\n%s", out)
	}
	const runLog = "/var/tmp/realkinds/runs.log"
	for i := 0; i < 2; i++ {
		h := c.specs[i].Name
		c.mustExec(t, i, "tree --version")
		if got := c.mustExec(t, i, "cat /etc/diffuser-motd; stat -c %a /etc/diffuser-motd"); got != "hello from "+h+"\n640\n" {
			t.Errorf("%s: motd and its mode = %q", h, got)
		}
		if got := c.mustExec(t, i, "findmnt -rn -o FSTYPE --mountpoint /srv/data"); strings.TrimSpace(got) != "xfs" {
			t.Errorf("%s: /srv/data is %q, want an xfs mount", h, got)
		}
		c.mustExec(t, i, "systemctl is-active diffuser-echo && systemctl is-enabled diffuser-echo && test -s /srv/data/marker")
		if got := c.mustExec(t, i, "bash -c 'exec 3<>/dev/tcp/127.0.0.1/7777 && head -n1 <&3'"); strings.TrimSpace(got) != h {
			t.Errorf("%s: the listener answered %q", h, got)
		}
		want := map[string]int{"log_dir": 1, "marker": 1, "identity": 1}
		if i == 0 {
			want["roster"] = 1
		}
		checkCounts(t, h, c.runCounts(t, i, runLog), want)
	}
	if got := c.mustExec(t, 2, "test -e /etc/diffuser-motd && echo present || echo absent"); strings.TrimSpace(got) != "absent" {
		t.Errorf("node[2] is not in the recipe (nodes = 2) but got the motd file")
	}
	st := loadState(t, data, ws)
	if o := st.Steps[`step.identity["node[1]"]`]; o == nil || o.Outputs["hostname"] != "node-1" || o.Outputs["greeting"] != "hello from node[1]" {
		t.Errorf("captures of identity on node[1] = %+v", o)
	}

	// Nothing to do: plan says so, and apply runs nothing.
	e.noChanges(t, args...)
	out = e.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)...)
	if !strings.Contains(out, "No changes.") {
		t.Errorf("second apply was not a no-op:\n%s", out)
	}

	// Drift on node[1]: package removed, file changed, volume unmounted,
	// service stopped.
	c.mustExec(t, 1, "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q tree >/dev/null && echo tampered > /etc/diffuser-motd && umount /srv/data && systemctl stop diffuser-echo")
	changes := e.planJSON(t, args...)
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
		case c.Action != "update" || !strings.HasPrefix(c.Reason, "drift: ") || !strings.Contains(c.Reason, word):
			t.Errorf("%s: %s (%s), want an update with a drift reason naming %q", addr, c.Action, c.Reason, word)
		}
	}
	for addr, c := range changes {
		if _, ok := drifted[addr]; !ok {
			t.Errorf("plan has %s: %s (%s), but only the drifted instances should change", addr, c.Action, c.Reason)
		}
	}
	code, text, _ := e.run(t, "", append([]string{"plan", "--no-color"}, args...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^  ~\s+package tools on node\[1\]$`).MatchString(text) ||
		!strings.Contains(text, "Plan: 0 to add, 5 to change, 0 to destroy.") {
		t.Errorf("plan text (exit %d) does not show the five updates:\n%s", code, text)
	}

	e.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)...)
	c.mustExec(t, 1, "tree --version >/dev/null && grep -qx 'hello from node\\[1\\]' /etc/diffuser-motd && findmnt --mountpoint /srv/data >/dev/null && systemctl is-active diffuser-echo && test -s /srv/data/marker")
	e.noChanges(t, args...)

	// A changed command whose creates guard holds does not run again; the
	// instance is recorded with its new inputs.
	e.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain", "--var", "marker_note=second"}, args...)...)
	e.noChanges(t, append([]string{"--var", "marker_note=second"}, args...)...)
	for i := 0; i < 2; i++ {
		want := map[string]int{"log_dir": 1, "marker": 1, "identity": 1}
		if i == 0 {
			want["roster"] = 1
		}
		checkCounts(t, c.specs[i].Name, c.runCounts(t, i, runLog), want)
		if got := c.mustExec(t, i, "cat /srv/data/marker"); got != "first\n" {
			t.Errorf("%s: the marker was rewritten: %q", c.specs[i].Name, got)
		}
	}
}

// testRealFailure: a step fails on node[1] only. The apply exits 1 and its
// summary names the instance, the host, the exit status and the output
// tail; independent instances finish on every host, dependents of the
// failed one are skipped. Fixing the variable and applying again runs only
// what did not finish.
func testRealFailure(t *testing.T, c *realCluster) {
	data := filepath.Join(c.dir, "failure", ".diffuser")
	const ws = "failure"
	c.authorize(t, data, ws)
	e := cliEnv{data: data}
	site := c.site(t, "failure.hcl", "node", 0, 1, 2)
	args := []string{filepath.Join(realhostDir, "failure.hcl"), "--site", site, "--workspace", ws}
	apply := append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)

	code, out, errs := e.run(t, "", apply...)
	if code != exitError {
		t.Fatalf("apply with a failing step: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"1 step instance(s) failed:",
		`step.flaky["node[1]"] on host node[1] exited with status 3`,
		"no space left on node[1]",
		"log: " + runLog(t, data, ws, "flaky", "node[1]"),
		"2 dependent step instance(s) were skipped",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("the failure summary lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "13 done, 1 failed, 2 skipped") {
		t.Errorf("apply's last line does not count 13 done (3 launches), 1 failed, 2 skipped:\n%s", out)
	}
	if log := readFile(t, runLog(t, data, ws, "flaky", "node[1]")); !strings.Contains(log, "no space left on node[1]") {
		t.Errorf("the step log lacks the output:\n%s", log)
	}
	const runLog = "/var/tmp/realfail/runs.log"
	want := []map[string]int{
		{"first": 1, "flaky": 1, "after_flaky": 1, "independent": 1},
		{"first": 1, "flaky": 1, "independent": 1},
		{"first": 1, "flaky": 1, "after_flaky": 1, "independent": 1},
	}
	for i := range want {
		checkCounts(t, c.specs[i].Name, c.runCounts(t, i, runLog), want[i])
	}
	st := loadState(t, data, ws)
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

	fixed := append([]string{"--var", "broken_hosts=[]"}, args...)
	changes := e.planJSON(t, fixed...)
	var addrs []string
	for a := range changes {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	if got := strings.Join(addrs, " "); got != `step.after_flaky["node[1]"] step.flaky["node[1]"] step.gather["node[0]"]` {
		t.Errorf("after the fix the plan changes %s; want only what did not finish", got)
	}
	e.must(t, append([]string{"apply", "-auto-approve", "--progress", "plain"}, fixed...)...)
	want[0]["gather"] = 1
	want[1]["flaky"], want[1]["after_flaky"] = 2, 1
	for i := range want {
		checkCounts(t, c.specs[i].Name, c.runCounts(t, i, runLog), want[i])
	}
	e.noChanges(t, fixed...)
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

// testRealHostKey: after an apply pinned both host keys, node[1] gets a new
// one. plan and apply (at its refresh, before touching anything) refuse
// it, naming the host and the two ways to accept a new key; node[1]'s
// pinned key stays. After forget-hostkey the next apply pins the new key
// and works; after another change, apply -replace=node[1] does the same.
func testRealHostKey(t *testing.T, c *realCluster) {
	data := filepath.Join(c.dir, "hostkey", ".diffuser")
	const ws = "hostkey"
	c.authorize(t, data, ws)
	e := cliEnv{data: data}
	site := c.site(t, "hostkey.hcl", "node", 0, 1)
	args := []string{filepath.Join(realhostDir, "hostkey.hcl"), "--site", site, "--workspace", ws}
	apply := append([]string{"apply", "-auto-approve", "--progress", "plain"}, args...)
	e.must(t, apply...)
	hostKey := func(i int) string {
		f := strings.Fields(c.mustExec(t, i, "cat /etc/ssh/ssh_host_ed25519_key.pub"))
		return f[0] + " " + f[1]
	}
	pinned := func(st *state.State, h string) string {
		f := strings.Fields(st.Hosts[h].SSH.HostKey)
		if len(f) < 2 {
			return ""
		}
		return f[0] + " " + f[1]
	}
	st := loadState(t, data, ws)
	old0, old1 := hostKey(0), hostKey(1)
	if pinned(st, "node[0]") != old0 || pinned(st, "node[1]") != old1 {
		t.Fatalf("pinned keys %q, %q are not the hosts' keys %q, %q", pinned(st, "node[0]"), pinned(st, "node[1]"), old0, old1)
	}

	c.mustExec(t, 1, "rm -f /etc/ssh/ssh_host_* && /usr/local/sbin/diffuser-ssh-hostkeys && systemctl restart ssh")
	newKey := hostKey(1)
	if newKey == old1 {
		t.Fatal("the host key did not change")
	}
	// Something to do on node[1], so that apply must connect to it.
	c.mustExec(t, 1, "echo drifted > /var/tmp/realhostkey-stamp")
	for _, cmd := range [][]string{append([]string{"plan"}, args...), apply} {
		code, out, errs := e.run(t, "", cmd...)
		all := out + errs
		if code != exitError {
			t.Errorf("%s with a changed host key: exit %d, want 1\n%s", cmd[0], code, all)
		}
		for _, want := range []string{"Error: Host key changed", "host key of node[1]", "diffuser state forget-hostkey WORKSPACE node[1]", "-replace=node[1]"} {
			if !strings.Contains(all, want) {
				t.Errorf("%s with a changed host key does not say %q:\n%s", cmd[0], want, all)
			}
		}
		if strings.Contains(all, "host key of node[0]") {
			t.Errorf("%s blames node[0]:\n%s", cmd[0], all)
		}
	}
	st = loadState(t, data, ws)
	if pinned(st, "node[1]") != old1 {
		t.Errorf("the refused key replaced the pinned one")
	}
	if got := c.mustExec(t, 1, "cat /var/tmp/realhostkey-stamp"); got != "drifted\n" {
		t.Errorf("something reached node[1] through the refused key: stamp = %q", got)
	}

	out := e.must(t, "state", "forget-hostkey", ws, "node[1]")
	if !strings.Contains(out, "node[1]") {
		t.Errorf("forget-hostkey says %q", out)
	}
	e.must(t, apply...)
	st = loadState(t, data, ws)
	if pinned(st, "node[1]") != newKey || pinned(st, "node[0]") != old0 {
		t.Errorf("after forget-hostkey and apply the pinned keys are %q, %q; want %q, %q",
			pinned(st, "node[0]"), pinned(st, "node[1]"), old0, newKey)
	}
	e.noChanges(t, args...)

	// What the message also offers: -replace=HOST, for a static host a new
	// machine at the same address, whose key is trusted on first use.
	c.mustExec(t, 1, "rm -f /etc/ssh/ssh_host_* && /usr/local/sbin/diffuser-ssh-hostkeys && systemctl restart ssh")
	newest := hostKey(1)
	if code, out, errs := e.run(t, "", apply...); code != exitError || !strings.Contains(out+errs, "-replace=node[1]") {
		t.Errorf("apply after the second key change: exit %d, want 1 offering -replace=node[1]\n%s%s", code, out, errs)
	}
	e.must(t, append(apply, "-replace=node[1]")...)
	st = loadState(t, data, ws)
	if pinned(st, "node[1]") != newest || pinned(st, "node[0]") != old0 {
		t.Errorf("after apply -replace=node[1] the pinned keys are %q, %q; want %q, %q",
			pinned(st, "node[0]"), pinned(st, "node[1]"), old0, newest)
	}
	e.noChanges(t, args...)
}
