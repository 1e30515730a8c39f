//go:build e2e

package workspace_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func init() {
	e2eCases = append(e2eCases,
		// 1 monitor, 3 OSDs (3 copies), 1 client; verify stops osd[1]. Then
		// one more OSD: data written before must read back unchanged.
		e2eCase{name: "ceph", recipe: "ceph", vars: []string{"monitors=1", "osds=3", "clients=1", "osd_size_gb=5"},
			extra: func(t *testing.T, e *e2eEnv) {
				cephGrow(3, 4)(t, e)
				cephRenameRefused([]string{"monitors=1", "osds=4", "clients=1", "osd_size_gb=5"})(t, e)
			}},
		// 3 monitors in quorum (with 3 managers and MDSs, one active each),
		// 2 OSDs (2 copies), 2 clients: verify writes on client[0], reads on
		// client[1], stops osd[1] and reads again.
		e2eCase{name: "ceph-quorum", recipe: "ceph", vars: []string{"monitors=3", "osds=2", "clients=2", "osd_size_gb=5"}},
	)
}

// cephFreshRead reads the files written before through a second ceph-fuse
// mount made for the purpose, so nothing comes from the client's cache:
// every byte is read from the OSDs.
const cephFreshRead = `set -e
mkdir -p /mnt/ceph-check
ceph-fuse --id fsclient --client_fs cephfs /mnt/ceph-check >/dev/null 2>&1
trap 'cd /; umount /mnt/ceph-check' EXIT
cd /mnt/ceph-check/before-grow && sha256sum -c --quiet /root/before-grow.sha256`

// cephGrow writes files, applies with `to` OSDs, checks that `ceph osd stat`
// shows them all up and in, reads every file back through a fresh mount
// (also with one OSD stopped), then verifies and re-plans with the new size.
func cephGrow(from, to int) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		containerExec(t, cluster, "client-0", `set -e
mkdir -p /mnt/cephfs/before-grow
for i in $(seq 1 40); do head -c 65536 /dev/urandom > /mnt/cephfs/before-grow/f$i; done
head -c 16777216 /dev/urandom > /mnt/cephfs/before-grow/big
sync
cd /mnt/cephfs/before-grow && sha256sum * > /root/before-grow.sha256`)

		vars := []string{"monitors=1", fmt.Sprintf("osds=%d", to), "clients=1", "osd_size_gb=5"}
		start := time.Now()
		e.apply(t, vars...)
		t.Logf("grow %d -> %d OSDs: apply in %s", from, to, time.Since(start).Round(time.Second))
		fmt.Printf("E2E ceph: grow %d -> %d OSDs in %s\n", from, to, time.Since(start).Round(time.Second))

		out := containerExec(t, cluster, "mon-0", "ceph osd stat -f json")
		var stat struct {
			Osds int `json:"num_osds"`
			Up   int `json:"num_up_osds"`
			In   int `json:"num_in_osds"`
		}
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &stat); err != nil {
			t.Fatalf("ceph osd stat: %v\n%s", err, out)
		}
		if stat.Osds != to || stat.Up != to || stat.In != to {
			t.Fatalf("after growing, ceph osd stat = %+v, want %d OSDs up and in", stat, to)
		}
		t.Logf("ceph osd stat: %s", strings.TrimSpace(containerExec(t, cluster, "mon-0", "ceph osd stat")))

		// Through the client's own mount, then through a fresh one.
		containerExec(t, cluster, "client-0", "cd /mnt/cephfs/before-grow && sha256sum -c --quiet /root/before-grow.sha256")
		containerExec(t, cluster, "client-0", cephFreshRead)
		// With one OSD down (3 copies, min_size 2) everything still reads.
		containerExec(t, cluster, "osd-1", "systemctl stop ceph-osd@1")
		containerExec(t, cluster, "client-0", cephFreshRead)
		containerExec(t, cluster, "osd-1", "systemctl reset-failed ceph-osd@1; systemctl start ceph-osd@1")
		// Wait for osd.1 to be back before verify and re-plan.
		containerExec(t, cluster, "mon-0", fmt.Sprintf(`for i in $(seq 1 60); do
  ceph osd stat -f json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["num_up_osds"] != %d)' && exit 0
  sleep 2
done
ceph osd stat; exit 1`, to))
		t.Logf("ceph osd df:\n%s", containerExec(t, cluster, "mon-0", "ceph osd df"))

		e.verify(t, vars...)
		e.replanNoop(t, vars...)
	}
}

// cephRenameRefused: Ceph 16 makes a second filesystem next to the
// first. The apply fails at step.filesystem, naming the filesystem that
// holds the data and what to do, before any pool is made.
func cephRenameRefused(vars []string) func(t *testing.T, e *e2eEnv) {
	return renamed{variable: "fs_name", from: "cephfs", to: "cephfs2", mount: "/mnt/cephfs",
		said: []string{`step.filesystem["mon[0]"]`, "filesystem cephfs, made by this recipe", "set fs_name back to cephfs"},
		left: func(t *testing.T, cluster string) {
			if got := containerExec(t, cluster, "mon-0", "ceph fs ls; ceph osd pool ls"); strings.Contains(got, "cephfs2") {
				t.Errorf("the refused rename made a filesystem or pool:\n%s", got)
			}
		}}.refused(vars)
}
