//go:build e2e

package workspace_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/workspace"
)

func init() {
	e2eCases = append(e2eCases,
		// A server's container is removed; apply -replace brings a new
		// machine in its place (same address), which takes the old one's
		// place in the pool and is healed: every byte written before is
		// on it. Then the other server's container is removed (server[0],
		// the pool's seed and the clients' volfile server): every file is
		// read again, now served by the new server alone, and server[0]
		// is replaced in turn.
		e2eCase{name: "glusterfs-replace", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=1"},
			extra: glusterfsReplace([]string{"servers=2", "replica=2", "clients=1"}, 1, 0)},
		// The same on an erasure-coded volume (3 bricks, any one may fail):
		// server[2], then server[1].
		e2eCase{name: "glusterfs-disperse-replace", recipe: "glusterfs", vars: []string{"servers=3", "replica=1", "disperse=3", "clients=1"},
			extra: glusterfsReplace([]string{"servers=3", "replica=1", "disperse=3", "clients=1"}, 2, 1)},
	)
}

// glusterWrite writes files of assorted sizes through client[0]'s mount
// and returns their checksums (md5sum lines, sorted).
func glusterWrite(t *testing.T, cluster string) string {
	t.Helper()
	containerExec(t, cluster, "client-0", `set -e; mkdir -p /mnt/gluster/replace
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
	out := containerExec(t, cluster, host, fmt.Sprintf(`set -e; cd %s; find . -type f | sort | while read -r f; do s=$(%s | md5sum | cut -d' ' -f1); echo "$s $f"; done`, dir, read))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(lines)
	if len(lines) < 25 {
		t.Fatalf("read %d files under %s on %s, want 25:\n%s", len(lines), dir, host, out)
	}
	return strings.Join(lines, "\n")
}

// glusterHealed waits until every brick is connected with nothing left to
// heal, and fails the test after limit.
func glusterHealed(t *testing.T, cluster, on string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, _ := exec.Command("docker", "exec", "diffuser-"+cluster+"-"+on, "gluster", "volume", "heal", "gv0", "info").CombinedOutput()
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

var onlineRE = regexp.MustCompile(`(?m)^Online\s*:\s*Y\s*$`)

// glusterfsReplace removes server[first]'s container and replaces it,
// checks every byte, then removes server[second]'s container, checks every
// byte again (served without it), and replaces that one too.
func glusterfsReplace(vars []string, first, second int) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		servers := 0
		for name := range e.readState(t, e.recipe).Hosts {
			if strings.HasPrefix(name, "server[") {
				servers++
			}
		}
		want := glusterWrite(t, cluster)
		glusterReplaceOne(t, e, vars, first, second, servers, want)

		// Another server dies: the files are read without it, from the
		// copies (or fragments) the replaced server now holds.
		other := fmt.Sprintf("server-%d", second)
		if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-"+other).CombinedOutput(); err != nil {
			t.Fatalf("docker rm: %v: %s", err, out)
		}
		if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
			t.Fatalf("with %s gone the files read back differently:\n%s\nwant:\n%s", other, got, want)
		}
		t.Logf("server[%d] removed: all 25 files read back with O_DIRECT, checksums equal", second)
		glusterReplaceOne(t, e, vars, second, first, servers, want)
		e.verify(t, vars...)
		e.replanNoop(t, vars...)
	}
}

// glusterReplaceOne removes server[i]'s container (unless it is gone
// already), checks the plan, applies -replace, waits for the heal (asked
// on server[survivor]) and checks every byte.
func glusterReplaceOne(t *testing.T, e *e2eEnv, vars []string, i, survivor, servers int, want string) {
	t.Helper()
	cluster := e.cluster(t)
	host, container, on := fmt.Sprintf("server[%d]", i), fmt.Sprintf("server-%d", i), fmt.Sprintf("server-%d", survivor)
	old := e.readState(t, e.recipe).Hosts[host]
	if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-"+container).CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	// The plan says what happens to the data before anything runs.
	p, err := e.planOf(e.in(vars...), "apply", host)
	if err != nil {
		t.Fatal(diagText(err))
	}
	p.Close() // its lock: the apply below takes it
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
	t.Logf("plan for %s: %s (%s); the data: %s", host, launch.Action, launch.Reason, launch.Note)
	t0 := time.Now()
	e.mustApply(t, e.in(vars...), "apply", host)
	took := time.Since(t0).Round(time.Second)
	now := e.readState(t, e.recipe).Hosts[host]
	if now.ProviderID == old.ProviderID || now.PrivateIP != old.PrivateIP {
		t.Fatalf("%s after replace: id %s ip %s, was id %s ip %s", host, now.ProviderID, now.PrivateIP, old.ProviderID, old.PrivateIP)
	}
	glusterHealed(t, cluster, on, 5*time.Minute)
	t.Logf("replace of %s (container removed): apply %s, healed %s after it began", host, took, time.Since(t0).Round(time.Second))
	for j := 0; j < servers; j++ {
		name := fmt.Sprintf("server-%d", j)
		status := containerExec(t, cluster, name, "gluster peer status")
		if strings.Contains(status, "Rejected") || strings.Count(status, "Peer in Cluster (Connected)") != servers-1 {
			t.Errorf("peer status on %s after the replace of %s:\n%s", name, host, status)
		}
	}
	if vi := containerExec(t, cluster, on, "gluster volume status gv0 detail"); len(onlineRE.FindAllString(vi, -1)) != servers {
		t.Errorf("not every brick is online after the replace of %s:\n%s", host, vi)
	}
	if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
		t.Fatalf("after the replace of %s the files read back differently:\n%s\nwant:\n%s", host, got, want)
	}
	e.replanNoop(t, vars...)
}

func init() {
	e2eCases = append(e2eCases,
		// 3 OSDs, 3 copies: osd[1]'s container is removed and the host
		// replaced (osd.1 destroyed and made again on the new host,
		// backfilled until active+clean); every byte read back through a
		// fresh ceph-fuse mount; then osd[0] is removed, everything read
		// again from the two left, and osd[0] replaced in turn; then the
		// live osd[2] is replaced (drained first).
		e2eCase{name: "ceph-replace", recipe: "ceph", vars: []string{"monitors=1", "osds=3", "clients=1", "osd_size_gb=5"},
			extra: cephReplace([]string{"monitors=1", "osds=3", "clients=1", "osd_size_gb=5"})},
		// 3 chunkservers, goal 2: chunkserver[1]'s container is removed and
		// replaced, the apply waits until every chunk has 2 copies again;
		// then chunkserver[2] is removed, everything read again, and
		// replaced in turn; then the live chunkserver[0] is replaced
		// (drained first).
		e2eCase{name: "moosefs-replace", recipe: "moosefs", vars: []string{"chunkservers=3", "goal=2", "clients=1", "metaloggers=0"},
			extra: moosefsReplace([]string{"chunkservers=3", "goal=2", "clients=1", "metaloggers=0"})},
	)
}

// replacePlan removes the container of host (group[i]), checks that the
// plan replaces it with the group's replace_note containing note and runs
// each of steps (address: reason), applies -replace and checks that the
// host has a new machine at the same address. It returns the apply's time.
func replacePlan(t *testing.T, e *e2eEnv, vars []string, host, note string, steps map[string]string) time.Duration {
	t.Helper()
	cluster := e.cluster(t)
	old := e.readState(t, e.recipe).Hosts[host]
	container := strings.NewReplacer("[", "-", "]", "").Replace(host)
	if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-"+container).CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	p, err := e.planOf(e.in(vars...), "apply", host)
	if err != nil {
		t.Fatal(diagText(err))
	}
	// The plan holds the workspace's lock: released before the apply
	// below takes it (it was left to the garbage collector, which closed
	// the lock file, or not, before the apply asked: "state is locked by"
	// this very process).
	p.Close()
	found := map[string]*engine.Change{}
	for _, c := range p.Plan.Changes {
		found[c.Addr] = c
	}
	launch := found[fmt.Sprintf("launch[%q]", host)]
	if launch == nil || launch.Action != engine.Replace || !strings.Contains(launch.Note, note) {
		t.Fatalf("launch of %s: %+v", host, launch)
	}
	t.Logf("plan for %s: %s (%s); the data: %s", host, launch.Action, launch.Reason, launch.Note)
	for addr, reason := range steps {
		if c := found[addr]; c == nil || c.Reason != reason {
			t.Fatalf("plan: %s: %+v, want reason %q", addr, c, reason)
		}
	}
	t0 := time.Now()
	e.mustApply(t, e.in(vars...), "apply", host)
	took := time.Since(t0).Round(time.Second)
	now := e.readState(t, e.recipe).Hosts[host]
	if now.ProviderID == old.ProviderID || now.PrivateIP != old.PrivateIP {
		t.Fatalf("%s after replace: id %s ip %s, was id %s ip %s", host, now.ProviderID, now.PrivateIP, old.ProviderID, old.PrivateIP)
	}
	t.Logf("replace of %s (container removed): apply %s", host, took)
	return took
}

// cephReplaceRead reads every file written before through a second
// ceph-fuse mount made for the purpose (nothing from the client's cache).
const cephReplaceRead = `set -e
mkdir -p /mnt/ceph-check
timeout 120 ceph-fuse --id fsclient --client_fs cephfs /mnt/ceph-check >/dev/null 2>&1
trap 'cd /; umount /mnt/ceph-check' EXIT
cd /mnt/ceph-check/replace && timeout 300 sha256sum -c --quiet /root/replace.sha256 && wc -l < /root/replace.sha256`

func cephReplace(vars []string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		containerExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/cephfs/replace/sub
for i in $(seq 1 40); do head -c $(( (i * 7919) % 300000 + 1 )) /dev/urandom > /mnt/cephfs/replace/f$i; done
head -c 16777216 /dev/urandom > /mnt/cephfs/replace/sub/big
sync
cd /mnt/cephfs/replace && find . -type f | sort | xargs sha256sum > /root/replace.sha256`)
		read := func(when string) {
			t.Helper()
			n := strings.TrimSpace(containerExec(t, cluster, "client-0", cephReplaceRead))
			if n != "41" {
				t.Fatalf("%s: checked %s files, want 41", when, n)
			}
			t.Logf("%s: 41 files read back through a fresh ceph-fuse mount, sha256 equal", when)
		}
		replaceOSD := func(i int) {
			host := fmt.Sprintf("osd[%d]", i)
			replacePlan(t, e, vars, host, "marked destroyed", map[string]string{
				fmt.Sprintf("step.osd_replace[%q]", host): "host is replaced",
				`step.osd_recovered["mon[0]"]`:            host + " is replaced",
			})
			tree := containerExec(t, cluster, "mon-0", "ceph osd tree; ceph pg stat; ceph health detail")
			t.Logf("after the replace of %s:\n%s", host, tree)
			if !regexp.MustCompile(fmt.Sprintf(`osd\.%d\s+up\s+1\.0`, i)).MatchString(tree) {
				t.Fatalf("osd.%d is not up and in after the replace of %s", i, host)
			}
			if strings.Contains(tree, "destroyed") {
				t.Fatalf("an OSD is still destroyed after the replace of %s", host)
			}
			read("after the replace of " + host)
			e.replanNoop(t, vars...)
		}
		replaceOSD(1)

		// Another OSD dies: with 2 of 3 copies (min_size 2) every
		// placement group stays active, and every byte reads back.
		if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-osd-0").CombinedOutput(); err != nil {
			t.Fatalf("docker rm: %v: %s", err, out)
		}
		containerExec(t, cluster, "mon-0", `for i in $(seq 1 90); do ceph osd dump -f json | python3 -c 'import json,sys; sys.exit(0 if [o for o in json.load(sys.stdin)["osds"] if o["osd"] == 0 and not o["up"]] else 1)' && exit 0; ceph osd down 0 >/dev/null 2>&1; sleep 2; done; exit 1`)
		read("with osd[0] removed (osd.0 down)")
		replaceOSD(0)

		// A live OSD host must go: -replace drains it first (active+clean,
		// ok-to-stop, its OSD stopped and marked down), then replaces it.
		liveReplace(t, e, vars, "osd[2]", "osd_replace", "(sensitive command hidden)")
		t.Logf("after the live replace of osd[2]:\n%s", containerExec(t, cluster, "mon-0", "ceph osd tree; ceph pg stat"))
		read("after the live replace of osd[2]")
		e.replanNoop(t, vars...)
		e.verify(t, vars...)
	}
}

