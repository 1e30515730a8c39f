package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/state"
	"diffuser/state/s3store"
	"diffuser/state/s3store/s3fake"
	"diffuser/workspace"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Site writes a site file keeping state in bucket under key on the
// server at endpoint.
func s3Site(t *testing.T, dir, endpoint, bucket, key string) string {
	t.Helper()
	p := filepath.Join(dir, "team.hcl")
	text := fmt.Sprintf("backend \"s3\" {\n  bucket = %q\n  key = %q\n  endpoint = %q\n}\n", bucket, key, endpoint)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestS3BackendWorkspace: with a backend block, apply, plan and the state
// commands keep state in the bucket (the in-process fake) and nothing in
// the data directory; a second operator's data directory sees the same
// state; a saved plan made stale by the other operator's apply is refused;
// a held lock names its holder.
func TestS3BackendWorkspace(t *testing.T) {
	ctx := context.Background()
	srv := s3fake.Start(t, "team-state")
	dir := t.TempDir()
	site := s3Site(t, dir, srv.URL, "team-state", "diffuser/prod")
	recipe, err := filepath.Abs(planRecipe)
	if err != nil {
		t.Fatal(err)
	}
	alice := newSysEnv(t, filepath.Join(dir, "alice"))
	bob := newSysEnv(t, filepath.Join(dir, "bob"))
	for _, s := range []*sysEnv{alice, bob} {
		s.env.Sim = workspace.SimOptions{Enabled: true}
		s.env.SiteFile = site
	}
	in := func(vars ...string) workspace.Inputs { return workspace.Inputs{Recipe: recipe, Site: site, Vars: vars} }

	a := alice.mustApply(t, in(), "apply")
	if o := a.Outcome(); o.Failed != 0 || o.Done == 0 {
		t.Fatalf("apply: %+v", o)
	}
	if _, err := os.Stat(filepath.Join(alice.data(), "golden", state.StateFile)); err == nil {
		t.Fatal("state.json was written to the local data directory, not the bucket")
	}
	objs := listObjects(t, srv, "team-state")
	if !objs["diffuser/prod/golden/state.json"] {
		t.Fatalf("no state object in the bucket: %v", objs)
	}
	st := bob.readState(t, "golden")
	if st.Lineage != a.State.Lineage || st.Serial != a.State.Serial || len(st.Hosts) != len(a.State.Hosts) {
		t.Fatalf("bob reads lineage %s serial %d, alice wrote %s serial %d", st.Lineage, st.Serial, a.State.Lineage, a.State.Serial)
	}
	bob.noChanges(t, in())
	// A no-op apply (alice's again, then bob's) writes nothing to the
	// bucket: the state object and its serial stay, so plans saved before
	// it are not made stale.
	etag := objectETag(t, srv, "team-state", "diffuser/prod/golden/state.json")
	for _, s := range []*sysEnv{alice, bob} {
		if a := s.mustApply(t, in(), "apply"); a.Res != nil || a.State.Serial != st.Serial {
			t.Fatalf("a no-op apply ran steps or moved the serial from %d to %d", st.Serial, a.State.Serial)
		}
		if got := objectETag(t, srv, "team-state", "diffuser/prod/golden/state.json"); got != etag {
			t.Fatalf("a no-op apply rewrote the state object (ETag %s, was %s)", got, etag)
		}
	}

	// Without the site file, alice's data directory refuses rather than
	// start an empty local state beside the bucket's.
	alice.env.SiteFile = ""
	_, err = alice.planOf(workspace.Inputs{Recipe: recipe}, "plan")
	if err == nil || !strings.Contains(err.Error(), "keeps its state in s3://team-state/diffuser/prod/golden") {
		t.Fatalf("plan without the site file: %v, want it refused naming the bucket", err)
	}
	if _, err := alice.env.ReadState("golden"); err == nil || !strings.Contains(err.Error(), "-site") {
		t.Fatalf("state read without the site file: %v", err)
	}
	alice.env.SiteFile = site

	// A plan alice saved before bob applied is stale.
	planFile := filepath.Join(dir, "alice.plan")
	pl, err := alice.planOf(in("greeting=bye"), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Save(planFile); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	bob.mustApply(t, in("greeting=hi"), "apply")
	sp, err := alice.env.ReadPlanFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.env.PlanSaved(ctx, sp); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("a saved plan made stale through the bucket was accepted: %v", err)
	} else if !strings.Contains(err.Error(), "no run kept on this machine changed it (another machine sharing the state") {
		t.Errorf("bob's run is not on alice's machine, and the error does not say so: %v", err)
	}

	// A held lock names its holder.
	client, err := s3store.NewClient(ctx, s3store.Config{Bucket: "team-state", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	holder := s3store.New(client, "team-state", "diffuser/prod/golden", s3store.Options{})
	unlock, err := holder.Lock(ctx, state.CurrentHolder("diffuser apply golden (carol)"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.applyOf(in("greeting=x"), "apply")
	if !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), "carol") || !strings.Contains(err.Error(), "s3://team-state/diffuser/prod/golden/state.lock") {
		t.Fatalf("apply while locked: %v, want the holder and the lock object named", err)
	}
	res, err := alice.env.Unlock("golden", "")
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("state unlock of a live holder: %+v, %v", res, err)
	}
	h, _ := holder.LockInfo()
	if res, err := alice.env.Unlock("golden", h.ID); err != nil || res.Forced == nil || res.Forced.ID != h.ID {
		t.Fatalf("state unlock -force %s: %+v, %v", h.ID, res, err)
	}
	_ = unlock
	alice.mustApply(t, in("greeting=x"), "apply")
}

func objectETag(t *testing.T, srv *s3fake.Server, bucket, key string) string {
	t.Helper()
	h, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil || h.ETag == nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return *h.ETag
}

func listObjects(t *testing.T, srv *s3fake.Server, bucket string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	l, err := srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Contents {
		out[*o.Key] = true
	}
	return out
}

// TestStatePushPull: push moves a local workspace into the bucket keeping
// lineage and serial, refuses to overwrite another lineage unless forced,
// and pull brings it back into another data directory.
func TestStatePushPull(t *testing.T) {
	ctx := context.Background()
	srv := s3fake.Start(t, "team-state")
	dir := t.TempDir()
	site := s3Site(t, dir, srv.URL, "team-state", "")
	recipe, err := filepath.Abs(planRecipe)
	if err != nil {
		t.Fatal(err)
	}
	local := newSysEnv(t, filepath.Join(dir, "local"))
	local.env.Sim = workspace.SimOptions{Enabled: true}
	a := local.mustApply(t, workspace.Inputs{Recipe: recipe}, "apply")
	local.env.SiteFile = site

	if _, err := local.env.ReadState("golden"); !errors.Is(err, workspace.ErrNoState) || !strings.Contains(err.Error(), "s3://team-state/golden") {
		t.Fatalf("reading a workspace the bucket does not hold: %v, want ErrNoState naming where", err)
	}
	if _, err := local.env.Pull(ctx, "golden", false); !errors.Is(err, workspace.ErrNoState) {
		t.Fatalf("pull of a workspace the bucket does not hold: %v", err)
	}
	m, err := local.env.Push(ctx, "golden", false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Lineage != a.State.Lineage || m.Serial != a.State.Serial || m.Replaced != nil || m.To != "s3://team-state/golden" {
		t.Fatalf("push: %+v; want lineage %s serial %d", m, a.State.Lineage, a.State.Serial)
	}
	remote, err := local.env.ReadState("golden")
	if err != nil || remote.Lineage != a.State.Lineage || remote.Serial != a.State.Serial || len(remote.Hosts) != len(a.State.Hosts) {
		t.Fatalf("the bucket holds %+v, %v", remote, err)
	}
	// Pushing the same state again is harmless.
	if _, err := local.env.Push(ctx, "golden", false); err != nil {
		t.Fatalf("second push of the same state: %v", err)
	}

	// Another checkout's state of the same name is another lineage.
	other := newSysEnv(t, filepath.Join(dir, "other"))
	other.env.Sim = workspace.SimOptions{Enabled: true}
	o := other.mustApply(t, workspace.Inputs{Recipe: recipe}, "apply")
	other.env.SiteFile = site
	if _, err := other.env.Push(ctx, "golden", false); !errors.Is(err, workspace.ErrOtherLineage) || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("push over another lineage: %v, want ErrOtherLineage naming -force", err)
	}
	if st, _ := local.env.ReadState("golden"); st.Lineage != a.State.Lineage {
		t.Fatalf("the refused push changed the bucket: lineage %s", st.Lineage)
	}
	m, err = other.env.Push(ctx, "golden", true)
	if err != nil || m.Replaced == nil || m.Replaced.Lineage != a.State.Lineage || !strings.HasSuffix(m.Backup, "golden/state.json.backup") {
		t.Fatalf("forced push: %+v, %v", m, err)
	}

	// Pull into a fresh data directory.
	fresh := newSysEnv(t, filepath.Join(dir, "fresh"))
	fresh.env.SiteFile = site
	m, err = fresh.env.Pull(ctx, "golden", false)
	if err != nil || m.Lineage != o.State.Lineage {
		t.Fatalf("pull: %+v, %v", m, err)
	}
	fresh.env.SiteFile = filepath.Join(dir, "none.hcl")
	if err := os.WriteFile(fresh.env.SiteFile, []byte("keep_runs = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := fresh.env.ReadState("golden")
	if err != nil || st.Lineage != o.State.Lineage || st.Serial != o.State.Serial {
		t.Fatalf("pulled local state: %+v, %v", st, err)
	}
	// Without a backend block there is nowhere to push to.
	if _, err := fresh.env.Push(ctx, "golden", false); err == nil || !strings.Contains(err.Error(), "names no backend") {
		t.Fatalf("push with a site file without a backend: %v", err)
	}
}

// TestBackendSiteErrors: a bad backend block is an error at its file and
// line before anything is read.
func TestBackendSiteErrors(t *testing.T) {
	dir := t.TempDir()
	recipe, _ := filepath.Abs(planRecipe)
	cases := []struct{ body, want string }{
		{"backend \"s3\" {\n  bucket = \"Bad_Bucket\"\n}\n", "Invalid bucket name"},
		{"backend \"s3\" {\n  bucket = \"ok-bucket\"\n  key = \"/abs\"\n}\n", "Invalid backend key"},
		{"backend \"s3\" {\n  bucket = \"ok-bucket\"\n  endpoint = \"ftp://x\"\n}\n", "Invalid endpoint"},
		{"backend \"s3\" {\n  bucket = \"ok-bucket\"\n  endpoint = \"http://u:p@x\"\n}\n", "Credentials in the endpoint"},
	}
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("site%d.hcl", i))
		if err := os.WriteFile(p, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		s := newSysEnv(t, filepath.Join(dir, "data"))
		v := s.env.Validate(workspace.Inputs{Recipe: recipe, Site: p})
		if v.Valid() {
			t.Fatalf("%s accepted", c.body)
		}
		d := v.Diags[0]
		if d.Summary != c.want || d.Subject == nil || d.Subject.Filename != p || d.Subject.Start.Line < 2 {
			t.Fatalf("%q: got %s at %v, want %q at %s line 2+", c.body, d.Summary, d.Subject, c.want, p)
		}
	}
}

// TestBucketRefusedBeforeLocalStateMoves: a site file with a backend
// block given to a workspace whose state is still in the local data
// directory (applied without it) made every command read the bucket,
// which does not hold it: the plan said to create the whole cluster
// again, and the workspace was marked as kept in the bucket, its local
// state (and the hosts it records) out of reach from then on. Until
// state push moves it, the bucket is refused, saying so; after the push
// it is used.
func TestBucketRefusedBeforeLocalStateMoves(t *testing.T) {
	srv := s3fake.Start(t, "team-state")
	dir := t.TempDir()
	site := s3Site(t, dir, srv.URL, "team-state", "")
	recipe, err := filepath.Abs(planRecipe)
	if err != nil {
		t.Fatal(err)
	}
	local := newSysEnv(t, filepath.Join(dir, "local"))
	local.env.Sim = workspace.SimOptions{Enabled: true}
	a := local.mustApply(t, workspace.Inputs{Recipe: recipe}, "apply")

	_, err = local.planOf(workspace.Inputs{Recipe: recipe, Site: site}, "plan")
	if err == nil || !strings.Contains(err.Error(), "state push") || !strings.Contains(err.Error(), "s3://team-state/golden") {
		t.Fatalf("plan with the bucket's site file of a workspace kept locally: %v; want a refusal naming state push and the bucket", err)
	}
	if _, err := os.Stat(filepath.Join(local.data(), "golden", "backend")); err == nil {
		t.Fatal("the refused plan marked the workspace as kept in the bucket")
	}
	if st, err := local.env.ReadState("golden"); err != nil || len(st.Hosts) != len(a.State.Hosts) {
		t.Fatalf("the local state after the refusal: %v", err)
	}
	local.env.SiteFile = site
	if _, err := local.env.Push(context.Background(), "golden", false); err != nil {
		t.Fatal(err)
	}
	local.env.SiteFile = ""
	pl, err := local.planOf(workspace.Inputs{Recipe: recipe, Site: site}, "plan")
	if err != nil {
		t.Fatalf("plan with the site file after state push: %v", err)
	}
	defer pl.Close()
	if pl.Plan.HasChanges() {
		t.Errorf("after state push the plan has changes: the bucket's state is not the workspace's")
	}
}
