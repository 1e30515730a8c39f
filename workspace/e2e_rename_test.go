package workspace_test

import (
	"strings"
	"testing"
)

// renamed is a name variable of a recipe changed on a live cluster, where
// a second volume or filesystem would leave the data in the first while
// the clients mount an empty one: the apply must be refused.
type renamed struct {
	variable, from, to string
	mount              string   // where client[0] mounts it
	said               []string // what the refusal must say
	// left checks, after the refusal, that nothing was made (cluster,
	// the containers' name prefix).
	left func(t *testing.T, cluster string)
}

// refused writes a file on client[0], applies vars with the variable set
// to r.to and fails the test unless the apply is refused saying each of
// r.said, nothing was made (r.left) and the client still reads the file;
// then it sets the old name back, as the refusal says (the workspace
// remembers the variables of the failed apply), and re-plans: nothing more.
func (r renamed) refused(vars []string) func(t *testing.T, e *e2eEnv) {
	return func(t *testing.T, e *e2eEnv) {
		cluster := e.cluster(t)
		containerExec(t, cluster, "client-0", "echo kept > "+r.mount+"/before-rename && sync")
		said := e.applyRefused(append(append([]string(nil), vars...), r.variable+"="+r.to)...)
		for _, want := range r.said {
			if !strings.Contains(said, want) {
				t.Errorf("apply with %s=%s on a live %s said:\n%s\nwant %q", r.variable, r.to, r.from, said, want)
			}
		}
		r.left(t, cluster)
		if got := containerExec(t, cluster, "client-0", "cat "+r.mount+"/before-rename"); !strings.Contains(got, "kept") {
			t.Errorf("client[0] after the refused rename reads %q, want its file", got)
		}
		e.apply(t, append(append([]string(nil), vars...), r.variable+"="+r.from)...)
		e.replanNoop(t, vars...)
	}
}

// glusterfsRenameRefused: GlusterFS cannot rename a volume. The apply
// fails at the volume step, naming the volume that holds the data and
// what to do; no volume is created and the client stays on gv0.
func glusterfsRenameRefused(vars []string) func(t *testing.T, e *e2eEnv) {
	return renamed{variable: "volume_name", from: "gv0", to: "gv1", mount: "/mnt/gluster",
		said: []string{`step.volume["server[0]"]`, "volume gv0, made by this recipe", "set volume_name back to gv0"},
		left: func(t *testing.T, cluster string) {
			if list := containerExec(t, cluster, "server-0", "gluster volume list"); strings.TrimSpace(list) != "gv0" {
				t.Errorf("volumes after the refused rename: %q, want gv0 alone", list)
			}
			if src := containerExec(t, cluster, "client-0", "findmnt -n -o SOURCE /mnt/gluster"); !strings.Contains(src, ":/gv0") {
				t.Errorf("client[0] mounts %q after the refused rename, want gv0", src)
			}
		}}.refused(vars)
}
