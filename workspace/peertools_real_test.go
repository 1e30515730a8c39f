package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud/docker/dockertest"
	"diffuser/runner"
	"diffuser/steps"
)

// dockerHost is a runner.Runner on host 0 of a test cluster through
// `docker exec` (not SSH), so that a test can act as a peer at a chosen
// moment of a step: peer runs before each command (with its text) and
// after each upload (with its path). Uploads go to a temporary file beside
// the path and are renamed over it, as remote.Client's do.
type dockerHost struct {
	c    *dockertest.Cluster
	peer func(event string)
}

var _ runner.Runner = (*dockerHost)(nil)

func (h *dockerHost) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if h.peer != nil {
		h.peer(cmd)
	}
	args := []string{"exec"}
	for k, v := range opt.Env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, h.c.Container(0), "sh", "-c", cmd)
	x := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	x.Stdout, x.Stderr = &stdout, &stderr
	if opt.Output != nil {
		x.Stdout, x.Stderr = io.MultiWriter(&stdout, opt.Output), io.MultiWriter(&stderr, opt.Output)
	}
	err := x.Run()
	res := runner.Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.Exit = ee.ExitCode()
		return res, nil
	}
	return res, err
}

func (h *dockerHost) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	x := exec.CommandContext(ctx, "docker", "exec", "-i", h.c.Container(0), "sh", "-c",
		`t=$(mktemp "$1.up-XXXXXX") && cat > "$t" && chmod "$2" "$t" && mv -f "$t" "$1"`, "sh", path, fmt.Sprintf("%04o", mode&0o7777))
	x.Stdin = r
	if out, err := x.CombinedOutput(); err != nil {
		return fmt.Errorf("upload %s: %v: %s", path, err, out)
	}
	if h.peer != nil {
		h.peer("upload " + path)
	}
	return nil
}

// obj is a step's arguments.
func obj(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }

// testPeerTools: peers acting on the same host at the worst moment of a
// step (docs/reliability.md, "Peer tools on the same hosts"): a dpkg run
// killed mid-way and a package left half-configured, a unit masked or
// stopped under a restart, a symbolic link to /etc/shadow put at a managed
// file's path, a filesystem mounted on the target between the step's look
// and its mount. Steps run against the container through dockerHost.
func testPeerTools(t *testing.T, c *dockertest.Cluster) {
	ctx := context.Background()
	h := &dockerHost{c: c}
	t.Run("dpkg", func(t *testing.T) { testPeerDpkg(ctx, t, c, h) })
	t.Run("service", func(t *testing.T) { testPeerService(ctx, t, c, h) })
	t.Run("file", func(t *testing.T) { testPeerFile(ctx, t, c, h) })
	t.Run("mount", func(t *testing.T) { testPeerMount(ctx, t, c, h) })
}

// slowPkgScript builds /root/peers-slow.deb (not in /tmp, which
// systemd-tmpfiles empties while the container boots): a package whose postinst
// sleeps while /root/peers-slow-sleep exists and fails while
// /root/peers-slow-fail does.
const slowPkgScript = `set -e
mkdir -p /root/slowpkg/DEBIAN
printf 'Package: peers-slow\nVersion: 1.0\nArchitecture: all\nMaintainer: test <t@example.com>\nDescription: a peer package\n' > /root/slowpkg/DEBIAN/control
printf '#!/bin/sh\n[ ! -e /root/peers-slow-sleep ] || sleep 60\n[ ! -e /root/peers-slow-fail ] || { echo peers-slow postinst failing >&2; exit 1; }\n' > /root/slowpkg/DEBIAN/postinst
chmod 755 /root/slowpkg/DEBIAN/postinst
dpkg-deb --build /root/slowpkg /root/peers-slow.deb >/dev/null`

