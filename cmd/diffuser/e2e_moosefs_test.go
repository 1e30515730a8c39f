//go:build e2e

package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

func init() {
	e2eCases = append(e2eCases,
		// goal 2 over 2 chunkservers: verify stops chunkserver[0] and reads
		// every chunk from the other copy.
		e2eCase{name: "moosefs", recipe: "moosefs", vars: []string{"chunkservers=2", "goal=2", "clients=2", "metaloggers=1"}},
		// No metalogger; then one more chunkserver, one more client and
		// goal 3: data written before must read back on the new client and
		// end up with 3 copies.
		e2eCase{name: "moosefs-grow", recipe: "moosefs", vars: []string{"chunkservers=2", "goal=2", "clients=1", "metaloggers=0"},
			extra: moosefsGrow},
	)
}

// moosefsExec runs a shell command in one of the cluster's containers.
func moosefsExec(t *testing.T, cluster, host, script string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-"+host, "bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec %s: %v\n%s\n%s", host, err, script, out)
	}
	return string(out)
}

func moosefsGrow(t *testing.T, e *e2eEnv) {
	cluster := clusterOf(t, e.data, "moosefs")
	moosefsExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/moosefs/before-grow
for i in $(seq 1 20); do head -c 200000 /dev/urandom > /mnt/moosefs/before-grow/f$i; done
head -c 16777216 /dev/urandom > /mnt/moosefs/before-grow/big
cd /mnt/moosefs/before-grow && sha256sum * > /root/before-grow.sha256`)
	sums := moosefsExec(t, cluster, "client-0", "cat /root/before-grow.sha256")

	args := []string{"--site", e.site, "--var", "chunkservers=3", "--var", "goal=3", "--var", "clients=2", "--var", "metaloggers=0"}
	start := time.Now()
	e.must(t, append([]string{"apply", "moosefs", "-auto-approve", "--progress", "plain"}, args...)...)
	t.Logf("grow to 3 chunkservers, 2 clients, goal 3: apply in %s", time.Since(start).Round(time.Second))
	fmt.Printf("E2E moosefs-grow: grow 2 -> 3 chunkservers, 1 -> 2 clients, goal 2 -> 3 in %s\n", time.Since(start).Round(time.Second))

	cs := moosefsExec(t, cluster, "master-0", "mfscli -H $(hostname -I | cut -d' ' -f1) -SCS -p")
	if n := strings.Count(cs, "chunk servers:"); n != 3 {
		t.Fatalf("master knows %d chunkservers, want 3:\n%s", n, cs)
	}
	// The new client reads what the first one wrote before the growth.
	moosefsExec(t, cluster, "client-1", "cd /mnt/moosefs/before-grow && cat > /tmp/sums <<'EOF'\n"+sums+"EOF\nsha256sum -c --quiet /tmp/sums")
	// The master adds the third copies in the background.
	copies := regexp.MustCompile(`copy 3: `)
	var info string
	for i := 0; i < 90; i++ {
		info = moosefsExec(t, cluster, "client-0", "mfsfileinfo /mnt/moosefs/before-grow/big")
		if len(copies.FindAllString(info, -1)) > 0 && !strings.Contains(info, "no valid copies") &&
			strings.Count(info, "copy 3: ") == strings.Count(info, "chunk ") {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if strings.Count(info, "copy 3: ") != strings.Count(info, "chunk ") {
		t.Fatalf("goal 3 not reached on every chunk:\n%s", info)
	}
	t.Logf("after goal 3:\n%s", info)

	out := e.must(t, append([]string{"verify", "moosefs"}, args...)...)
	if !strings.Contains(out, "checks passed") {
		t.Fatalf("verify after growing did not pass:\n%s", out)
	}
	if code, out := e.run(t, append([]string{"plan", "moosefs", "--detailed-exitcode"}, args...)...); code != 0 {
		t.Fatalf("re-plan after growing is not a no-op (exit %d):\n%s", code, out)
	}
}
