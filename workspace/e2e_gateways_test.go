//go:build e2e

package workspace_test

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// NFS and SMB gateways on GlusterFS (recipe glusterfs, nfs_gateways and
// smb_gateways): two gateway hosts run NFS-Ganesha (FSAL_GLUSTER) and Samba
// (vfs_glusterfs) clustered with CTDB; two clients mount through them with
// GVfs. The recipe's verify blocks write on client 0 through gateway 0,
// read on client 1 through gateway 1, and read again with gateway 0's
// daemon stopped. The extra checks talk to each gateway directly with the
// libnfs tools and smbclient, and look at CTDB's view of the cluster.
func init() {
	e2eCases = append(e2eCases, e2eCase{
		name:   "glusterfs-gateways",
		recipe: "glusterfs",
		vars:   []string{"servers=2", "replica=2", "clients=0", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"},
		extra:  gatewaysExtra,
	})
}

func gatewaysExtra(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	gw := func(i string) string { return "diffuser-" + cluster + "-gateway-" + i }
	client := func(i string) string { return "diffuser-" + cluster + "-gateway_client-" + i }
	nfsOut, smbOut := e.output(t, "nfs_gateways"), e.output(t, "smb_gateways")
	var nfs, smb []string
	for _, s := range strings.Split(strings.Trim(nfsOut, "[]\n"), ",") {
		nfs = append(nfs, strings.Trim(strings.TrimSpace(s), `"`))
	}
	for _, s := range strings.Split(strings.Trim(smbOut, "[]\n"), ",") {
		smb = append(smb, strings.Trim(strings.TrimSpace(s), `"`))
	}
	if len(nfs) != 2 || len(smb) != 2 || !strings.HasSuffix(nfs[0], ":/gv0") || !strings.HasPrefix(smb[1], "//") {
		t.Fatalf("outputs nfs_gateways %q, smb_gateways %q", nfsOut, smbOut)
	}

	// CTDB: both gateways are healthy nodes of one cluster.
	st := nfsMustExec(t, gw("0"), "ctdb status")
	if n := strings.Count(st, "OK"); n < 2 || !strings.Contains(st, "Recovery mode:NORMAL") {
		t.Fatalf("ctdb status on gateway 0 shows %d healthy nodes:\n%s", n, st)
	}

	// Write with nfs-cp through gateway 0, read with nfs-cat through gateway
	// 1 and with smbclient through both SMB gateways.
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "e2e-gw-" + hex.EncodeToString(b)
	sum := nfsMustExec(t, client("0"), "set -e; head -c 2097152 /dev/urandom > /tmp/"+name+"; sha256sum < /tmp/"+name+" | cut -d' ' -f1")
	nfsRetry(t, client("0"), "nfs-cp /tmp/"+name+" 'nfs://"+strings.Replace(nfs[0], ":", "", 1)+"/"+name+"'")
	got := nfsRetry(t, client("1"), "set -e; nfs-cat 'nfs://"+strings.Replace(nfs[1], ":", "", 1)+"/"+name+"' > /tmp/"+name+".nfs; sha256sum < /tmp/"+name+".nfs | cut -d' ' -f1")
	if got != sum {
		t.Errorf("nfs-cat through gateway 1: sha256 %s, wrote %s", got, sum)
	}
	for i, share := range smb {
		got := nfsRetry(t, client("1"), "set -e; rm -f /tmp/"+name+".smb; smbclient -N '"+share+"' -c 'get "+name+" /tmp/"+name+".smb' >/dev/null; sha256sum < /tmp/"+name+".smb | cut -d' ' -f1")
		if got != sum {
			t.Errorf("smbclient through SMB gateway %d: sha256 %s, wrote %s", i, got, sum)
		}
	}

	// SMB failover: with gateway 0's Samba and CTDB stopped, CTDB on gateway 1
	// sees its peer gone, stays healthy, and gateway 1 keeps serving.
	nfsMustExec(t, gw("0"), "systemctl stop smbd ctdb")
	defer nfsMustExec(t, gw("0"), "systemctl start ctdb; for i in $(seq 1 60); do ctdb nodestatus >/dev/null 2>&1 && break; sleep 2; done; systemctl start smbd")
	st = nfsRetry(t, gw("1"), "ctdb status | grep -q DISCONNECTED && ctdb status | grep -q 'Recovery mode:NORMAL' && ctdb status")
	t.Logf("ctdb status on gateway 1 with gateway 0 stopped:\n%s", st)
	if out, err := nfsExec(t, client("1"), "smbclient -N '"+smb[0]+"' -c ls"); err == nil {
		t.Errorf("smbclient through the stopped gateway 0 still works:\n%s", out)
	}
	got = nfsRetry(t, client("1"), "set -e; rm -f /tmp/"+name+".smb; smbclient -N '"+smb[1]+"' -c 'get "+name+" /tmp/"+name+".smb; del "+name+"' >/dev/null; sha256sum < /tmp/"+name+".smb | cut -d' ' -f1")
	if got != sum {
		t.Errorf("smbclient through gateway 1 with gateway 0 down: sha256 %s, wrote %s", got, sum)
	}
}
