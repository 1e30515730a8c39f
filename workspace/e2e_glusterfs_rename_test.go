package workspace_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// glusterfsExec runs a shell command in one of the cluster's containers.
func glusterfsExec(t *testing.T, cluster, host, script string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", "diffuser-"+cluster+"-"+host, "bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec %s: %v\n%s\n%s", host, err, script, out)
	}
	return string(out)
}

// glusterfsRenameRefused: volume_name changed on a live cluster. GlusterFS
// cannot rename a volume; a second one would leave the data in the first
// while the client mounts an empty one. The apply fails at the volume
// step, naming the volume that holds the data and what to do; nothing is
// created, the client stays on the old volume and its file is there. An
// apply with the old name set back changes nothing more.
func glusterfsRenameRefused(vars []string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		glusterfsExec(t, cluster, "client-0", "echo kept > /mnt/gluster/before-rename")
		renamed := append(append([]string(nil), vars...), "volume_name=gv1")
		a, err := e.applyOf(e.in(renamed...), "apply")
		said := fmt.Sprint(err)
		if a.Res != nil {
			for _, f := range a.Res.Failures {
				said += "\n" + f.Addr + ": " + f.Err.Error() + "\n" + f.Tail
			}
		}
		for _, want := range []string{`step.volume["server[0]"]`, "volume gv0, made by this recipe", "set volume_name back to gv0"} {
			if !strings.Contains(said, want) {
				t.Errorf("apply with volume_name=gv1 on a live gv0 said:\n%s\nwant %q", said, want)
			}
		}
		if list := glusterfsExec(t, cluster, "server-0", "gluster volume list"); strings.TrimSpace(list) != "gv0" {
			t.Errorf("volumes after the refused rename: %q, want gv0 alone", list)
		}
		if got := glusterfsExec(t, cluster, "client-0", "findmnt -n -o SOURCE /mnt/gluster; cat /mnt/gluster/before-rename"); !strings.Contains(got, ":/gv0") || !strings.Contains(got, "kept") {
			t.Errorf("the client after the refused rename: %q, want gv0 mounted with the file", got)
		}
		// The workspace remembers the variables of the failed apply: the
		// old name is set back as the refusal says.
		back := append(append([]string(nil), vars...), "volume_name=gv0")
		e.apply(t, back...)
		e.replanNoop(t, vars...)
	}
}