// moosefsReplaceRead reads every file written before through a second
// mfsmount made for the purpose (nothing from the client's caches) and
// checks every chunk's copies with mfscheckfile.
const moosefsReplaceRead = `set -e
mkdir -p /mnt/mfs-check
mfsmount /mnt/mfs-check -H %[1]s >/dev/null 2>&1
trap 'cd /; umount /mnt/mfs-check' EXIT
cd /mnt/mfs-check/replace && timeout 300 md5sum -c --quiet /root/replace.md5 && wc -l < /root/replace.md5`

func moosefsReplace(vars []string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		master := e.readState(t, e.recipe).Hosts["master[0]"].PrivateIP
		containerExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/moosefs/replace/sub
for i in $(seq 1 24); do head -c $(( (i * 7919) % 3000000 + 1 )) /dev/urandom > /mnt/moosefs/replace/f$i; done
head -c 70000000 /dev/urandom > /mnt/moosefs/replace/sub/big
sync
cd /mnt/moosefs/replace && find . -type f | sort | xargs md5sum > /root/replace.md5`)
		read := func(when string) {
			t.Helper()
			n := strings.TrimSpace(containerExec(t, cluster, "client-0", fmt.Sprintf(moosefsReplaceRead, master)))
			if n != "25" {
				t.Fatalf("%s: checked %s files, want 25", when, n)
			}
			t.Logf("%s: 25 files read back through a fresh mfsmount, md5 equal", when)
		}
		// atGoal: mfscheckfile says every chunk of every file has 2 copies.
		atGoal := func(when string) {
			t.Helper()
			out := containerExec(t, cluster, "client-0", "find /mnt/moosefs/replace -type f -print0 | xargs -0 mfscheckfile")
			if regexp.MustCompile(`chunks with [01] cop`).MatchString(out) || !strings.Contains(out, "chunks with 2 copies") {
				t.Fatalf("%s: not every chunk has 2 copies:\n%s", when, out)
			}
			t.Logf("%s: mfscheckfile: every chunk of the 25 files has 2 copies", when)
		}
		replace := func(i int) {
			host := fmt.Sprintf("chunkserver[%d]", i)
			took := replacePlan(t, e, vars, host, "the master copies every chunk", map[string]string{
				`step.rereplicated["client[0]"]`:      host + " is replaced",
				`step.chunkservers_back["master[0]"]`: host + " is replaced",
			})
			fmt.Printf("E2E moosefs-replace: %s replaced and re-replicated in %s\n", host, took)
			atGoal("after the replace of " + host)
			t.Logf("chunkservers:\n%s", containerExec(t, cluster, "master-0", "mfscli -SCS -p -n -H "+master))
			read("after the replace of " + host)
			e.replanNoop(t, vars...)
		}
		replace(1)

		// Another chunkserver dies: every chunk has a copy elsewhere.
		if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-chunkserver-2").CombinedOutput(); err != nil {
			t.Fatalf("docker rm: %v: %s", err, out)
		}
		read("with chunkserver[2] removed")
		replace(2)

		// A live chunkserver must go: -replace drains it first (no chunk
		// missing or under goal, then its moosefs-chunkserver stopped),
		// then replaces it; the master copies its chunks back to goal.
		took := liveReplace(t, e, vars, "chunkserver[0]", "chunkserver_replaced", "moosefs-chunkserver stopped")
		fmt.Printf("E2E moosefs-replace: live chunkserver[0] drained, replaced and re-replicated in %s\n", took)
		atGoal("after the live replace of chunkserver[0]")
		read("after the live replace of chunkserver[0]")
		e.replanNoop(t, vars...)
		e.verify(t, vars...)
	}
}

func init() {
	e2eCases = append(e2eCases,
		// A distributed volume (no copies): a live server given to
		// -replace is drained first (its files moved to the other brick by
		// remove-brick), so nothing is lost, and the new server's brick is
		// added back and rebalanced.
		e2eCase{name: "glusterfs-drain", recipe: "glusterfs", vars: []string{"servers=2", "replica=1", "clients=1"},
			extra: glusterfsDrain},
	)
}

// drainLog is the log of step's drain on host in run.
func drainLog(t *testing.T, run *workspace.Run, step, host string) string {
	t.Helper()
	b, err := run.StepLog(step+".drain", host)
	if err != nil {
		t.Fatalf("the log of %s's drain: %v", step, err)
	}
	return string(b)
}

// liveReplace applies -replace of a live host and checks that the plan
// promised a drain, that no warning says the old machine was silent, and
// that the drain logged want. It returns the apply's time.
func liveReplace(t *testing.T, e *e2eEnv, vars []string, host, step, want string) time.Duration {
	t.Helper()
	old := e.readState(t, e.recipe).Hosts[host]
	p, err := e.planOf(e.in(vars...), "apply", host)
	if err != nil {
		t.Fatal(diagText(err))
	}
	p.Close() // its lock: the apply below takes it
	for _, c := range p.Plan.Changes {
		if c.Addr == fmt.Sprintf("launch[%q]", host) && !strings.Contains(c.Note, "it is drained first (the drain of step."+step+" runs on it)") {
			t.Fatalf("the plan does not say %s is drained first: %+v", host, c)
		}
	}
	t0 := time.Now()
	a := e.mustApply(t, e.in(vars...), "apply", host)
	took := time.Since(t0).Round(time.Second)
	if a.Res != nil {
		for _, w := range a.Res.Warnings {
			if strings.Contains(w, "does not answer") {
				t.Fatalf("the live %s was not drained: %s", host, w)
			}
		}
	}
	now := e.readState(t, e.recipe).Hosts[host]
	if now.ProviderID == old.ProviderID || now.PrivateIP != old.PrivateIP {
		t.Fatalf("%s after replace: id %s ip %s, was id %s ip %s", host, now.ProviderID, now.PrivateIP, old.ProviderID, old.PrivateIP)
	}
	log := drainLog(t, a.Run, step, host)
	if !strings.Contains(log, want) {
		t.Fatalf("the drain of %s did not log %q:\n%s", host, want, log)
	}
	t.Logf("live replace of %s (drained first): apply %s; drain log:\n%s", host, took, log)
	return took
}

func glusterfsDrain(t *testing.T, e *e2eEnv) {
	vars := []string{"servers=2", "replica=1", "clients=1"}
	cluster := e.cluster(t)
	want := glusterWrite(t, cluster)
	// Both bricks hold some of the files (DHT spreads them by name).
	n1 := strings.TrimSpace(containerExec(t, cluster, "server-1", "find /data/brick/gv0 -path '*/.glusterfs' -prune -o -type f -print | wc -l"))
	if n1 == "0" {
		t.Fatal("server[1]'s brick holds none of the files: the drain would prove nothing")
	}
	t.Logf("server[1]'s brick holds %s of the 25 files before the drain", n1)
	liveReplace(t, e, vars, "server[1]", "brick_rejoin", "moved to the other bricks")
	info := containerExec(t, cluster, "server-0", "gluster volume info gv0")
	ip := e.readState(t, e.recipe).Hosts["server[1]"].PrivateIP
	if !strings.Contains(info, ip+":/data/brick/gv0") {
		t.Fatalf("server[1]'s brick is not back in the volume:\n%s", info)
	}
	if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
		t.Fatalf("after the drain and replace the files read back differently:\n%s\nwant:\n%s", got, want)
	}
	// The rebalance the rejoin started moves files onto the new brick.
	containerExec(t, cluster, "server-0", `for i in $(seq 1 300); do s=$(gluster volume rebalance gv0 status 2>&1); echo "$s" | grep -q 'in progress' || { echo "$s"; exit 0; }; sleep 1; done; exit 1`)
	if got := glusterSums(t, cluster, "client-0", "/mnt/gluster/replace", true); got != want {
		t.Fatalf("after the rebalance the files read back differently:\n%s\nwant:\n%s", got, want)
	}
	e.verify(t, vars...)
	e.replanNoop(t, vars...)
}
