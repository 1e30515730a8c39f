//go:build e2e

package workspace_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The nfs recipe on docker: NFS-Ganesha (the kernel server cannot run in a
// container) and the libnfs client mode (nor can the kernel client), so
// `diffuser verify` goes through GVfs's libnfs backend and FUSE. The extra
// checks talk NFS with the libnfs tools directly, look at the data on the
// server's xfs volume, and grow and shrink the client group (the export
// list is reloaded, not restarted).
//
// NFS-Ganesha needs CAP_DAC_READ_SEARCH (open_by_handle_at); the
// precondition of the recipe's server_packages (on host.facts.capabilities)
// fails fast, naming it, when the provider's containers lack it.
func init() {
	e2eCases = append(e2eCases, e2eCase{
		name:   "nfs",
		recipe: "nfs",
		vars:   []string{"server=ganesha", "mount=libnfs", "clients=2"},
		extra:  nfsExtra,
	})
}

// nfsExec runs a shell command in one of the cluster's containers.
func nfsExec(t *testing.T, container, script string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("docker", "exec", container, "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func nfsMustExec(t *testing.T, container, script string) string {
	t.Helper()
	out, err := nfsExec(t, container, script)
	if err != nil {
		t.Fatalf("docker exec %s %q: %v\n%s", container, script, err, out)
	}
	return out
}

// nfsRetry retries script for up to two minutes: a freshly started
// NFS-Ganesha is in its NFSv4 grace period (90 s) and answers opens with
// NFS4ERR_GRACE (NFSv3 setattr with NFS3ERR_JUKEBOX), which the libnfs tools
// do not retry.
func nfsRetry(t *testing.T, container, script string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
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

func nfsExtra(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	server := "diffuser-" + cluster + "-server-0"
	client := func(i string) string { return "diffuser-" + cluster + "-client-" + i }
	export := strings.TrimSpace(e.output(t, "export"))
	if !strings.HasSuffix(export, ":/srv/nfs") {
		t.Fatalf("output export: %q", export)
	}
	ip := strings.TrimSuffix(export, ":/srv/nfs")

	// The export is the xfs volume, served by Ganesha.
	if fs := nfsMustExec(t, server, "findmnt -n -o FSTYPE --mountpoint /srv/nfs"); fs != "xfs" {
		t.Fatalf("/srv/nfs on the server is %q, want xfs", fs)
	}
	nfsMustExec(t, server, "systemctl is-active nfs-ganesha")
	// The ports the recipe documents for firewalls are the ones registered.
	rpc := nfsMustExec(t, server, "rpcinfo -p")
	for _, want := range []string{"tcp   2049  nfs", "tcp  20048  mountd", "tcp  32803  nlockmgr", "tcp    662  status"} {
		if !strings.Contains(strings.Join(strings.Fields(rpc), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("rpcinfo -p on the server lacks %q:\n%s", want, rpc)
		}
	}

	// Write over NFSv3 with nfs-cp on client 0; read back over NFSv4 and
	// NFSv3 with nfs-cat on client 1, through the FUSE mount on client 1,
	// and from the server's disk.
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	local := "/tmp/e2e-" + hex.EncodeToString(b)
	sum := nfsMustExec(t, client("0"), "set -e; head -c 3145728 /dev/urandom > "+local+"; sha256sum < "+local+" | cut -d' ' -f1")
	// nfs-cp creates exclusively: an attempt that failed half-way (the file
	// made, its attributes refused in the grace period) leaves the name
	// taken, so every attempt writes a new name.
	var name, url string
	for i := 0; ; i++ {
		name = fmt.Sprintf("e2e-%s-%d", hex.EncodeToString(b), i)
		url = "nfs://" + ip + "/srv/nfs/" + name
		out, err := nfsExec(t, client("0"), "nfs-cp "+local+" '"+url+"'")
		if err == nil {
			break
		}
		if i == 24 {
			t.Fatalf("nfs-cp to %s kept failing: %v\n%s", url, err, out)
		}
		time.Sleep(5 * time.Second)
	}
	reads := map[string]string{
		"nfs-cat NFSv4":     nfsRetry(t, client("1"), "set -e; nfs-cat '"+url+"?version=4' > /tmp/"+name+".v4; sha256sum < /tmp/"+name+".v4 | cut -d' ' -f1"),
		"nfs-cat NFSv3":     nfsRetry(t, client("1"), "set -e; nfs-cat '"+url+"' > /tmp/"+name+".v3; sha256sum < /tmp/"+name+".v3 | cut -d' ' -f1"),
		"FUSE /mnt/nfs":     nfsMustExec(t, client("1"), "sha256sum < /mnt/nfs/"+name+" | cut -d' ' -f1"),
		"server's /srv/nfs": nfsMustExec(t, server, "sha256sum < /srv/nfs/"+name+" | cut -d' ' -f1"),
	}
	for how, got := range reads {
		if got != sum {
			t.Errorf("%s: sha256 %s, wrote %s", how, got, sum)
		}
	}
	if ls := nfsRetry(t, client("1"), "nfs-ls '"+"nfs://"+ip+"/srv/nfs?version=4'"); !strings.Contains(ls, name) {
		t.Errorf("nfs-ls over NFSv4 does not list %s:\n%s", name, ls)
	}
	nfsMustExec(t, server, "rm -f /srv/nfs/e2e-*")
	t.Logf("nfs: libnfs tools wrote (NFSv3) and read (NFSv4, NFSv3) %s; FUSE and server copies match", name)

	// Grow to three clients: the export list changes and Ganesha reloads it
	// (SIGHUP), keeping its process and the mounted clients; then shrink back.
	pid := nfsMustExec(t, server, "systemctl show -p MainPID --value nfs-ganesha")
	common := []string{"server=ganesha", "mount=libnfs"}
	grow := append(append([]string{}, common...), "clients=3")
	e.apply(t, grow...)
	onClient2 := false
	for _, c := range e.verify(t, grow...) {
		onClient2 = onClient2 || c.Host == "client[2]"
	}
	if !onClient2 {
		t.Fatalf("verify with three clients checked nothing on client[2]")
	}
	e.replanNoop(t, grow...)
	if now := nfsMustExec(t, server, "systemctl show -p MainPID --value nfs-ganesha"); now != pid {
		t.Errorf("nfs-ganesha was restarted (pid %s, now %s): a new client should only reload the exports", pid, now)
	}
	newIP := strings.Fields(nfsMustExec(t, client("2"), "hostname -I"))[0]
	if conf := nfsMustExec(t, server, "cat /etc/ganesha/diffuser-export.conf"); !strings.Contains(conf, newIP) {
		t.Errorf("the export does not list client[2] (%s):\n%s", newIP, conf)
	}
	shrink := append(append([]string{}, common...), "clients=2")
	e.apply(t, shrink...)
	e.verify(t, shrink...)
	nfsMountPointInTheWay(t, e, client("1"), shrink)
}

// nfsMountPointInTheWay: a directory where builtin/gvfs-mount puts its link
// (/mnt/nfs on client 1; left by a kernel mount, or made by hand). Empty,
// the unit removes it and links; with a file in it, the unit stops there
// and apply fails, naming it, with the file kept; verify never writes to
// the client's own disk. Once the directory is gone, the unit (restarting
// on failure) links by itself and the failed ready step passes.
func nfsMountPointInTheWay(t *testing.T, e *e2eEnv, client string, vars []string) {
	const unit = "diffuser-gvfs-nfs"
	intoGVfs := func() {
		t.Helper()
		if to := nfsMustExec(t, client, "readlink /mnt/nfs"); !strings.HasPrefix(to, "/run/"+unit+"/gvfs/") {
			t.Fatalf("/mnt/nfs points at %q, not into the GVfs tree", to)
		}
	}
	nfsMustExec(t, client, "systemctl stop "+unit+" && rm -f /mnt/nfs && mkdir /mnt/nfs")
	e.apply(t, vars...) // drift: the unit is stopped; started, it clears the empty directory
	intoGVfs()
	e.verify(t, vars...)

	nfsMustExec(t, client, "systemctl stop "+unit+" && rm -f /mnt/nfs && mkdir /mnt/nfs && echo mine > /mnt/nfs/precious")
	said := e.applyRefused(vars...)
	if !strings.Contains(said, "/mnt/nfs is a directory with files in it") {
		t.Fatalf("apply with files where the link goes said:\n%s\nwant the unit's refusal named", said)
	}
	if got := nfsMustExec(t, client, "cat /mnt/nfs/precious"); got != "mine" {
		t.Fatalf("the file in the way is %q, want it kept", got)
	}
	nfsMustExec(t, client, "rm -rf /mnt/nfs")
	e.apply(t, vars...)
	intoGVfs()
	e.verify(t, vars...)
	t.Logf("nfs: an empty directory at the mount point was replaced by the link; one with a file stopped the unit (%s), kept the file", unit)
}

// output is the value of one of the workspace's outputs.
func (e *e2eEnv) output(t *testing.T, name string) string {
	t.Helper()
	o, ok := e.readState(t, e.recipe).Outputs[name]
	if !ok {
		t.Fatalf("workspace %s has no output %q", e.recipe, name)
	}
	return o.Value
}
