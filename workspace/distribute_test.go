package workspace_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"diffuser/cloud/docker/dockertest"
	"diffuser/state"
	"diffuser/workspace"
)

// distributeRecipe is the test recipe: one distribute step on var.hosts nodes.
func distributeRecipe(t testing.TB) string {
	p, err := filepath.Abs(filepath.Join("testdata", "distribute", "fanout.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// artifactServer serves one file over HTTP on loopback, like a release
// server, counting the bytes it sends (what crossed the "operator's
// link") and optionally limiting its rate.
type artifactServer struct {
	*httptest.Server
	data    []byte
	rate    atomic.Int64 // bytes per second; 0 is unlimited
	served  atomic.Int64
	watcher func(served int64) // called after each write; may be nil
	mu      sync.Mutex
}

func newArtifactServer(t testing.TB, data []byte) *artifactServer {
	s := &artifactServer{data: data}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(&servedWriter{ResponseWriter: w, s: s, start: time.Now()}, r, "artifact.bin",
			time.Unix(1_700_000_000, 0), bytes.NewReader(s.data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *artifactServer) url() string { return s.URL + "/artifact.bin" }

func (s *artifactServer) watch(f func(served int64)) {
	s.mu.Lock()
	s.watcher = f
	s.mu.Unlock()
}

type servedWriter struct {
	http.ResponseWriter
	s     *artifactServer
	start time.Time
	n     int64
}

func (w *servedWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), 64<<10)]
		n, err := w.ResponseWriter.Write(chunk)
		w.n += int64(n)
		total := w.s.served.Add(int64(n))
		w.s.mu.Lock()
		f := w.s.watcher
		w.s.mu.Unlock()
		if f != nil {
			f(total)
		}
		written += n
		if err != nil {
			return written, err
		}
		if r := w.s.rate.Load(); r > 0 {
			if ahead := time.Duration(float64(w.n)/float64(r)*float64(time.Second)) - time.Since(w.start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		p = p[n:]
	}
	return written, nil
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 9))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// distEnv is a workspace with a docker cluster of n nodes for the recipe.
type distEnv struct {
	*sysEnv
	dir, site string
	n         int
	recipe    string
}

// in is the recipe's inputs with hosts = n and vars, and only those: each
// apply of the test says its mode, fanout and checksum, or means the
// defaults, so the inputs the last apply ran with (a mode = "direct", a
// sha256) must not carry over as they would for an operator.
func (d *distEnv) in(vars ...string) workspace.Inputs {
	return workspace.Inputs{Recipe: d.recipe, Site: d.site, Vars: append([]string{"hosts=" + strconv.Itoa(d.n)}, vars...),
		IgnoreRemembered: true}
}

// cluster is the workspace's cluster name, from state ("" without one).
func (d *distEnv) cluster() string {
	st, err := d.env.ReadState("distribute")
	if err != nil {
		return ""
	}
	return st.Cluster
}

func (d *distEnv) container(t testing.TB, i int) string {
	cl := d.cluster()
	if cl == "" {
		t.Fatal("no cluster in state")
	}
	return fmt.Sprintf("diffuser-%s-node-%d", cl, i)
}

// exec runs a shell command in node i's container.
func (d *distEnv) exec(t testing.TB, i int, script string) (string, error) {
	out, err := exec.Command("docker", "exec", d.container(t, i), "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// sums returns every node's sha256sum of path ("" where it is missing).
func (d *distEnv) sums(t testing.TB, path string) []string {
	out := make([]string, d.n)
	var wg sync.WaitGroup
	for i := 0; i < d.n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s, err := d.exec(t, i, "sha256sum "+path); err == nil {
				out[i] = strings.Fields(s)[0]
			}
		}()
	}
	wg.Wait()
	return out
}

// partSize is the size of node i's part file for dest, or -1.
func (d *distEnv) partSize(t testing.TB, i int, dest string) int64 {
	dir, base := filepath.Split(dest)
	s, err := d.exec(t, i, fmt.Sprintf("stat -c %%s %s.%s.diffuser-*.part 2>/dev/null", dir, base))
	if err != nil || s == "" {
		return -1
	}
	n, _ := strconv.ParseInt(strings.Fields(s)[0], 10, 64)
	return n
}

// newDistEnv launches n docker nodes (through an apply of the recipe with
// a tiny artifact) and destroys them when the test ends, also on failure,
// failing the test if anything is left behind.
func newDistEnv(t testing.TB, n int) *distEnv {
	t.Helper()
	dir := t.TempDir()
	d := &distEnv{sysEnv: newSysEnv(t, filepath.Join(dir, ".diffuser")), dir: dir, site: filepath.Join(dir, "diffuser.hcl"), n: n,
		recipe: distributeRecipe(t)}
	if err := os.WriteFile(d.site, []byte("default_provider = \"docker\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(dir, "seed.bin")
	if err := os.WriteFile(seed, []byte("seed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl := d.cluster()
		a, err := d.applyOf(d.in("source="+seed), "destroy")
		if left := dockertest.Leftovers(cl, d.data()); len(left) > 0 || err != nil || a.Outcome().Failed > 0 {
			t.Errorf("destroy (%v, %+v) left %v", err, a.Outcome().Failures, left)
		}
	})
	start := time.Now()
	if a, err := d.applyOf(d.in("source="+seed, "dest=/var/tmp/seed"), "apply"); err != nil || a.Outcome().Failed > 0 {
		t.Fatalf("launching %d nodes: %v %+v", n, err, a.Outcome().Failures)
	}
	t.Logf("%d nodes launched in %s", n, time.Since(start).Round(time.Second))
	return d
}

// apply applies with vars and fails the test on any failure.
func (d *distEnv) apply(t *testing.T, vars ...string) (applied, time.Duration) {
	t.Helper()
	start := time.Now()
	a := d.mustApply(t, d.in(vars...), "apply")
	return a, time.Since(start)
}

func (d *distEnv) wantEverywhere(t *testing.T, path, sum string, skip ...int) {
	t.Helper()
	got := d.sums(t, path)
	for i, s := range got {
		if containsInt(skip, i) {
			continue
		}
		if s != sum {
			t.Errorf("node[%d] %s: sha256 %q, want %s", i, path, s, sum)
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// TestDistribute delivers artifacts to 4 real docker nodes with the
// distribute step: relay integrity (every node's sha256, the source read
// once), drift found by plan and repaired, direct mode, a tree, an
// interrupted transfer resumed, and a relay host killed in the middle of a
// transfer.
func TestDistribute(t *testing.T) {
	if testing.Short() {
		t.Skip("real deployments are skipped with -short")
	}
	if !dockertest.DockerOK() {
		t.Skip("docker is not reachable: run scripts/setup.sh")
	}
	dockertest.Serialize(t)
	const size = 64 << 20
	data := randomBytes(size)
	sum := hexSum(data)
	srv := newArtifactServer(t, data)
	d := newDistEnv(t, 4)

	t.Run("relay", func(t *testing.T) {
		srv.served.Store(0)
		relay := d.in("source="+srv.url(), "dest=/var/tmp/relay.bin")
		a, took := d.apply(t, "source="+srv.url(), "dest=/var/tmp/relay.bin")
		d.wantEverywhere(t, "/var/tmp/relay.bin", sum)
		// The operator's link (here: the source server) carried it once.
		if got := srv.served.Load(); got != size {
			t.Errorf("the source sent %d bytes for 4 nodes, want %d (once)", got, size)
		}
		t.Logf("relay: 4 × 64 MiB in %s", took.Round(time.Millisecond))
		if o := a.Outcome(); o.Done != 4 {
			t.Errorf("apply: %d done, want 4 (one per node): %+v", o.Done, o)
		}
		// plan with refresh: a no-op, then drift on one node, repaired by apply.
		d.noChanges(t, relay)
		if _, err := d.exec(t, 2, "printf x | dd of=/var/tmp/relay.bin bs=1 seek=1000 conv=notrunc 2>/dev/null"); err != nil {
			t.Fatal(err)
		}
		ch := d.changes(t, relay)
		if c := ch[`step.artifact["node[2]"]`]; c == nil || !strings.Contains(c.Reason, "content differs") {
			t.Fatalf("plan did not find the corrupted copy on node[2]: %v", changeLines(ch))
		}
		d.apply(t, "source="+srv.url(), "dest=/var/tmp/relay.bin")
		d.wantEverywhere(t, "/var/tmp/relay.bin", sum)
		if _, err := d.exec(t, 0, "ls /run | grep diffuser-relay"); err == nil {
			t.Error("relay directory left in /run")
		}
	})

	t.Run("direct", func(t *testing.T) {
		srv.served.Store(0)
		_, took := d.apply(t, "source="+srv.url(), "dest=/var/tmp/direct.bin", "mode=direct")
		d.wantEverywhere(t, "/var/tmp/direct.bin", sum)
		if got := srv.served.Load(); got != 4*size {
			t.Errorf("direct: the source sent %d bytes, want %d (once per node)", got, 4*size)
		}
		t.Logf("direct: 4 × 64 MiB in %s", took.Round(time.Millisecond))
	})

	t.Run("tree", func(t *testing.T) {
		src := filepath.Join(d.dir, "tree.bin")
		if err := os.WriteFile(src, data[:size/4], 0o644); err != nil {
			t.Fatal(err)
		}
		d.apply(t, "source="+src, "dest=/opt/tree/t.bin", "fanout=2")
		d.wantEverywhere(t, "/opt/tree/t.bin", hexSum(data[:size/4]))
	})

	t.Run("interrupted transfer resumes", func(t *testing.T) {
		const dest = "/var/tmp/resume.bin"
		srv.served.Store(0)
		srv.rate.Store(8 << 20)
		defer srv.rate.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		srv.watch(func(n int64) {
			if n >= size/2 {
				cancel()
			}
		})
		// With sha256 given, resumed copies are checked against it: the
		// operator need not read the bytes the hosts already have.
		vars := []string{"source=" + srv.url(), "dest=" + dest, "sha256=" + sum}
		pl, err := d.planOf(d.in(vars...), "apply")
		if err != nil {
			t.Fatal(err)
		}
		_, err = pl.Apply(ctx, workspace.ApplyOptions{})
		run := pl.Run
		pl.Close()
		srv.watch(nil)
		cancel()
		if err != nil {
			t.Fatalf("the interrupted apply: %v", err)
		}
		if run.Status == workspace.RunSucceeded {
			t.Fatalf("the interrupted apply succeeded: %+v", run.Outcome)
		}
		first := srv.served.Load()
		var least int64 = size
		for i := 0; i < d.n; i++ {
			n := d.partSize(t, i, dest)
			t.Logf("node[%d] kept %d bytes of the interrupted transfer", i, n)
			if n < 0 {
				t.Fatalf("node[%d] kept no part file", i)
			}
			least = min(least, n)
		}
		if least == 0 {
			t.Fatal("a node kept nothing: nothing to resume")
		}
		srv.served.Store(0)
		a, _ := d.apply(t, vars...)
		second := srv.served.Load()
		d.wantEverywhere(t, dest, sum)
		t.Logf("interrupted after %d bytes from the source; the retry read %d (the nodes had at least %d)", first, second, least)
		if second > size-least {
			t.Errorf("the retry read %d bytes from the source; the nodes already had %d of %d", second, least, size)
		}
		if o := a.Outcome(); o.Done != 4 {
			t.Errorf("the retry: %d done, want 4: %+v", o.Done, o)
		}
		// Each host's log says where it resumed.
		var logs []string
		resumed := 0
		for i := 0; i < d.n; i++ {
			h := fmt.Sprintf("node[%d]", i)
			logs = append(logs, h)
			if b, err := a.Run.StepLog("artifact", h); err == nil && strings.Contains(string(b), "resuming at offset") {
				resumed++
			}
		}
		if resumed != d.n {
			t.Errorf("%d of %d host logs (%v) say \"resuming at offset\"", resumed, d.n, logs)
		}
	})

	t.Run("relay host killed", func(t *testing.T) {
		const dest = "/var/tmp/killed.bin"
		srv.served.Store(0)
		srv.rate.Store(8 << 20)
		defer srv.rate.Store(0)
		victim := d.container(t, 1)
		var once sync.Once
		stop := make(chan struct{})
		killed := make(chan int64, 1)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if n := d.partSize(t, 1, dest); n >= 16<<20 {
					once.Do(func() {
						_ = exec.Command("docker", "kill", victim).Run()
						killed <- n
					})
					return
				}
			}
		}()
		start := time.Now()
		a, err := d.applyOf(d.in("source="+srv.url(), "dest="+dest), "apply")
		close(stop)
		var at int64 = -1
		select {
		case at = <-killed:
		default:
		}
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		o := a.Outcome()
		if at < 0 {
			t.Fatalf("node[1] was never seen with 16 MiB: the transfer was too fast to kill a host in it: %+v", o)
		}
		t.Logf("killed node[1] at %d bytes; apply ended in %s", at, time.Since(start).Round(time.Second))
		said := false
		for _, f := range o.Failures {
			if f.Host != "node[1]" {
				t.Errorf("apply failed %s too: %+v", f.Host, f)
			}
			said = said || strings.Contains(f.Error+f.Tail, "stopped answering")
		}
		if o.Failed == 0 || !said {
			t.Fatalf("apply should fail node[1], saying it stopped answering: %+v", o.Failures)
		}
		for _, n := range []string{"node[0]", "node[2]", "node[3]"} {
			if s := a.State.Steps[`step.artifact["`+n+`"]`]; s == nil || s.Status != state.StatusApplied {
				t.Errorf("%s did not finish: %+v", n, s)
			}
		}
		d.wantEverywhere(t, dest, sum, 1)
		if got := srv.served.Load(); got != size {
			t.Errorf("the source sent %d bytes; the survivors should have been fed by each other (want %d)", got, size)
		}
	})
}
