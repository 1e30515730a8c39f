//go:build e2e

package workspace_test

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"diffuser/engine"
)

func init() {
	e2eCases = append(e2eCases,
		// A server's container is removed; apply -replace brings a new
		// machine in its place (same address), which takes the old one's
		// place in the pool and is healed: every byte written before is
		// on it. Then the other server is stopped and every file is read
		// again, now served by the new one alone.
		e2eCase{name: "glusterfs-replace", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=1"},
			extra: glusterfsReplace("server[1]", "server-1", "server-0", 1, []string{"servers=2", "replica=2", "clients=1"})},
		// The same on an erasure-coded volume (3 bricks, any one may fail).
		e2eCase{name: "glusterfs-disperse-replace", recipe: "glusterfs", vars: []string{"servers=3", "replica=1", "disperse=3", "clients=1"},
			extra: glusterfsReplace("server[2]", "server-2", "server-0", 2, []string{"servers=3", "replica=1", "disperse=3", "clients=1"})},
	)
}

// glusterWrite writes files of assorted sizes through client[0]'s mount
// and returns their checksums (md5sum lines, sorted).
func glusterWrite(t *testing.T, cluster string) string {
	t.Helper()
	glusterfsExec(t, cluster, "client-0", `set -e; mkdir -p /mnt/gluster/replace
		for i in $(seq 1 24); do head -c $(( (i * 7919) % 3000000 + 1 )) /dev/urandom > /mnt/gluster/replace/f$i; done
		mkdir -p /mnt/gluster/replace/dir/sub; echo small > /mnt/gluster/replace/dir/sub/s; sync`)
	return glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", false)
}

// glusterSums reads every file under dir on host (with O_DIRECT when
// direct, so the client's page cache cannot answer) and returns sorted
// "sum path" lines.
func glusterSums(t *testing.T, cluster, host, dir string, direct bool) string {
	t.Helper()
	read := "cat \"$f\""
	if direct {
		read = "dd if=\"$f\" iflag=direct bs=1M status=none"
	}
	out := glusterfsExec(t, cluster, host, fmt.Sprintf(`set -e; cd %s; find . -type f | sort | while read -r f; do s=$(%s | md5sum | cut -d' ' -f1); echo "$s $f"; done`, dir, read))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(lines)
	if len(lines) < 25 {
		t.Fatalf("read %d files under %s on %s, want 25:\n%s", len(lines), dir, host, out)
	}
	return strings.Join(lines, "\n")
}

// glusterHealed waits until every brick is connected with nothing left to
// heal, and fails the test after limit.
func glusterHealed(t *testing.T, cluster string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, _ := exec.Command("docker", "exec", "diffuser-"+cluster+"-server-0", "gluster", "volume", "heal", "gv0", "info").CombinedOutput()
		s := string(out)
		if strings.Count(s, "Status: Connected") > 0 && !strings.Contains(s, "Transport endpoint") &&
			strings.Count(s, "Number of entries: 0") == strings.Count(s, "Number of entries:") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heal not done after %s:\n%s", limit, s)
		}
		time.Sleep(2 * time.Second)
	}
}

func glusterfsReplace(host, container, other string, peers int, vars []string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		want := glusterWrite(t, cluster)
		old := e.readState(t, e.recipe).Hosts[host]
		if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-"+container).CombinedOutput(); err != nil {
			t.Fatalf("docker rm: %v: %s", err, out)
		}
		// The plan says what happens to the data before anything runs.
		p, err := e.planOf(e.in(vars...), "apply", host)
		if err != nil {
			t.Fatal(diagText(err))
		}
		var launch, rejoin *engine.Change
		for _, c := range p.Plan.Changes {
			switch c.Addr {
			case fmt.Sprintf("launch[%q]", host):
				launch = c
			case fmt.Sprintf("step.brick_rejoin[%q]", host):
				rejoin = c
			}
			if strings.HasPrefix(c.Addr, "step.brick_rejoin[") && c.Host != host {
				t.Errorf("plan runs the rejoin on a server that is not replaced: %s", c.Addr)
			}
		}
		if launch == nil || launch.Action != engine.Replace || !strings.Contains(launch.Note, "takes the old one's place in the pool") {
			t.Fatalf("launch of %s: %+v", host, launch)
		}
		if rejoin == nil || rejoin.Reason != "host is replaced" {
			t.Fatalf("rejoin of %s: %+v", host, rejoin)
		}
		t0 := time.Now()
		e.mustApply(t, e.in(vars...), "apply", host)
		t.Logf("replace of %s (container removed): %s", host, time.Since(t0).Round(time.Second))
		now := e.readState(t, e.recipe).Hosts[host]
		if now.ProviderID == old.ProviderID || now.PrivateIP != old.PrivateIP {
			t.Fatalf("%s after replace: id %s ip %s, was id %s ip %s", host, now.ProviderID, now.PrivateIP, old.ProviderID, old.PrivateIP)
		}
		glusterHealed(t, cluster, 5*time.Minute)
		status := glusterfsExec(t, cluster, other, "gluster peer status")
		if strings.Contains(status, "Rejected") || strings.Count(status, "Peer in Cluster (Connected)") != peers {
			t.Errorf("peer status on %s after the replace:\n%s", other, status)
		}
		if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
			t.Fatalf("after the replace the files read back differently:\n%s\nwant:\n%s", got, want)
		}
		e.replanNoop(t, vars...)

		// Kill another server's gluster processes: the files are now read
		// with the new machine in the set and the other one down.
		glusterfsExec(t, cluster, other, "systemctl stop glusterd; pkill -9 -x glusterfsd; pkill -9 -x glusterfs; sleep 1; ! pgrep -x glusterfsd")
		if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
			t.Fatalf("with %s down the files read back differently:\n%s\nwant:\n%s", other, got, want)
		}
		glusterfsExec(t, cluster, other, "systemctl start glusterd && for i in $(seq 1 60); do gluster volume status gv0 | grep -q \"^Brick $(hostname -I | cut -d' ' -f1).* Y \" && exit 0; sleep 1; done; gluster --mode=script volume start gv0 force")
		glusterHealed(t, cluster, 5*time.Minute)
		e.verify(t, vars...)
		e.replanNoop(t, vars...)
	}
}
