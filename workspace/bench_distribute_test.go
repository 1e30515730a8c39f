package workspace_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"diffuser/cloud/docker"
	"diffuser/cloud/docker/dockertest"
	"diffuser/engine"
	"diffuser/remote"
	"diffuser/runner"
	"diffuser/workspace"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDistribute measures the distribute step on real docker nodes
// with the operator's link to the cluster limited by tc: a token bucket on
// the egress of the cluster network's bridge device, which carries what the
// operator's machine sends into the network (the docker host is the
// operator here) but not what nodes send each other (bridged from veth to
// veth, never leaving through the bridge device itself).
//
// It reports the time to push the file once over that link (one SSH
// stream into cat >/dev/null on one node: "one copy"), then delivers it to
// every node with mode = "relay" and with mode = "direct", and prints
// relay/one-copy (target: at most 1.3) and direct/relay (target: about the
// number of nodes). Destinations are on the nodes' /run (tmpfs): the nodes
// share this machine's disk and CPUs, and what is measured is the link.
//
// One copy and relay run DIFFUSER_BENCH_RUNS times (default 3, alternating:
// the machine is shared and its load varies), direct once; the ratios are
// of medians. Times are the step's own (its longest instance, from the
// progress lines), not the apply's plan and state work around it.
//
// Settings (environment): DIFFUSER_BENCH_SIZE (bytes, or with a MiB/GiB
// suffix; default 1GiB), DIFFUSER_BENCH_HOSTS (8), DIFFUSER_BENCH_RATE (a tc
// rate; 200mbit), DIFFUSER_BENCH_MODES (one,relay,direct),
// DIFFUSER_BENCH_RUNS (3). Needs root, docker and tc; -benchtime is ignored.
func BenchmarkDistribute(b *testing.B) {
	if os.Geteuid() != 0 || !dockertest.DockerOK() {
		b.Skip("needs root and docker")
	}
	if _, err := exec.LookPath("tc"); err != nil {
		b.Skip("needs tc (iproute2)")
	}
	size := benchSize(b, envOr("DIFFUSER_BENCH_SIZE", "1GiB"))
	n, err := strconv.Atoi(envOr("DIFFUSER_BENCH_HOSTS", "8"))
	if err != nil || n < 1 || n > 8 {
		b.Fatalf("DIFFUSER_BENCH_HOSTS must be 1..8 (this machine's container budget)")
	}
	rate := envOr("DIFFUSER_BENCH_RATE", "200mbit")
	modes := strings.Split(envOr("DIFFUSER_BENCH_MODES", "one,relay,direct"), ",")
	dockertest.Serialize(b)

	d := newDistEnv(b, n)
	src := filepath.Join(d.dir, "artifact.bin")
	writeRandomFile(b, src, size)
	bridge := clusterBridge(b, d.cluster())
	if out, err := exec.Command("tc", "qdisc", "add", "dev", bridge, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms").CombinedOutput(); err != nil {
		b.Fatalf("tc on %s: %v\n%s", bridge, err, out)
	}
	defer func() {
		if out, err := exec.Command("tc", "qdisc", "del", "dev", bridge, "root").CombinedOutput(); err != nil {
			b.Errorf("removing the tc qdisc from %s: %v\n%s", bridge, err, out)
		}
	}()
	clean := func() { // the nodes' tmpfs is RAM: free it between runs
		for i := 0; i < n; i++ {
			_, _ = d.exec(b, i, "rm -rf /run/diffuser-bench")
		}
	}
	defer clean()
	b.ResetTimer()

	runs, err := strconv.Atoi(envOr("DIFFUSER_BENCH_RUNS", "3"))
	if err != nil || runs < 1 {
		b.Fatal("DIFFUSER_BENCH_RUNS must be a positive number")
	}
	sum := fileSum(b, src)
	res := map[string][]time.Duration{}
	for run := 0; run < runs; run++ {
		for _, m := range modes {
			if m == "direct" && run > 0 {
				continue // 8 copies over the slow link: once is enough
			}
			load := loadAvg()
			c0 := clusterCPU(b, d)
			start := time.Now()
			var took time.Duration
			switch m {
			case "one":
				pushOnce(b, d, src)
				took = time.Since(start)
			case "relay", "direct":
				dest := fmt.Sprintf("/run/diffuser-bench/%s-%d.bin", m, run)
				a := d.mustApply(b, d.in("source="+src, "dest="+dest, "mode="+m), "apply")
				// The step's own time: its longest instance (the apply
				// adds plan and state).
				took = stepTime(b, a.Res)
				d.wantEverywhereB(b, dest, sum)
			default:
				b.Fatalf("unknown mode %q in DIFFUSER_BENCH_MODES", m)
			}
			wall := time.Since(start)
			cpu := clusterCPU(b, d) - c0
			clean()
			res[m] = append(res[m], took)
			nodes := n
			if m == "one" {
				nodes = 1
			}
			fmt.Printf("distribute %-6s %d MiB to %d node(s) over %s: %.1fs (wall %.1fs; the nodes used %.0f CPU-s; load average before: %s)\n",
				m, size>>20, nodes, rate, took.Seconds(), wall.Seconds(), cpu.Seconds(), load)
		}
	}
	med := map[string]time.Duration{}
	for m, ds := range res {
		slices.Sort(ds)
		med[m] = ds[len(ds)/2]
		b.ReportMetric(med[m].Seconds(), "s/"+m)
		fmt.Printf("distribute %-6s median %.1fs, best %.1fs of %d\n", m, med[m].Seconds(), ds[0].Seconds(), len(ds))
	}
	if one, relay := med["one"], med["relay"]; one > 0 && relay > 0 {
		fmt.Printf("distribute: relay/one-copy = %.2f (medians; best relay / best one copy = %.2f; target <= 1.3)\n",
			relay.Seconds()/one.Seconds(), res["relay"][0].Seconds()/res["one"][0].Seconds())
		b.ReportMetric(relay.Seconds()/one.Seconds(), "relay/one")
	}
	if relay, direct := med["relay"], med["direct"]; relay > 0 && direct > 0 {
		fmt.Printf("distribute: direct/relay = %.2f (target about %d)\n", direct.Seconds()/relay.Seconds(), n)
		b.ReportMetric(direct.Seconds()/relay.Seconds(), "direct/relay")
	}
}

