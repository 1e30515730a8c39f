//go:build e2e

package workspace_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The orangefs recipe on docker: one server and one client, the client
// mounting with pvfs2fuse (containers cannot load the orangefs kernel
// module). Every host builds OrangeFS from the release tarball, which this
// machine cannot download: the test serves a copy of it to the containers
// from this process, over HTTP on the docker bridge's address, and passes
// its URL and SHA-256 as source_url and source_sha256 (so the recipe's
// checksum check runs too).
//
// DIFFUSER_ORANGEFS_TARBALL names the tarball. scripts/orangefs-tarball.sh
// makes one from a checkout of OrangeFS's repository (tag v.2.9.8); without
// it the case is skipped, saying so.
func init() {
	e2eCases = append(e2eCases, e2eCase{
		name:   "orangefs",
		recipe: "orangefs",
		vars:   []string{"servers=1", "clients=1", "client_mount=fuse", "storage_size_gb=1"},
		setup:  orangefsSource,
		extra:  orangefsExtra,
	})
}

// orangefsSource serves the tarball named by DIFFUSER_ORANGEFS_TARBALL on
// the docker0 bridge's address until the test ends and returns the
// variables that point the recipe at it.
func orangefsSource(t *testing.T) []string {
	t.Helper()
	path := os.Getenv("DIFFUSER_ORANGEFS_TARBALL")
	if path == "" {
		t.Skip("DIFFUSER_ORANGEFS_TARBALL is not set: the OrangeFS release tarball cannot be downloaded here; make one with scripts/orangefs-tarball.sh")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("DIFFUSER_ORANGEFS_TARBALL: %v", err)
	}
	sum := sha256.Sum256(data)
	ip := bridgeAddress(t, "docker0")
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	name := "/" + filepath.Base(path)
	if !strings.HasSuffix(name, ".tar.gz") {
		t.Fatalf("DIFFUSER_ORANGEFS_TARBALL %s: the recipe takes a .tar.gz", path)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(name, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("tarball server: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	url := "http://" + ln.Addr().String() + name
	t.Logf("serving %s (%d bytes, sha256 %s) at %s", path, len(data), hex.EncodeToString(sum[:]), url)
	return []string{"source_url=" + url, "source_sha256=" + hex.EncodeToString(sum[:])}
}

// bridgeAddress is the IPv4 address of this machine's interface name: the
// containers of every docker network reach the machine at it.
func bridgeAddress(t *testing.T, name string) string {
	t.Helper()
	iface, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatalf("interface %s (the containers' way to this machine): %v", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		t.Fatalf("addresses of %s: %v", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Fatalf("interface %s has no IPv4 address", name)
	return ""
}

// orangefsExtra checks what verify does not: the server's storage volume
// holds the data written through the client, the client's view is a
// pvfs2fuse mount, and OrangeFS's own tools on the client see the file
// system.
func orangefsExtra(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	run := func(host, script string) string {
		t.Helper()
		out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-"+host, "sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("docker exec %s %q: %v\n%s", host, script, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if spec := strings.TrimSpace(e.output(t, "fs_spec")); !strings.HasPrefix(spec, "tcp://") || !strings.HasSuffix(spec, ":3334/orangefs") {
		t.Fatalf("output fs_spec: %q", spec)
	}
	if fstype := run("client-0", "findmnt -n -o FSTYPE --mountpoint /mnt/orangefs"); !strings.HasPrefix(fstype, "fuse") {
		t.Errorf("/mnt/orangefs on client-0 is %q, want a fuse mount (pvfs2fuse)", fstype)
	}
	if fstype := run("server-0", "findmnt -n -o FSTYPE --mountpoint /data/orangefs"); fstype != "xfs" {
		t.Errorf("/data/orangefs on server-0 is %q, want the xfs storage volume", fstype)
	}
	// 4 MiB written through FUSE: the server's data directory grows by it.
	before := run("server-0", "du -sk /data/orangefs/data | cut -f1")
	sum := run("client-0", "set -e; head -c 4194304 /dev/urandom > /mnt/orangefs/e2e-blob; sync; sha256sum < /mnt/orangefs/e2e-blob | cut -d' ' -f1")
	after := run("server-0", "du -sk /data/orangefs/data | cut -f1")
	if b, a := atoi(t, before), atoi(t, after); a-b < 3500 {
		t.Errorf("the server's /data/orangefs/data grew by %d KiB after a 4 MiB write, want about 4096", a-b)
	}
	// OrangeFS's own client tools, by the mount point in /etc/pvfs2tab.
	if out := run("client-0", "/opt/orangefs/bin/pvfs2-ls /mnt/orangefs"); !strings.Contains(out, "e2e-blob") {
		t.Errorf("pvfs2-ls /mnt/orangefs does not list e2e-blob:\n%s", out)
	}
	if got := run("client-0", "set -e; /opt/orangefs/bin/pvfs2-cp /mnt/orangefs/e2e-blob /tmp/e2e-blob.copy; sha256sum < /tmp/e2e-blob.copy | cut -d' ' -f1; rm -f /tmp/e2e-blob.copy"); got != sum {
		t.Errorf("pvfs2-cp copies out %s, FUSE wrote %s", got, sum)
	}
	// The daemons survive a restart of the server's unit: the client reads
	// the file again once the server answers.
	run("server-0", "systemctl restart orangefs-server")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-client-0", "sh", "-c", "sha256sum < /mnt/orangefs/e2e-blob | cut -d' ' -f1").CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) == sum {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restarting orangefs-server, client-0 reads %q (%v), want %s", out, err, sum)
		}
		time.Sleep(3 * time.Second)
	}
	run("client-0", "rm -f /mnt/orangefs/e2e-blob")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
