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
		// goal 2 over 2 chunkservers: verify stops chunkserver[0] and reads
		// every chunk from the other copy; moosefsFailover repeats that with
		// a file the reader has never cached.
		e2eCase{name: "moosefs", recipe: "moosefs", vars: []string{"chunkservers=2", "goal=2", "clients=2", "metaloggers=1"},
			extra: moosefsFailover},
		// No metalogger; then one more chunkserver, one more client and
		// goal 3: data written before must read back on the new client and
		// end up with 3 copies.
		e2eCase{name: "moosefs-grow", recipe: "moosefs", vars: []string{"chunkservers=2", "goal=2", "clients=1", "metaloggers=0"},
			extra: moosefsGrow},
	)
}

// moosefsFailover checks failover with reads that cannot come from a cache.
// diffuser verify reads its file on client[1] before stopping a chunkserver,
// and mfsmount keeps the data cached (mfscachemode=AUTO): with every
// chunkserver down the second read still succeeds. Here each file is read
// on client[1] for the first time after the stop, once through the page
// cache and once with O_DIRECT; and, as a control that the oracle can fail,
// a file whose every copy is down must not be readable.
func moosefsFailover(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	write := func(name string) string {
		out := containerExec(t, cluster, "client-0", "set -e; head -c 8388608 /dev/urandom > /mnt/moosefs/"+name+"; sync; sha256sum < /mnt/moosefs/"+name+" | cut -d' ' -f1")
		return strings.TrimSpace(out)
	}
	read := "sha256sum < /mnt/moosefs/%[1]s | cut -d' ' -f1; dd if=/mnt/moosefs/%[1]s iflag=direct bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1"
	timed := func(what string, f func()) {
		t0 := time.Now()
		f()
		t.Logf("%s: %s", what, time.Since(t0).Round(100*time.Millisecond))
	}
	stop := func(i int) {
		timed(fmt.Sprintf("stop chunkserver[%d]", i), func() {
			containerExec(t, cluster, fmt.Sprintf("chunkserver-%d", i), "systemctl stop moosefs-chunkserver")
		})
	}
	start := func(i int) {
		containerExec(t, cluster, fmt.Sprintf("chunkserver-%d", i), "systemctl start moosefs-chunkserver")
	}
	defer start(0)
	defer start(1)

	var sum string
	timed("write failover-1", func() { sum = write("failover-1") })
	stop(0)
	var got []string
	timed("first reads of failover-1 on client[1] with chunkserver[0] down", func() {
		got = strings.Fields(containerExec(t, cluster, "client-1", "timeout 120 bash -c "+shellSingle(fmt.Sprintf(read, "failover-1"))))
	})
	if len(got) != 2 || got[0] != sum || got[1] != sum {
		t.Fatalf("with chunkserver[0] down, client[1] read %v, want %s twice", got, sum)
	}
	t.Logf("chunkserver[0] down: first read of failover-1 on client[1] (cached and O_DIRECT) matches %s", sum[:12])
	start(0)
	timed("chunkserver[0] connected again", func() { waitChunkservers(t, cluster, 2) })

	// Control: both copies down, a never-read file must not come back.
	timed("write failover-2", func() { write("failover-2") })
	stop(0)
	stop(1)
	// The read runs detached: a read with no copy left blocks in mfsmount
	// (and in the kernel, beyond the reach of kill) for minutes while it
	// retries. It is judged after 15 s and finishes once the chunkservers
	// are back.
	out := containerExec(t, cluster, "client-1", `rm -f /tmp/failover-2.out
setsid sh -c 'sha256sum < /mnt/moosefs/failover-2 > /tmp/failover-2.out 2>&1; echo "exit $?" >> /tmp/failover-2.out' </dev/null >/dev/null 2>&1 &
sleep 15; cat /tmp/failover-2.out 2>/dev/null; true`)
	if strings.Contains(out, "exit 0") {
		t.Fatalf("with both chunkservers down, client[1] still read failover-2 (%s): the failover read is not reaching the chunkservers", strings.TrimSpace(out))
	}
	t.Logf("control: both chunkservers down, failover-2 not readable within 15 s (%q)", strings.TrimSpace(out))
	start(0)
	start(1)
	timed("both chunkservers connected again", func() { waitChunkservers(t, cluster, 2) })
	// The blocked read must now complete (and release the mount before destroy).
	timed("the blocked read completes", func() {
		for i := 0; i < 180; i++ {
			if out = containerExec(t, cluster, "client-1", "cat /tmp/failover-2.out 2>/dev/null; true"); strings.Contains(out, "exit") {
				break
			}
			time.Sleep(time.Second)
		}
	})
	t.Logf("the blocked read of failover-2 ended with: %q", strings.TrimSpace(out))
	timed("remove the files", func() { containerExec(t, cluster, "client-0", "rm -f /mnt/moosefs/failover-1 /mnt/moosefs/failover-2") })
}

// waitChunkservers waits until the master lists n chunkservers.
func waitChunkservers(t *testing.T, cluster string, n int) {
	t.Helper()
	var cs string
	for i := 0; i < 60; i++ {
		cs = containerExec(t, cluster, "master-0", "mfscli -H $(hostname -I | cut -d' ' -f1) -SCS -p -n")
		if moosefsConnected(cs) == n {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the master does not list %d chunkservers:\n%s", n, cs)
}

// moosefsConnected counts the connected chunkservers in `mfscli -SCS -p`
// output; stopped ones are listed as "Disconnected chunk servers:".
func moosefsConnected(cs string) int {
	n := 0
	for _, l := range strings.Split(cs, "\n") {
		if strings.HasPrefix(l, "chunk servers:") {
			n++
		}
	}
	return n
}

// shellSingle quotes s for sh in single quotes.
func shellSingle(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func moosefsGrow(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	containerExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/moosefs/before-grow
for i in $(seq 1 20); do head -c 200000 /dev/urandom > /mnt/moosefs/before-grow/f$i; done
head -c 16777216 /dev/urandom > /mnt/moosefs/before-grow/big
cd /mnt/moosefs/before-grow && sha256sum * > /root/before-grow.sha256`)
	sums := containerExec(t, cluster, "client-0", "cat /root/before-grow.sha256")

	vars := []string{"chunkservers=3", "goal=3", "clients=2", "metaloggers=0"}
	start := time.Now()
	e.apply(t, vars...)
	t.Logf("grow to 3 chunkservers, 2 clients, goal 3: apply in %s", time.Since(start).Round(time.Second))
	fmt.Printf("E2E moosefs-grow: grow 2 -> 3 chunkservers, 1 -> 2 clients, goal 2 -> 3 in %s\n", time.Since(start).Round(time.Second))

	cs := containerExec(t, cluster, "master-0", "mfscli -H $(hostname -I | cut -d' ' -f1) -SCS -p")
	if n := moosefsConnected(cs); n != 3 {
		t.Fatalf("master knows %d chunkservers, want 3:\n%s", n, cs)
	}
	// The new client reads what the first one wrote before the growth.
	containerExec(t, cluster, "client-1", "cd /mnt/moosefs/before-grow && cat > /tmp/sums <<'EOF'\n"+sums+"EOF\nsha256sum -c --quiet /tmp/sums")
	// The master adds the third copies in the background.
	copies := regexp.MustCompile(`copy 3: `)
	var info string
	for i := 0; i < 90; i++ {
		info = containerExec(t, cluster, "client-0", "mfsfileinfo /mnt/moosefs/before-grow/big")
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

	e.verify(t, vars...)
	e.replanNoop(t, vars...)
}
