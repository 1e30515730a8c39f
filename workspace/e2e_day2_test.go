//go:build e2e

package workspace_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func init() {
	e2eCases = append(e2eCases,
		// replica 2, two clients: a server restarted by docker keeps its
		// address, the plan stays a no-op, verify's failover read is a
		// first read served by the other brick, and an unmounted FUSE
		// client is drift that apply repairs. Then a live server is
		// replaced (drained first) and the other one removed and replaced.
		e2eCase{name: "glusterfs-day2", recipe: "glusterfs", vars: []string{"servers=2", "replica=2", "clients=2"},
			extra: glusterfsDay2},
	)
}

func glusterfsDay2(t *testing.T, e *e2eEnv) {
	cluster := e.cluster(t)
	vars := []string{"servers=2", "replica=2", "clients=2"}
	st := e.readState(t, e.recipe)
	before := st.Hosts["server[1]"]
	if before.Attrs["fixed_ip"] != before.PrivateIP {
		t.Fatalf("server[1] at %s is not pinned (fixed_ip %q)", before.PrivateIP, before.Attrs["fixed_ip"])
	}
	name := "diffuser-" + cluster + "-server-1"
	t0 := time.Now()
	if out, err := exec.Command("docker", "restart", name).CombinedOutput(); err != nil {
		t.Fatalf("docker restart: %v: %s", err, out)
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).Output()
	if err != nil || strings.TrimSpace(string(out)) != before.PrivateIP {
		t.Fatalf("after docker restart server[1] is at %q (%v), was %s", out, err, before.PrivateIP)
	}
	// The brick filesystem is mounted at boot: systemd's fstab generator
	// ignores device lines in containers, so the recipe's brick_at_boot
	// unit mounts it (the first run of this case, before that unit, found
	// the brick offline here).
	// docker restart returns once the container runs; systemd is still
	// booting then: wait for the mount (the unit runs before
	// local-fs.target).
	for i := 0; ; i++ {
		out, err := exec.Command("docker", "exec", name, "findmnt", "-n", "/data/brick").CombinedOutput()
		if err == nil {
			t.Logf("/data/brick mounted %s after docker restart: %s", time.Since(t0).Round(time.Second), strings.TrimSpace(string(out)))
			break
		}
		if i == 60 {
			diag, _ := exec.Command("docker", "exec", name, "bash", "-c", "systemctl is-system-running; systemctl status diffuser-brick-mount --no-pager; grep brick /etc/fstab; journalctl -b --no-pager | tail -30").CombinedOutput()
			t.Fatalf("/data/brick is not mounted on server[1] 60 s after docker restart: %v: %s\n%s", err, out, diag)
		}
		time.Sleep(time.Second)
	}
	// Wait until its brick is online again (glusterd starts it at boot).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		o, _ := exec.Command("docker", "exec", "diffuser-"+cluster+"-server-0", "bash", "-c",
			"gluster volume status gv0 "+before.PrivateIP+":/data/brick/gv0 detail 2>/dev/null | grep -c '^Online.*: Y'").Output()
		if strings.TrimSpace(string(o)) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server[1]'s brick is not online 3 min after docker restart:\n%s", containerExec(t, cluster, "server-0", "gluster volume status gv0; true"))
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("docker restart of server[1]: address %s kept, brick online after %s", before.PrivateIP, time.Since(t0).Round(time.Second))
	e.replanNoop(t, vars...)
	after := e.readState(t, e.recipe).Hosts["server[1]"]
	if after.PrivateIP != before.PrivateIP || after.ProviderID != before.ProviderID || after.SSH.HostKey != before.SSH.HostKey {
		t.Fatalf("server[1] in state changed: %+v, was %+v", after, before)
	}
	checks := e.verify(t, vars...)
	found := false
	for _, c := range checks {
		t.Logf("verify %s %s: %s", c.Name, c.Host, c.Detail)
		if c.Name == "locate" {
			found = true
			// AFR may leave the down brick out of pathinfo: both forms are true.
			if !strings.HasPrefix(c.Detail, "served by server[0] (fuse.glusterfs: copies on server[0]") {
				t.Errorf("locate: %q", c.Detail)
			}
		}
		if c.Name == "read with server[1] down" && !strings.Contains(c.Detail, "first read of the file on client[1], with O_DIRECT") {
			t.Errorf("failover read: %q", c.Detail)
		}
	}
	if !found {
		t.Error("verify reported no locate check")
	}

	// An unmounted FUSE client is drift: the plan repairs it.
	containerExec(t, cluster, "client-1", "umount /mnt/gluster")
	ch := e.changes(t, e.in(vars...))
	c := ch[`step.mount["client[1]"]`]
	if c == nil || !strings.Contains(c.Reason, "drift") || len(ch) != 1 {
		t.Fatalf("plan after unmounting client[1]: %v", changeLines(ch))
	}
	t.Logf("unmounted client[1]: %s (%s)", c.Action, c.Reason)
	e.apply(t, vars...)
	e.replanNoop(t, vars...)
	containerExec(t, cluster, "client-1", "findmnt -n -t fuse.glusterfs --mountpoint /mnt/gluster")
	e.verify(t, vars...)

	// A live server must go: -replace drains it first (nothing pending
	// heal, its glusterd and brick stopped), then replaces it; every byte
	// reads back. Then the other server dies (container removed): every
	// byte reads back from the new one alone, and it is replaced too.
	want := glusterWrite(t, cluster)
	liveReplace(t, e, vars, "server[1]", "brick_rejoin", "nothing pending heal")
	glusterHealed(t, cluster, "server-0", 5*time.Minute)
	if got := glusterSums(t, cluster, "client-1", "/mnt/gluster/replace", true); got != want {
		t.Fatalf("after the live replace of server[1] the files read back differently:\n%s\nwant:\n%s", got, want)
	}
	if out, err := exec.Command("docker", "rm", "-f", "diffuser-"+cluster+"-server-0").CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	if got := glusterSums(t, cluster, "client-1", "/mnt/gluster/replace", true); got != want {
		t.Fatalf("with server[0] gone the files read back differently:\n%s\nwant:\n%s", got, want)
	}
	glusterReplaceOne(t, e, vars, 0, 1, 2, want)
	e.verify(t, vars...)
}
