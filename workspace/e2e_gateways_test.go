//go:build e2e

package workspace_test

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// NFS and SMB gateways on GlusterFS and on CephFS (recipes glusterfs and
// ceph, nfs_gateways and smb_gateways): two gateway hosts run NFS-Ganesha
// (FSAL_GLUSTER or FSAL_CEPH) and Samba (vfs_glusterfs or vfs_ceph)
// clustered with CTDB; two clients mount through them with GVfs. The
// recipe's verify blocks write on client 0 through gateway 0, read on
// client 1 through gateway 1, and read a second, cold file (never read on
// client 1 before, read with O_DIRECT) with gateway 0's daemon stopped.
// The extra checks talk to each gateway directly with the libnfs tools
// and smbclient (fresh processes: no client cache), look at CTDB's view of
// the cluster, and kill every gateway daemon of gateway 0 with SIGKILL
// before reading a file written just before through it.
func init() {
	e2eCases = append(e2eCases,
		e2eCase{
			name:   "ceph-gateways",
			recipe: "ceph",
			vars:   []string{"monitors=1", "osds=2", "clients=1", "osd_size_gb=5", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"},
			extra:  gatewaysExtra("cephfs"),
		},
		e2eCase{
			name:   "glusterfs-gateways",
			recipe: "glusterfs",
			vars:   []string{"servers=2", "replica=2", "clients=1", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"},
			extra:  gatewaysExtra("gv0"),
		})
}

// gatewaysExtra checks two gateways serving share (the volume or the
// CephFS filesystem) over NFS and SMB.
func gatewaysExtra(share string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		gw := func(i string) string { return "diffuser-" + cluster + "-gateway-" + i }
		client := func(i string) string { return "diffuser-" + cluster + "-gateway_client-" + i }
		nfs, smb := outputList(e.output(t, "nfs_gateways")), outputList(e.output(t, "smb_gateways"))
		if len(nfs) != 2 || len(smb) != 2 || !strings.HasSuffix(nfs[0], ":/"+share) || !strings.HasSuffix(smb[1], "/"+share) || !strings.HasPrefix(smb[1], "//") {
			t.Fatalf("outputs nfs_gateways %q, smb_gateways %q", nfs, smb)
		}
		nfsURL := func(i int, name string) string {
			return "'nfs://" + strings.Replace(nfs[i], ":", "", 1) + "/" + name + "'"
		}

		// CTDB: both gateways are healthy nodes of one cluster.
		st := nfsMustExec(t, gw("0"), "ctdb status")
		if n := strings.Count(st, "OK"); n < 2 || !strings.Contains(st, "Recovery mode:NORMAL") {
			t.Fatalf("ctdb status on gateway 0 shows %d healthy nodes:\n%s", n, st)
		}

		// Write with nfs-cp through gateway 0, read with nfs-cat through
		// gateway 1 and with smbclient through both SMB gateways.
		name := randomFile("e2e-gw")
		sum := nfsMustExec(t, client("0"), "set -e; head -c 2097152 /dev/urandom > /tmp/"+name+"; sha256sum < /tmp/"+name+" | cut -d' ' -f1")
		nfsRetry(t, client("0"), "nfs-cp /tmp/"+name+" "+nfsURL(0, name))
		got := nfsRetry(t, client("1"), "set -e; nfs-cat "+nfsURL(1, name)+" > /tmp/"+name+".nfs; sha256sum < /tmp/"+name+".nfs | cut -d' ' -f1")
		if got != sum {
			t.Errorf("nfs-cat through gateway 1: sha256 %s, wrote %s", got, sum)
		}
		for i, sh := range smb {
			got := nfsRetry(t, client("1"), "set -e; rm -f /tmp/"+name+".smb; smbclient -N '"+sh+"' -c 'get "+name+" /tmp/"+name+".smb' >/dev/null 2>&1; sha256sum < /tmp/"+name+".smb | cut -d' ' -f1")
			if got != sum {
				t.Errorf("smbclient through SMB gateway %d: sha256 %s, wrote %s", i, got, sum)
			}
		}

		// Failover: a second file goes in through gateway 0 (NFS), then
		// every gateway daemon there dies by SIGKILL (no clean shutdown).
		// CTDB on gateway 1 sees its peer gone and stays healthy; gateway 0
		// answers neither protocol; gateway 1 serves the new file, which no
		// one has read yet, over both (each tool a fresh process: nothing
		// cached on the client).
		cold := randomFile("e2e-gw-cold")
		coldSum := nfsMustExec(t, client("0"), "set -e; head -c 3145728 /dev/urandom > /tmp/"+cold+"; sha256sum < /tmp/"+cold+" | cut -d' ' -f1")
		nfsRetry(t, client("0"), "nfs-cp /tmp/"+cold+" "+nfsURL(0, cold))
		nfsMustExec(t, gw("0"), "systemctl kill -s KILL nfs-ganesha smbd ctdb; sleep 1; ! pgrep -x ganesha.nfsd && ! pgrep -x ctdbd && ! pgrep -x smbd")
		defer nfsMustExec(t, gw("0"), "systemctl reset-failed; systemctl restart nfs-ganesha; systemctl start ctdb; for i in $(seq 1 60); do ctdb nodestatus >/dev/null 2>&1 && break; sleep 2; done; systemctl start smbd")
		st = nfsRetry(t, gw("1"), "ctdb status | grep -q DISCONNECTED && ctdb status | grep -q 'Recovery mode:NORMAL' && ctdb status")
		t.Logf("ctdb status on gateway 1 with gateway 0 killed:\n%s", st)
		if out, err := nfsExec(t, client("1"), "smbclient -N '"+smb[0]+"' -c ls"); err == nil {
			t.Errorf("smbclient through the killed gateway 0 still works:\n%s", out)
		}
		if out, err := nfsExec(t, client("1"), "timeout 20 nfs-ls "+nfsURL(0, "")); err == nil {
			t.Errorf("nfs-ls through the killed gateway 0 still works:\n%s", out)
		}
		// On CephFS the killed gateway's MDS session outlives it (up to 300 s:
		// its capabilities on the file it wrote stay its own until then), so
		// these reads may wait; the time they took is logged.
		start := time.Now()
		got = gwRetry(t, client("1"), 7*time.Minute, "set -e; nfs-cat "+nfsURL(1, cold)+" > /tmp/"+cold+".nfs; sha256sum < /tmp/"+cold+".nfs | cut -d' ' -f1")
		if got != coldSum {
			t.Errorf("nfs-cat through gateway 1 with gateway 0 killed: sha256 %s, wrote %s", got, coldSum)
		}
		t.Logf("NFS read through gateway 1 of the file written through the killed gateway 0: %s", time.Since(start).Round(time.Second))
		start = time.Now()
		got = gwRetry(t, client("1"), 7*time.Minute, "set -e; rm -f /tmp/"+cold+".smb; smbclient -N '"+smb[1]+"' -c 'get "+cold+" /tmp/"+cold+".smb; del "+cold+"; del "+name+"' >/dev/null 2>&1; sha256sum < /tmp/"+cold+".smb | cut -d' ' -f1")
		if got != coldSum {
			t.Errorf("smbclient through gateway 1 with gateway 0 killed: sha256 %s, wrote %s", got, coldSum)
		}
		t.Logf("SMB read through gateway 1 of the same file: %s", time.Since(start).Round(time.Second))
	}
}

// gwRetry runs script until it succeeds or window has passed.
func gwRetry(t *testing.T, container string, window time.Duration, script string) string {
	t.Helper()
	deadline := time.Now().Add(window)
	for {
		out, err := nfsExec(t, container, script)
		if err == nil {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker exec %s %q: %v\n%s", container, script, err, out)
		}
		time.Sleep(5 * time.Second)
	}
}

// outputList reads an output holding a list of strings.
func outputList(s string) []string {
	var out []string
	for _, x := range strings.Split(strings.Trim(s, "[]\n"), ",") {
		if x = strings.Trim(strings.TrimSpace(x), `"`); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func randomFile(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