// testPeerDpkg: a peer's dpkg run killed in its postinst (as
// unattended-upgrades killed at shutdown) leaves dpkg's journal dirty and
// apt refusing everything; the package step finishes that run and
// installs. Then a package another tool left half-configured (its postinst
// fails) makes the step fail naming it, and a step declaring that package
// absent sees it (not absent) and removes it.
func testPeerDpkg(ctx context.Context, t *testing.T, c *dockertest.Cluster, h *dockerHost) {
	c.MustExec(t, 0, slowPkgScript)
	t.Cleanup(func() {
		_, _ = c.Exec(0, "rm -f /root/peers-slow-sleep /root/peers-slow-fail; dpkg --configure -a >/dev/null 2>&1; dpkg --purge peers-slow >/dev/null 2>&1; rm -rf /root/slowpkg /root/peers-slow.deb /root/peers-dpkg.*")
	})
	// The peer: dpkg -i in its own process group, killed (group and all)
	// once its postinst runs.
	if out, err := c.Exec(0, `touch /root/peers-slow-sleep
setsid sh -c 'echo $$ > /root/peers-dpkg.pid; exec dpkg -i /root/peers-slow.deb' >/root/peers-dpkg.log 2>&1 &
i=0; until [ "$(dpkg-query -W -f='${Status}' peers-slow 2>/dev/null)" = "install ok half-configured" ]; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done
pkill -KILL -g "$(cat /root/peers-dpkg.pid)"; rm -f /root/peers-slow-sleep; sleep 0.5`); err != nil {
		log, _ := c.Exec(0, "cat /root/peers-dpkg.log; ps -ef; dpkg-query -W peers-slow")
		t.Fatalf("the peer's dpkg did not reach its postinst: %v %s\n%s", err, out, log)
	}
	out, _ := c.Exec(0, "ls /var/lib/dpkg/updates; DEBIAN_FRONTEND=noninteractive apt-get -y install tree 2>&1")
	if !strings.Contains(out, "dpkg was interrupted") {
		t.Fatalf("the killed dpkg did not leave apt refusing: %s", out)
	}
	args := obj(map[string]cty.Value{"names": cty.ListVal([]cty.Value{cty.StringVal("tree")}), "state": cty.StringVal("present"), "update_cache": cty.False})
	var log bytes.Buffer
	h.peer = func(cmd string) { fmt.Fprintf(&log, "$ %.100s\n", cmd) }
	if _, err := (steps.PackageKind{}).Apply(ctx, h, args); err != nil {
		t.Fatalf("installing tree after a peer's dpkg was killed: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "dpkg --force-confdef --force-confold --configure -a") {
		t.Errorf("the step did not finish the interrupted run:\n%s", log.String())
	}
	c.MustExec(t, 0, `for p in tree peers-slow; do [ "$(dpkg-query -W -f='${Status}' $p)" = "install ok installed" ] || { echo $p; exit 1; }; done`)

	// A half-configured package of someone else's: apt tries it on every run.
	c.MustExec(t, 0, "touch /root/peers-slow-fail; dpkg -i /root/peers-slow.deb >/dev/null 2>&1; [ \"$(dpkg-query -W -f='${Status}' peers-slow)\" = 'install ok half-configured' ]")
	absent := obj(map[string]cty.Value{"names": cty.ListVal([]cty.Value{cty.StringVal("tree")}), "state": cty.StringVal("absent"), "update_cache": cty.False})
	_, err := (steps.PackageKind{}).Apply(ctx, h, absent)
	if err == nil || !strings.Contains(err.Error(), "dpkg could not configure peers-slow") {
		t.Errorf("removing tree with peers-slow half-configured: %v, want an error naming peers-slow", err)
	}
	t.Logf("with a package half-configured by another tool: %v", err)
	h.peer = nil

	// Declared absent, the half-configured package is not absent (its
	// files are there): the plan says so and the step removes it.
	gone := obj(map[string]cty.Value{"names": cty.ListVal([]cty.Value{cty.StringVal("peers-slow")}), "state": cty.StringVal("absent"), "update_cache": cty.False})
	chk, err := (steps.PackageKind{}).Check(ctx, h, gone)
	if err != nil || chk.OK || !strings.Contains(chk.Reason, "peers-slow (left half-configured by an earlier dpkg run)") {
		t.Errorf("check of peers-slow absent while half-configured: %+v %v", chk, err)
	}
	if _, err := (steps.PackageKind{}).Apply(ctx, h, gone); err != nil {
		t.Errorf("removing the half-configured peers-slow: %v", err)
	}
	c.MustExec(t, 0, `st=$(dpkg-query -W -f='${Status}' peers-slow 2>/dev/null || true); case "$st" in ""|*not-installed|*config-files) ;; *) echo "$st"; exit 1;; esac`)
}

// peerUnit is a unit the service test manages (in /usr/local/lib, so that
// systemctl mask can put its /dev/null link in /etc).
const peerUnit = "/usr/local/lib/systemd/system/peers-svc.service"

// testPeerService: a unit masked by a peer while it runs is drift and a
// start or a restart of it fails naming the mask; a peer stopping the unit
// right after diffuser's restart makes the restart fail, not succeed.
func testPeerService(ctx context.Context, t *testing.T, c *dockertest.Cluster, h *dockerHost) {
	c.MustExec(t, 0, "mkdir -p /usr/local/lib/systemd/system && printf '[Unit]\\nDescription=peers\\nStartLimitIntervalSec=0\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > "+peerUnit+" && systemctl daemon-reload && systemctl start peers-svc")
	t.Cleanup(func() {
		_, _ = c.Exec(0, "systemctl unmask peers-svc; systemctl stop peers-svc; rm -f "+peerUnit+"; systemctl daemon-reload; systemctl reset-failed peers-svc")
	})
	k := steps.ServiceKind{Settle: 500 * time.Millisecond}
	svc := func(state string) cty.Value {
		return obj(map[string]cty.Value{"name": cty.StringVal("peers-svc"), "state": cty.StringVal(state), "enabled": cty.NullVal(cty.Bool), "daemon_reload": cty.False})
	}
	c.MustExec(t, 0, "systemctl mask peers-svc && systemctl is-active peers-svc")
	chk, err := k.Check(ctx, h, svc("started"))
	if err != nil || chk.OK || !strings.Contains(chk.Reason, "peers-svc is masked") {
		t.Errorf("check of a running unit a peer masked: %+v %v, want drift naming the mask", chk, err)
	}
	for _, state := range []string{"started", "restarted"} {
		_, err := k.Apply(ctx, h, svc(state))
		if err == nil || !strings.Contains(err.Error(), "run 'systemctl unmask peers-svc'") {
			t.Errorf("apply %s of a masked unit: %v, want the mask named", state, err)
		}
	}
	c.MustExec(t, 0, "systemctl unmask peers-svc")

	// A peer (Ansible's handler) stops the unit just after diffuser's restart.
	h.peer = func(cmd string) {
		if strings.HasPrefix(cmd, "systemctl is-active") && strings.Contains(cmd, "peers-svc") {
			_, _ = c.Exec(0, "systemctl stop peers-svc")
		}
	}
	defer func() { h.peer = nil }()
	_, err = k.Apply(ctx, h, svc("restarted"))
	h.peer = nil
	if err == nil || !strings.Contains(err.Error(), "peers-svc is inactive after start") {
		t.Errorf("a restart the peer undid: %v, want it reported inactive", err)
	}
	// Peers restarting it at the same moment: systemd queues the jobs.
	c.MustExec(t, 0, "(for i in 1 2 3 4 5; do systemctl restart peers-svc; done) >/dev/null 2>&1 &")
	if _, err := k.Apply(ctx, h, svc("restarted")); err != nil {
		t.Errorf("a restart while a peer restarts too: %v", err)
	}
}

// testPeerFile: a peer puts a symbolic link to /etc/shadow at a managed
// file's path, before the step reads it and again right after its upload:
// the link is replaced by the file each time, and /etc/shadow keeps its
// owner, mode and content.
func testPeerFile(ctx context.Context, t *testing.T, c *dockertest.Cluster, h *dockerHost) {
	const p = "/etc/peers-tools.conf"
	t.Cleanup(func() { _, _ = c.Exec(0, "rm -f "+p) })
	shadow := func() string { return c.MustExec(t, 0, "stat -c '%a %U %G' /etc/shadow && sha256sum < /etc/shadow") }
	before := shadow()
	args := obj(map[string]cty.Value{"path": cty.StringVal(p), "content": cty.StringVal("peers = 1\n"), "mode": cty.StringVal("0644"),
		"owner": cty.StringVal("nobody"), "group": cty.StringVal("nogroup")})
	c.MustExec(t, 0, "ln -sfn /etc/shadow "+p)
	chk, err := (steps.FileKind{}).Check(ctx, h, args)
	if err != nil || chk.OK || !strings.Contains(chk.Reason, "symbolic link to /etc/shadow") {
		t.Errorf("check of a path a peer linked to /etc/shadow: %+v %v", chk, err)
	}
	h.peer = func(ev string) {
		if strings.HasPrefix(ev, "upload ") {
			_, _ = c.Exec(0, "ln -sfn /etc/shadow "+p)
		}
	}
	_, err = (steps.FileKind{}).Apply(ctx, h, args)
	h.peer = nil
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := shadow(); got != before {
		t.Errorf("/etc/shadow changed: %q, was %q", got, before)
	}
	c.MustExec(t, 0, "[ ! -L "+p+" ] && [ \"$(stat -c '%a %U %G' "+p+")\" = '644 nobody nogroup' ] && [ \"$(cat "+p+")\" = 'peers = 1' ] && ! ls -a /etc | grep -q '^\\.peers-tools\\.conf\\.'")
}

// testPeerMount: a peer mounts another filesystem on the target between
// the step's look and its mount: the mount is refused, not stacked.
func testPeerMount(ctx context.Context, t *testing.T, c *dockertest.Cluster, h *dockerHost) {
	const target = "/srv/peers-tools/m"
	t.Cleanup(func() { _, _ = c.Exec(0, "while umount "+target+" 2>/dev/null; do :; done") })
	h.peer = func(cmd string) {
		if strings.HasPrefix(cmd, "d="+target+" s=\n") { // steps.MakeDirCmd
			_, _ = c.Exec(0, "mkdir -p "+target+" && mount -t tmpfs peersrc "+target)
		}
	}
	defer func() { h.peer = nil }()
	args := obj(map[string]cty.Value{"source": cty.StringVal("tmpfs"), "target": cty.StringVal(target), "fstype": cty.StringVal("tmpfs"),
		"options": cty.NullVal(cty.String), "fstab": cty.False, "mkdir": cty.True})
	_, err := (steps.MountKind{}).Apply(ctx, h, args)
	if err == nil || !strings.Contains(err.Error(), "mounted peersrc (tmpfs) there since this step looked") {
		t.Errorf("mount after a peer mounted on the target: %v, want a refusal", err)
	}
	if out := c.MustExec(t, 0, "findmnt -rn -o SOURCE --mountpoint "+target); strings.TrimSpace(out) != "peersrc" {
		t.Errorf("the target holds %q, want only the peer's mount", out)
	}
}
