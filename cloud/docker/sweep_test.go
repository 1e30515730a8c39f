package docker

import (
	"testing"
	"time"
)

// TestMarkedDeadline: only the form a launch writes is a deadline;
// garbage, other zones and formats, and absurd years are none.
func TestMarkedDeadline(t *testing.T) {
	want := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if got, ok := (Marked{Expires: "2026-12-06T09:00:00Z"}).Deadline(); !ok || !got.Equal(want) {
		t.Errorf("valid label: %v %v", got, ok)
	}
	for _, bad := range []string{"", "yesterday", "2026-12-06", "2026-12-06T10:00:00+01:00", "2026-12-06T09:00:00.5Z",
		"0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2026-13-06T09:00:00Z", " 2026-12-06T09:00:00Z", "2026-12-06T09:00:00Z\n", "$(reboot)"} {
		if got, ok := (Marked{Expires: bad}).Deadline(); ok {
			t.Errorf("label %q read as deadline %v", bad, got)
		}
	}
}

// TestClusterMarks: a cluster's label deadline is the latest of its
// containers', only when all carry a valid one; owner directories are
// clean absolute paths only.
func TestClusterMarks(t *testing.T) {
	a, b := "2026-12-06T09:00:00Z", "2026-12-06T11:00:00Z"
	c := ClusterMarks{Cluster: "c", Containers: []Marked{{Expires: a, WorkDir: "/d/ws"}, {Expires: b, WorkDir: "/d/ws"}}}
	if got, ok := c.LabelDeadline(); !ok || got.Format(time.RFC3339) != b {
		t.Errorf("deadline %v %v, want the latest %s", got, ok, b)
	}
	if dirs := c.OwnerDirs(); len(dirs) != 1 || dirs[0] != "/d/ws" || !c.AllLabelled() {
		t.Errorf("owner dirs %v, all labelled %v", dirs, c.AllLabelled())
	}
	c.Containers = append(c.Containers, Marked{Expires: "garbage", WorkDir: "/d/../etc"})
	if got, ok := c.LabelDeadline(); ok {
		t.Errorf("a garbage label among valid ones gave %v", got)
	}
	if c.AllLabelled() {
		t.Error("an unclean workdir label counted")
	}
	if _, ok := (ClusterMarks{}).LabelDeadline(); ok {
		t.Error("no containers, yet a deadline")
	}
	for _, bad := range []string{"", "ws", "./ws", "/d/ws/", "/d//ws", "/d/ws\n"} {
		if d := (Marked{WorkDir: bad}).OwnerDir(); d != "" {
			t.Errorf("workdir %q accepted as %q", bad, d)
		}
	}
}

// TestOwnVolumeFile: a device label frees a loop device only when it is
// bound to that container's own volume file of the cluster.
func TestOwnVolumeFile(t *testing.T) {
	m := Marked{Group: "server", Index: "1"}
	if !ownVolumeFile("gl-abc123", m, "brick", "/w/volumes/gl-abc123/server-1-brick.img") {
		t.Error("the container's own file refused")
	}
	for _, f := range []string{"/w/volumes/other/server-1-brick.img", "/w/volumes/gl-abc123/server-2-brick.img",
		"/w/volumes/gl-abc123/server-1-data.img", "volumes/gl-abc123/server-1-brick.img", "", "/var/lib/docker.img"} {
		if ownVolumeFile("gl-abc123", m, "brick", f) {
			t.Errorf("%s taken as server[1]'s brick of gl-abc123", f)
		}
	}
	if ownVolumeFile("gl-abc123", Marked{Group: "../x", Index: "1"}, "brick", "/w/volumes/gl-abc123/../x-1-brick.img") {
		t.Error("a hostile group label matched")
	}
}
