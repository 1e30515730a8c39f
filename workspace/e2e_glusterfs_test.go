//go:build e2e

package workspace_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func init() {
	e2eCases = append(e2eCases,
		// replica 1: files spread over the bricks, no second copy.
		e2eCase{name: "glusterfs-distributed", recipe: "glusterfs", vars: []string{"servers=2", "replica=1", "clients=2"}},
		// Erasure coded: 3 bricks per set, any one may fail.
		e2eCase{name: "glusterfs-disperse", recipe: "glusterfs", vars: []string{"servers=3", "replica=1", "disperse=3", "clients=1"}},
		// replica 2 over 2 servers, grown to 4: a second replica pair is
		// added and the volume rebalanced; data written before must survive.
		// First a changed layout is refused, and a grow that fails after
		// launching and probing the new servers, taken back, leaves no peer
		// behind to reject the servers of the real grow.
		e2eCase{name: "glusterfs-grow", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=1"},
			extra: func(t *testing.T, e *e2eEnv) {
				glusterfsLayoutKept(t, e)
				glusterfsFailedGrowTakenBack(t, e)
				glusterfsGrow(2, 4, 2)(t, e)
			}},
		// 6 servers join the pool in two rounds: server-0 probes servers 1
		// and 2, then servers 0, 1 and 2 probe 3, 4 and 5 at the same time.
		e2eCase{name: "glusterfs-pool", recipe: "glusterfs", vars: []string{"servers=6", "replica=2", "clients=1"},
			extra: glusterfsPool(6)},
	)
}

// glusterfsPool checks that every server sees every other one as a
// connected member of the trusted pool, and that the volume has a brick on
// each of them.
func glusterfsPool(servers int) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		for i := 0; i < servers; i++ {
			out := containerExec(t, cluster, fmt.Sprintf("server-%d", i), "gluster peer status")
			if n := strings.Count(out, "Peer in Cluster (Connected)"); n != servers-1 {
				t.Errorf("server-%d sees %d connected peers, want %d:\n%s", i, n, servers-1, out)
			}
		}
		info := containerExec(t, cluster, "server-0", "gluster volume info gv0")
		if n := len(regexp.MustCompile(`(?m)^Brick\d+: `).FindAllString(info, -1)); n != servers {
			t.Errorf("volume has %d bricks, want %d:\n%s", n, servers, info)
		}
	}
}

// glusterfsLayoutKept: replica changed on a live replicated volume is
// refused at the volume step, naming the volume's layout and what to set;
// the volume keeps it, and an apply with replica set back (the workspace
// remembers the failed apply's variables) leaves nothing to do.
func glusterfsLayoutKept(t *testing.T, e *e2eEnv) {
	said := e.applyRefused("servers=2", "replica=1", "clients=1")
	for _, want := range []string{`step.volume["server[0]"]`, "volume gv0 is replicated (replica = 2); the recipe now says replica = 1, disperse = 0",
		"set replica and disperse back"} {
		if !strings.Contains(said, want) {
			t.Errorf("apply with replica=1 on a replica-2 volume said:\n%s\nwant %q", said, want)
		}
	}
	if info := containerExec(t, e.cluster(t), "server-0", "gluster volume info gv0"); !strings.Contains(info, "Number of Bricks: 1 x 2 = 2") {
		t.Errorf("after the refused layout change:\n%s", info)
	}
	e.apply(t, "servers=2", "replica=2", "clients=1")
	e.replanNoop(t, "servers=2", "replica=2", "clients=1")
}

// glusterfsFailedGrowTakenBack: a grow to 4 servers that fails at the
// volume step (a rename, refused) after servers 2 and 3 were launched and
// probed into the pool; then servers=2 again: pool_prune detaches the two
// (they hold no brick) before their machines go, so that the pool does not
// remember peers at addresses the real grow's new servers may get.
func glusterfsFailedGrowTakenBack(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	said := e.applyRefused("servers=4", "replica=2", "clients=1", "volume_name=gv1")
	if !strings.Contains(said, "set volume_name back to gv0") {
		t.Fatalf("the failing grow said:\n%s", said)
	}
	if pool := containerExec(t, cluster, "server-0", "gluster pool list"); strings.Count(pool, "Connected") != 4 {
		t.Fatalf("the failed grow's servers are not in the pool:\n%s", pool)
	}
	e.apply(t, "servers=2", "replica=2", "clients=1", "volume_name=gv0")
	if pool := containerExec(t, cluster, "server-0", "gluster pool list"); strings.Count(pool, "Connected") != 2 || strings.Contains(pool, "Disconnected") {
		t.Errorf("after taking the grow back, the pool is not server-0 and server-1 alone:\n%s", pool)
	}
	e.replanNoop(t, "servers=2", "replica=2", "clients=1")
}

// glusterfsGrow writes files, applies with `to` servers, checks that the
// volume has `to` bricks (in sets of `set`), waits for the rebalance and
// reads every file back, then verifies and re-plans with the new size.
func glusterfsGrow(from, to, set int) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		// Many small files so the rebalance has something to move, and one
		// big one spanning the test.
		containerExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/gluster/before-grow
for i in $(seq 1 40); do head -c 65536 /dev/urandom > /mnt/gluster/before-grow/f$i; done
head -c 16777216 /dev/urandom > /mnt/gluster/before-grow/big
cd /mnt/gluster/before-grow && sha256sum * > /root/before-grow.sha256`)

		vars := []string{fmt.Sprintf("servers=%d", to), fmt.Sprintf("replica=%d", set), "clients=1"}
		start := time.Now()
		e.apply(t, vars...)
		t.Logf("grow %d -> %d servers: apply in %s", from, to, time.Since(start).Round(time.Second))
		fmt.Printf("E2E glusterfs-grow: grow %d -> %d servers in %s\n", from, to, time.Since(start).Round(time.Second))

		info := containerExec(t, cluster, "server-0", "gluster volume info gv0")
		want := fmt.Sprintf("Number of Bricks: %d x %d = %d", to/set, set, to)
		if set == 1 {
			want = fmt.Sprintf("Number of Bricks: %d", to)
		}
		if !strings.Contains(info, want) {
			t.Fatalf("after growing, volume info lacks %q:\n%s", want, info)
		}
		if n := len(regexp.MustCompile(`(?m)^Brick\d+: `).FindAllString(info, -1)); n != to {
			t.Fatalf("after growing, volume has %d bricks, want %d:\n%s", n, to, info)
		}
		// The rebalance runs in the background: wait for it, then every
		// file written before must read back unchanged.
		var status string
		for i := 0; i < 120; i++ {
			status = containerExec(t, cluster, "server-0", "gluster volume rebalance gv0 status || true")
			if strings.Contains(status, "completed") && !strings.Contains(status, "in progress") {
				break
			}
			time.Sleep(2 * time.Second)
		}
		if strings.Contains(status, "failed") || !strings.Contains(status, "completed") {
			t.Fatalf("rebalance did not complete:\n%s", status)
		}
		t.Logf("rebalance:\n%s", status)
		containerExec(t, cluster, "client-0", "sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; cd /mnt/gluster/before-grow && sha256sum -c --quiet /root/before-grow.sha256")
		// Files now live on the new bricks too.
		moved := containerExec(t, cluster, fmt.Sprintf("server-%d", to-1), "ls /data/brick/gv0/before-grow | wc -l")
		t.Logf("files on server[%d]'s brick after rebalance: %s", to-1, strings.TrimSpace(moved))

		e.verify(t, vars...)
		e.replanNoop(t, vars...)
	}
}