// stepTime is the longest instance of the artifact step in an apply.
func stepTime(b *testing.B, res *engine.Result) time.Duration {
	var longest time.Duration
	for _, s := range res.Spans {
		if strings.TrimPrefix(s.Step, "step.") == "artifact" {
			longest = max(longest, s.End.Sub(s.Start))
		}
	}
	if longest == 0 {
		b.Fatalf("no artifact step in the apply's spans: %+v", res.Spans)
	}
	return longest
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func benchSize(b *testing.B, s string) int64 {
	mult := int64(1)
	for suf, m := range map[string]int64{"GiB": 1 << 30, "MiB": 1 << 20} {
		if v, ok := strings.CutSuffix(s, suf); ok {
			s, mult = v, m
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		b.Fatalf("bad size %q", s)
	}
	return v * mult
}

// writeRandomFile writes size pseudo-random bytes (incompressible, so no
// transport can cheat).
func writeRandomFile(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	chunk := randomBytes(4 << 20)
	for left := size; left > 0; {
		k := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			b.Fatal(err)
		}
		chunk[0]++ // no two chunks alike
		left -= k
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func fileSum(b *testing.B, path string) string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (d *distEnv) wantEverywhereB(b *testing.B, path, sum string) {
	for i, s := range d.sums(b, path) {
		if s != sum {
			b.Fatalf("node[%d] %s: sha256 %q, want %s", i, path, s, sum)
		}
	}
}

// clusterBridge is the host-side bridge device of the cluster's network.
func clusterBridge(b *testing.B, cluster string) string {
	out, err := exec.Command("docker", "network", "inspect", "-f", "{{.Id}}", docker.NetworkName(cluster)).Output()
	if err != nil {
		b.Fatalf("docker network inspect: %v", err)
	}
	return "br-" + strings.TrimSpace(string(out))[:12]
}

// pushOnce streams the file once into `cat >/dev/null` on node[0] over
// diffuser's own SSH transport: the time the shaped link needs for one copy.
func pushOnce(b *testing.B, d *distEnv, src string) {
	ws := d.env.Layout().Workspace("distribute")
	st := d.readState(b, "distribute")
	h := st.Hosts["node[0]"]
	if h == nil {
		b.Fatal("no node[0] in state")
	}
	conn := workspace.NewSSHConnector(filepath.Join(ws, remote.KeyName))
	defer conn.Close()
	ctx := context.Background()
	r, err := conn.Runner(ctx, *h, nil)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	res, err := r.Run(ctx, "cat >/dev/null", runner.Options{Stdin: f})
	if err != nil || res.Exit != 0 {
		b.Fatalf("pushing one copy: exit %d, %v", res.Exit, err)
	}
}

// clusterCPU is the CPU time the cluster's containers used so far (cgroup v1 or v2).
func clusterCPU(b testing.TB, d *distEnv) time.Duration {
	var total time.Duration
	for i := 0; i < d.n; i++ {
		out, err := exec.Command("docker", "inspect", "-f", "{{.Id}}", d.container(b, i)).Output()
		if err != nil {
			continue
		}
		id := strings.TrimSpace(string(out))
		for _, p := range []string{
			"/sys/fs/cgroup/cpu,cpuacct/docker/" + id + "/cpuacct.usage",
			"/sys/fs/cgroup/cpuacct/docker/" + id + "/cpuacct.usage",
		} {
			if v, err := os.ReadFile(p); err == nil {
				ns, _ := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
				total += time.Duration(ns)
				break
			}
		}
		if v, err := os.ReadFile("/sys/fs/cgroup/system.slice/docker-" + id + ".scope/cpu.stat"); err == nil {
			for _, line := range strings.Split(string(v), "\n") {
				if us, ok := strings.CutPrefix(line, "usage_usec "); ok {
					n, _ := strconv.ParseInt(us, 10, 64)
					total += time.Duration(n) * time.Microsecond
				}
			}
		}
	}
	return total
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
