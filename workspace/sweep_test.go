package workspace

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"diffuser/cloud/docker"
	"diffuser/state"
)

// fakeSweeper is the engine side of the sweep in memory: the clusters it
// lists and the ones removed.
type fakeSweeper struct {
	clusters []docker.ClusterMarks
	removed  map[string][]string // cluster -> volume files given
	failFor  string              // Remove of this cluster fails
	closed   bool
}

func (f *fakeSweeper) Clusters(context.Context) ([]docker.ClusterMarks, error) {
	return f.clusters, nil
}

func (f *fakeSweeper) Remove(_ context.Context, c docker.ClusterMarks, files []string) error {
	if c.Cluster == f.failFor {
		return errors.New("engine said no")
	}
	f.removed[c.Cluster] = files
	return nil
}

func (f *fakeSweeper) Close() error { f.closed = true; return nil }

func (f *fakeSweeper) swept() []string {
	var out []string
	for c := range f.removed {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// marks is a cluster of n containers with the given deadline and workdir
// labels.
func marks(cluster, expires, workDir string, n int) docker.ClusterMarks {
	c := docker.ClusterMarks{Cluster: cluster}
	for i := range n {
		c.Containers = append(c.Containers, docker.Marked{Name: "diffuser-" + cluster + "-node-" + string(rune('0'+i)),
			Group: "node", Index: string(rune('0' + i)), Expires: expires, WorkDir: workDir})
	}
	return c
}

// writeWorkspace writes a workspace's state: cluster, deadline and one
// docker host with a volume file per provider given.
func writeWorkspace(t *testing.T, dir, cluster string, deadline time.Time, providers ...string) {
	t.Helper()
	s := state.Open(dir)
	unlock, err := s.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Cluster, st.Expires, st.Provider = cluster, deadline, "docker"
	for i, p := range providers {
		name := "node[" + string(rune('0'+i)) + "]"
		st.Hosts[name] = &state.Host{Name: name, Group: "node", Index: i, Provider: p,
			Attrs: map[string]string{"volume.data.file": "/v/" + cluster + "/node-" + string(rune('0'+i)) + "-data.img"}}
		st.Steps[`step.hello["`+name+`"]`] = &state.Instance{Status: state.StatusApplied}
	}
	st.Outputs = map[string]state.Output{"x": {}}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
}

// markImported marks host imported (diffuser import) in dir's state.
func markImported(t *testing.T, dir, host string) {
	t.Helper()
	s := state.Open(dir)
	unlock, err := s.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Hosts[host].Attrs["imported"] = "true"
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
}

func readState(t *testing.T, dir string) *state.State {
	t.Helper()
	st, err := state.Open(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSweepExpired: with a simulated clock, the sweep removes exactly the
// clusters whose deadline has passed — by the owner's state when a
// workspace owns the cluster (renewed or removed deadlines win over the
// labels), by the labels otherwise (every container labelled, valid, past)
// — updates the owner's state, says so naming cluster and deadline, skips
// a locked workspace and one with hosts elsewhere, and leaves every other
// cluster alone: no deadline, a future one, garbage labels, containers
// that name no workspace.
func TestSweepExpired(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	pastL, futureL := past.Format(time.RFC3339), future.Format(time.RFC3339)
	data := t.TempDir()
	elsewhere := t.TempDir() // another data directory, found through the labels
	ws := func(root, name string) string { return filepath.Join(root, name) }

	writeWorkspace(t, ws(data, "due"), "due-aaaaaa", past, "docker", "docker")
	writeWorkspace(t, ws(elsewhere, "far"), "far-bbbbbb", past, "docker")
	writeWorkspace(t, ws(data, "renewed"), "renewed-cccccc", future, "docker") // labels say past
	writeWorkspace(t, ws(data, "ttl0"), "ttl0-dddddd", time.Time{}, "docker")  // --ttl 0 since
	writeWorkspace(t, ws(data, "busy"), "busy-eeeeee", past, "docker")
	writeWorkspace(t, ws(data, "mixed"), "mixed-ffffff", past, "docker", "static")
	writeWorkspace(t, ws(data, "old"), "old-gggggg", past, "docker") // containers without a workdir label
	writeWorkspace(t, ws(data, "imp"), "imp-hhhhhh", past, "docker", "docker")
	markImported(t, ws(data, "imp"), "node[1]")
	gone := filepath.Join(t.TempDir(), "deleted", "ws")

	f := &fakeSweeper{removed: map[string][]string{}, clusters: []docker.ClusterMarks{
		marks("due-aaaaaa", pastL, ws(data, "due"), 2),
		marks("far-bbbbbb", pastL, ws(elsewhere, "far"), 1),
		marks("renewed-cccccc", pastL, ws(data, "renewed"), 1),
		marks("ttl0-dddddd", pastL, ws(data, "ttl0"), 1),
		marks("busy-eeeeee", pastL, ws(data, "busy"), 1),
		marks("mixed-ffffff", pastL, ws(data, "mixed"), 1),
		marks("old-gggggg", "", "", 1),
		marks("imp-hhhhhh", pastL, ws(data, "imp"), 1),
		marks("orphan-past", pastL, gone, 2),
		marks("orphan-future", futureL, gone, 1),
		marks("orphan-nodeadline", "", gone, 1),
		marks("orphan-garbage", "yesterday", gone, 1),
		marks("orphan-offset", past.In(time.FixedZone("x", 3600)).Format(time.RFC3339), gone, 1),
		marks("orphan-year1", "0001-01-01T00:00:00Z", gone, 1),
		marks("orphan-unowned", pastL, "", 1),    // names no workspace: unknown owner
		marks("orphan-relative", pastL, "ws", 1), // not an absolute path
	}}
	// One container of a cluster without a deadline: the cluster stays.
	mixedLabels := marks("orphan-halfdeadline", pastL, gone, 2)
	mixedLabels.Containers[1].Expires = ""
	f.clusters = append(f.clusters, mixedLabels)
	// One container with a later (future) launch deadline: the cluster stays.
	later := marks("orphan-later", pastL, gone, 2)
	later.Containers[1].Expires = futureL
	f.clusters = append(f.clusters, later)

	// busy is locked by another diffuser.
	unlock, err := state.Open(ws(data, "busy")).Lock(context.Background(), state.CurrentHolder("diffuser apply busy"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	env := &Env{DataDir: data, Now: func() time.Time { return now },
		Sweeper: func(context.Context) (ClusterSweeper, error) { return f, nil }}
	var out bytes.Buffer
	res := env.SweepExpired(context.Background(), &out)
	t.Logf("sweep said:\n%s", out.String())

	if got, want := f.swept(), []string{"due-aaaaaa", "far-bbbbbb", "old-gggggg", "orphan-past"}; !slices.Equal(got, want) {
		t.Errorf("swept %v, want %v", got, want)
	}
	if !f.closed {
		t.Error("the sweeper was not closed")
	}
	if len(res.Swept) != 4 || len(res.Errors) != 0 {
		t.Errorf("result %+v", res)
	}
	// The owner's recorded volume files go to Remove.
	if files := f.removed["due-aaaaaa"]; len(files) != 2 || !strings.HasPrefix(files[0], "/v/due-aaaaaa/") {
		t.Errorf("volume files given for due: %v", files)
	}
	if files := f.removed["orphan-past"]; len(files) != 0 {
		t.Errorf("volume files given for an orphan: %v", files)
	}
	// State of the swept workspaces: no hosts, instances, outputs or deadline; lineage kept.
	for _, dir := range []string{ws(data, "due"), ws(elsewhere, "far"), ws(data, "old")} {
		st := readState(t, dir)
		if len(st.Hosts) != 0 || len(st.Steps) != 0 || len(st.Outputs) != 0 || !st.Expires.IsZero() || st.Cluster == "" {
			t.Errorf("%s after the sweep: hosts %d, instances %d, outputs %d, deadline %v, cluster %q", dir, len(st.Hosts), len(st.Steps), len(st.Outputs), st.Expires, st.Cluster)
		}
	}
	// Untouched: the renewed, removed, locked and mixed workspaces keep their hosts.
	for _, name := range []string{"renewed", "ttl0", "busy", "mixed", "imp"} {
		if st := readState(t, ws(data, name)); len(st.Hosts) == 0 {
			t.Errorf("workspace %s lost its hosts", name)
		}
	}
	said := out.String()
	for _, want := range []string{
		"swept expired cluster due-aaaaaa (deadline 2031-03-01T11:00:00Z)", "workspace due (" + ws(data, "due") + ") no longer records its hosts (2)",
		"swept expired cluster far-bbbbbb (deadline 2031-03-01T11:00:00Z)",
		"swept expired cluster orphan-past (deadline 2031-03-01T11:00:00Z)", "no workspace holds it (" + gone + " is gone)",
		"not sweeping expired cluster busy-eeeeee", "workspace busy is in use", "diffuser apply busy",
		"not sweeping expired cluster mixed-ffffff", "provider static", "destroy --expired -workspace mixed",
		"not sweeping expired cluster imp-hhhhhh", "an imported host (node[1])", "destroy --expired -workspace imp",
	} {
		if !strings.Contains(said, want) {
			t.Errorf("the sweep did not say %q:\n%s", want, said)
		}
	}
	for _, not := range []string{"renewed-", "ttl0-", "orphan-future", "orphan-nodeadline", "orphan-garbage", "orphan-offset", "orphan-year1",
		"orphan-unowned", "orphan-relative", "orphan-halfdeadline", "orphan-later"} {
		if strings.Contains(said, not) {
			t.Errorf("the sweep mentions %s:\n%s", not, said)
		}
	}

	// Once the lock is free, the next command sweeps busy; a second sweep
	// finds nothing more to do with the rest.
	unlock()
	f.removed = map[string][]string{}
	out.Reset()
	env.SweepExpired(context.Background(), &out)
	if got := f.swept(); !slices.Equal(got, []string{"busy-eeeeee", "orphan-past"}) {
		// orphan-past is listed again by the fake (a real engine no longer has it).
		t.Errorf("second sweep removed %v", got)
	}
	if st := readState(t, ws(data, "busy")); len(st.Hosts) != 0 {
		t.Errorf("busy still has hosts after its lock was freed")
	}
}

// TestSweepExpiredQuiet: no sweeper (tests, DIFFUSER_NO_SWEEP), an
// engine that does not answer and a failing removal never fail the
// caller; a failed removal leaves state alone and says the next command
// tries again.
func TestSweepExpiredQuiet(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	data := t.TempDir()
	var out bytes.Buffer
	env := &Env{DataDir: data, Now: func() time.Time { return now }}
	if res := env.SweepExpired(context.Background(), &out); len(res.Swept) != 0 || out.Len() != 0 {
		t.Fatalf("without a sweeper: %+v %q", res, out.String())
	}
	var connectBy time.Duration
	env.Sweeper = func(ctx context.Context) (ClusterSweeper, error) {
		if d, ok := ctx.Deadline(); ok {
			connectBy = time.Until(d)
		}
		return nil, errors.New("docker: cannot reach the Docker Engine")
	}
	if res := env.SweepExpired(context.Background(), &out); len(res.Swept) != 0 || out.Len() != 0 {
		t.Fatalf("without an engine: %+v %q", res, out.String())
	}
	// An engine that does not answer is given the connect bound, not the whole sweep's.
	if connectBy <= 0 || connectBy > sweepConnectTimeout {
		t.Fatalf("the engine was given %s to answer, want at most %s", connectBy, sweepConnectTimeout)
	}
	writeWorkspace(t, filepath.Join(data, "w"), "w-aaaaaa", now.Add(-time.Minute), "docker")
	f := &fakeSweeper{removed: map[string][]string{}, failFor: "w-aaaaaa",
		clusters: []docker.ClusterMarks{marks("w-aaaaaa", now.Add(-time.Minute).Format(time.RFC3339), filepath.Join(data, "w"), 1)}}
	env.Sweeper = func(context.Context) (ClusterSweeper, error) { return f, nil }
	res := env.SweepExpired(context.Background(), &out)
	if len(res.Errors) != 1 || !strings.Contains(out.String(), "warning: sweeping expired cluster w-aaaaaa: engine said no; the next diffuser command tries again") {
		t.Fatalf("failed removal: %+v %q", res, out.String())
	}
	if st := readState(t, filepath.Join(data, "w")); len(st.Hosts) != 1 || st.Expires.IsZero() {
		t.Fatalf("state changed although the removal failed: %+v", st)
	}
	// At the deadline exactly it is due (as destroy --expired has it).
	f.failFor = ""
	now = now.Add(-time.Minute)
	out.Reset()
	if res := env.SweepExpired(context.Background(), &out); len(res.Swept) != 1 {
		t.Fatalf("at the deadline: %+v %q", res, out.String())
	}
}

// TestSweepUnreadableOwner: a workspace whose state cannot be read (here
// encrypted, the key not given) or lives in a bucket owns its cluster, so
// the labels are not enough to sweep it.
func TestSweepUnreadableOwner(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	data := t.TempDir()
	dir := filepath.Join(data, "broken")
	writeWorkspace(t, dir, "broken-aaaaaa", now.Add(-time.Hour), "docker")
	if err := os.WriteFile(filepath.Join(dir, state.StateFile), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(data, "remote")
	writeWorkspace(t, remote, "remote-bbbbbb", now.Add(-time.Hour), "docker")
	if err := os.WriteFile(filepath.Join(remote, "backend"), []byte("s3://b/k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pastL := now.Add(-time.Hour).Format(time.RFC3339)
	f := &fakeSweeper{removed: map[string][]string{}, clusters: []docker.ClusterMarks{
		marks("broken-aaaaaa", pastL, dir, 1), marks("remote-bbbbbb", pastL, remote, 1)}}
	env := &Env{DataDir: data, Now: func() time.Time { return now },
		Sweeper: func(context.Context) (ClusterSweeper, error) { return f, nil }}
	var out bytes.Buffer
	env.SweepExpired(context.Background(), &out)
	if len(f.removed) != 0 || out.Len() != 0 {
		t.Fatalf("swept %v:\n%s", f.swept(), out.String())
	}
}

// TestSweepOwnerNotLookedInto: a workspace directory the command cannot
// look into is not a deleted one. Another user's data directory (0700,
// as diffuser makes it) answers "permission denied", not "no such
// directory"; its cluster's labels may say past while its state says
// renewed. The labels alone must not remove it: only a directory that is
// not there (or holds no state) makes a cluster an orphan. Root cannot be
// refused a directory, so the test stands a symbolic link loop in the
// path (ELOOP) for the unanswered question, and checks permission denied
// too when it runs as another user.
func TestSweepOwnerNotLookedInto(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	pastL := now.Add(-time.Hour).Format(time.RFC3339)
	root := t.TempDir()
	loop := filepath.Join(root, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	clusters := []docker.ClusterMarks{marks("looped-aaaaaa", pastL, filepath.Join(loop, "ws"), 1)}
	if os.Geteuid() != 0 {
		closed := filepath.Join(root, "closed")
		writeWorkspace(t, filepath.Join(closed, "ws"), "closed-bbbbbb", now.Add(time.Hour), "docker")
		if err := os.Chmod(closed, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(closed, 0o700) })
		clusters = append(clusters, marks("closed-bbbbbb", pastL, filepath.Join(closed, "ws"), 1))
	}
	gone := filepath.Join(root, "deleted", "ws")
	clusters = append(clusters, marks("gone-cccccc", pastL, gone, 1))
	f := &fakeSweeper{removed: map[string][]string{}, clusters: clusters}
	env := &Env{DataDir: t.TempDir(), Now: func() time.Time { return now },
		Sweeper: func(context.Context) (ClusterSweeper, error) { return f, nil }}
	var out bytes.Buffer
	env.SweepExpired(context.Background(), &out)
	if got := f.swept(); !slices.Equal(got, []string{"gone-cccccc"}) {
		t.Fatalf("swept %v, want only the cluster whose workspace is gone:\n%s", got, out.String())
	}
}

// TestSweepRenamedWorkspace: a workspace directory renamed by hand
// (.diffuser/orig moved to .diffuser/moved) still holds its cluster's
// state, though every command refuses it until it gets its old name back
// (state.ForeignError). Its containers' labels name the old directory,
// which is gone, and the launch's deadline, which has passed; the state
// in the renamed directory renewed it. The cluster is not an orphan: the
// labels alone must not remove it.
func TestSweepRenamedWorkspace(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	pastL := now.Add(-time.Hour).Format(time.RFC3339)
	data := t.TempDir()
	orig, moved := filepath.Join(data, "orig"), filepath.Join(data, "moved")
	writeWorkspace(t, orig, "orig-aaaaaa", now.Add(5*time.Hour), "docker")
	if err := os.Rename(orig, moved); err != nil {
		t.Fatal(err)
	}
	env := &Env{DataDir: data, Now: func() time.Time { return now }}
	if _, err := env.openLocal(moved).Load(); err == nil {
		t.Fatal("the renamed workspace's state is read as its own: the test no longer shows a renamed directory")
	}
	f := &fakeSweeper{removed: map[string][]string{}, clusters: []docker.ClusterMarks{marks("orig-aaaaaa", pastL, orig, 2)}}
	env.Sweeper = func(context.Context) (ClusterSweeper, error) { return f, nil }
	var out bytes.Buffer
	env.SweepExpired(context.Background(), &out)
	if len(f.removed) != 0 {
		t.Fatalf("swept %v, the cluster of a renamed workspace whose state renewed its deadline:\n%s", f.swept(), out.String())
	}
	if st := readState(t, moved); len(st.Hosts) != 1 || st.Expires.IsZero() {
		t.Errorf("the renamed workspace's state changed: %d hosts, deadline %s", len(st.Hosts), st.Expires)
	}
}

// TestSweepBucketWorkspace: a workspace whose state lives in a bucket
// (backend "s3") keeps only its marker, SSH key and runs in its local
// directory: no state.json, journal or lock. Its cluster's labels name
// that directory, which is there; the deadline that counts is in the
// bucket, which an apply may have renewed. The sweep cannot read it, so
// it must leave the cluster alone (docs/expiry.md: never touched), not
// take the directory for a deleted one and remove the cluster by its
// launch labels.
func TestSweepBucketWorkspace(t *testing.T) {
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	pastL := now.Add(-time.Hour).Format(time.RFC3339)
	data := t.TempDir()
	dir := filepath.Join(data, "shared")
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"backend": "s3://team-state/d/shared\n", "id_ed25519": "key\n", "id_ed25519.pub": "pub\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeSweeper{removed: map[string][]string{}, clusters: []docker.ClusterMarks{marks("shared-aaaaaa", pastL, dir, 2)}}
	env := &Env{DataDir: data, Now: func() time.Time { return now },
		Sweeper: func(context.Context) (ClusterSweeper, error) { return f, nil }}
	var out bytes.Buffer
	env.SweepExpired(context.Background(), &out)
	if len(f.removed) != 0 {
		t.Fatalf("swept %v, the cluster of a workspace whose state is in a bucket:\n%s", f.swept(), out.String())
	}
}

// TestCopiedStateSameClusterPrefix: a workspace's directory copied by
// hand to another name is refused (state.ForeignError): commands there
// would change or destroy the first workspace's machines. The check is
// the cluster name's prefix, made of the sanitized workspace name, so a
// copy to a name that sanitizes the same (a-b to a.b, a_b or A-B) passed:
// a destroy -workspace a.b removed a-b's containers, and a-b's state
// still listed them. Two workspaces of one data directory that record
// the same cluster are both refused, naming each other; a workspace of
// that prefix with its own cluster is not.
func TestCopiedStateSameClusterPrefix(t *testing.T) {
	data := t.TempDir()
	orig := filepath.Join(data, "a-b")
	writeWorkspace(t, orig, "a-b-aaaaaa", time.Time{}, "docker")
	writeWorkspace(t, filepath.Join(data, "a_b"), "a-b-bbbbbb", time.Time{}, "docker")
	if err := os.CopyFS(filepath.Join(data, "a.b"), os.DirFS(orig)); err != nil {
		t.Fatal(err)
	}
	env := &Env{DataDir: data}
	for _, ws := range []string{"a.b", "a-b"} {
		_, err := env.ReadState(ws)
		if err == nil || !strings.Contains(err.Error(), "a-b-aaaaaa") || !strings.Contains(err.Error(), filepath.Join(data, "a-b")) ||
			!strings.Contains(err.Error(), filepath.Join(data, "a.b")) {
			t.Errorf("workspace %s, whose cluster another workspace's state records too: %v", ws, err)
		}
	}
	if st, err := env.ReadState("a_b"); err != nil || st.Cluster != "a-b-bbbbbb" {
		t.Errorf("a_b, with its own cluster: %v", err)
	}
}
