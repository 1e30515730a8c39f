package s3store

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"diffuser/state"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const bucket = "diffuser-state"

func lockT(t *testing.T, s *Store, cmd string) func() error {
	t.Helper()
	u, err := s.Lock(context.Background(), state.CurrentHolder(cmd))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u() })
	return u
}

func TestRefusesServerWithoutConditionalWrites(t *testing.T) {
	f := newFakeS3(t, bucket)
	f.IgnoreConditions.Store(true)
	s := New(f.client, bucket, "ws", Options{})
	_, err := s.Lock(context.Background(), state.CurrentHolder("diffuser apply x"))
	if !errors.Is(err, ErrNoConditionalWrites) {
		t.Fatalf("lock on a server ignoring If-None-Match: %v, want ErrNoConditionalWrites", err)
	}
	if !strings.Contains(err.Error(), "refuses") {
		t.Fatalf("the error does not say diffuser refuses: %v", err)
	}
	if objs := objects(t, f.client, bucket, ""); len(objs) != 0 {
		t.Fatalf("the probe left objects behind: %v", keys(objs))
	}
	// Once conditions work again a new Store locks.
	f.IgnoreConditions.Store(false)
	lockT(t, New(f.client, bucket, "ws", Options{}), "diffuser apply x")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestObjectLayout(t *testing.T) {
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "/team/glusterfs/", Options{})
	if s.Where() != "s3://diffuser-state/team/glusterfs" {
		t.Fatalf("Where = %s", s.Where())
	}
	lockT(t, s, "diffuser apply glusterfs")
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"a", "b"} {
		if err := s.Record(state.PutHost(&state.Host{Name: h, ProviderID: h})); err != nil {
			t.Fatal(err)
		}
	}
	objs := objects(t, f.client, bucket, "")
	for _, k := range []string{"team/glusterfs/state.json", "team/glusterfs/state.lock",
		"team/glusterfs/journal/00000000000000000001/0000000000", "team/glusterfs/journal/00000000000000000001/0000000001"} {
		if _, ok := objs[k]; !ok {
			t.Errorf("no object %s; have %v", k, keys(objs))
		}
	}
	if !strings.HasPrefix(string(objs["team/glusterfs/journal/00000000000000000001/0000000000"]), `{"journal":2,`) {
		t.Errorf("the first journal object does not start with the header: %q", objs["team/glusterfs/journal/00000000000000000001/0000000000"])
	}
	var h state.Holder
	if err := json.Unmarshal(objs["team/glusterfs/state.lock"], &h); err != nil || h.Command != "diffuser apply glusterfs" || h.ID == "" {
		t.Errorf("the lock object holds %q", objs["team/glusterfs/state.lock"])
	}
	st, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	objs = objects(t, f.client, bucket, "")
	for k := range objs {
		if strings.Contains(k, "/journal/") {
			t.Errorf("save left journal object %s", k)
		}
	}
	var backup state.State
	if err := json.Unmarshal(objs["team/glusterfs/state.json.backup"], &backup); err != nil || backup.Serial != 1 {
		t.Errorf("backup is %q, want serial 1", objs["team/glusterfs/state.json.backup"])
	}
}

func TestJournalGapIsCorrupt(t *testing.T) {
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "ws", Options{})
	lockT(t, s, "diffuser apply")
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"a", "b", "c"} {
		if err := s.Record(state.PutHost(&state.Host{Name: h, ProviderID: h})); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.del(context.Background(), journalKey(0, 1)); err != nil {
		t.Fatal(err)
	}
	_, err := New(f.client, bucket, "ws", Options{}).Load()
	var ce *state.CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "object 1 of serial 0 is missing") {
		t.Fatalf("load with a journal gap: %v, want a CorruptError naming the gap", err)
	}
}

// TestBreakLock: a lock whose holder ran here and is gone is broken; one
// from another host is not, and the error says how to force it.
func TestBreakLock(t *testing.T) {
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "ws", Options{})
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := state.Holder{Command: "diffuser apply killed", PID: cmd.Process.Pid, ID: "dead1"}.Complete()
	dead.ProcStart = "1" // a later process of that pid is not it
	putHolder(t, s, dead)
	var le *state.LockedError
	if _, err := s.Lock(context.Background(), state.CurrentHolder("x")); !errors.As(err, &le) || !le.Stale {
		t.Fatalf("lock over a dead holder's lock: %v, want a stale *LockedError", err)
	}
	h, err := s.BreakLock()
	if err != nil || h == nil || h.ID != "dead1" {
		t.Fatalf("BreakLock of a dead holder = %v, %v", h, err)
	}
	if h, _ := s.LockInfo(); h != nil {
		t.Fatalf("still locked by %v", h)
	}
	far := state.Holder{Command: "diffuser apply far", PID: 1, Hostname: "elsewhere", User: "bob", Since: time.Now(), ID: "far1"}
	putHolder(t, s, far)
	_, err = s.BreakLock()
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "-force far1") || !strings.Contains(err.Error(), "bob@elsewhere") {
		t.Fatalf("BreakLock of another host's lock: %v, want it refused naming bob@elsewhere and -force far1", err)
	}
	if h, err := s.ForceUnlock(""); err == nil || h != nil {
		t.Fatal("force unlock without an id succeeded")
	}
	if h, err := s.ForceUnlock("far1"); err != nil || h == nil || h.Hostname != "elsewhere" {
		t.Fatalf("ForceUnlock = %v, %v", h, err)
	}
	if h, err := s.ForceUnlock("far1"); err != nil || h != nil {
		t.Fatalf("ForceUnlock of no lock = %v, %v; want nil, nil", h, err)
	}
}

func putHolder(t *testing.T, s *Store, h state.Holder) {
	t.Helper()
	b, _ := json.Marshal(h)
	if _, err := s.put(context.Background(), LockObject, b, false, ""); err != nil {
		t.Fatal(err)
	}
}

// TestUnlockLeavesAnotherLock: a holder whose lock was forced away and
// taken by another does not remove the new one when it releases.
func TestUnlockLeavesAnotherLock(t *testing.T) {
	f := newFakeS3(t, bucket)
	a, b := New(f.client, bucket, "ws", Options{}), New(f.client, bucket, "ws", Options{})
	unlock := lockT(t, a, "diffuser apply a")
	h, _ := b.LockInfo()
	if _, err := b.ForceUnlock(h.ID); err != nil {
		t.Fatal(err)
	}
	lockT(t, b, "diffuser apply b")
	if err := unlock(); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("release of a lock taken over: %v, want it refused", err)
	}
	if h, _ := b.LockInfo(); h == nil || h.Command != "diffuser apply b" {
		t.Fatalf("b's lock is gone: %v", h)
	}
}

func TestCheckBucketAndKey(t *testing.T) {
	for _, b := range []string{"", "ab", "UPPER", "-lead", "trail-", "a..b", "has space", "under_score", strings.Repeat("a", 64)} {
		if CheckBucket(b) == nil {
			t.Errorf("bucket %q accepted", b)
		}
	}
	for _, b := range []string{"abc", "diffuser-state", "my.bucket.1", strings.Repeat("a", 63)} {
		if err := CheckBucket(b); err != nil {
			t.Errorf("bucket %q: %v", b, err)
		}
	}
	for _, k := range []string{"/abs", "a//b", "a/../b", "./a", "a\x00b", "a\nb", strings.Repeat("k", 513)} {
		if CheckKey(k) == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	for _, k := range []string{"", "team", "team/prod", "a.b/c-d_e"} {
		if err := CheckKey(k); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
}

// TestClusterPrefixRefusesAnotherWorkspacesState: as the local store, a
// state object of another workspace's cluster (copied under this
// workspace's key) is refused when ClusterPrefix is set; this
// workspace's own loads.
func TestClusterPrefixRefusesAnotherWorkspacesState(t *testing.T) {
	f := newFakeS3(t, bucket)
	for cluster, foreign := range map[string]bool{"w-abc123": false, "other-abc123": true, "w-b-abc123": true} {
		key := "team/" + cluster
		s := New(f.client, bucket, key, Options{})
		lockT(t, s, "diffuser apply x")
		st, err := s.Load()
		if err != nil {
			t.Fatal(err)
		}
		st.Cluster = cluster
		if err := s.Save(st); err != nil {
			t.Fatal(err)
		}
		_, err = New(f.client, bucket, key, Options{ClusterPrefix: "w-"}).Load()
		var fe *state.ForeignError
		if errors.As(err, &fe) != foreign {
			t.Errorf("cluster %s: Load says %v, want foreign %v", cluster, err, foreign)
		}
		if foreign && (err == nil || !strings.Contains(err.Error(), "s3://"+bucket+"/"+key+"/state.json records cluster "+cluster)) {
			t.Errorf("cluster %s: %v", cluster, err)
		}
	}
}

// TestLockObjectKeyTwice: a lock object naming two lock ids (a key given
// twice: the JSON reader kept the last) names no holder: force unlock by
// either id is refused, and the object stays.
func TestLockObjectKeyTwice(t *testing.T) {
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "ws", Options{})
	b := []byte(`{"command":"diffuser apply far","pid":1,"hostname":"elsewhere","user":"bob","id":"far1","id":"far2"}`)
	if _, err := s.put(context.Background(), LockObject, b, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockInfo(); err == nil || !strings.Contains(err.Error(), `id: the key "id" is given twice`) {
		t.Fatalf("LockInfo: %v", err)
	}
	for _, id := range []string{"far1", "far2"} {
		if h, err := s.ForceUnlock(id); err == nil {
			t.Fatalf("ForceUnlock(%s) = %v, want refused", id, h)
		}
	}
	if data, _, err := s.get(context.Background(), LockObject); err != nil || data == nil {
		t.Fatalf("the lock object is gone (%v)", err)
	}
}

// TestStateObjectKeyTwice: the bucket's state.json goes through the same
// reader as the local one: "hosts" given twice is refused naming the
// object, the path and the line and column.
func TestStateObjectKeyTwice(t *testing.T) {
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "ws", Options{})
	b := []byte("{\"version\":1,\"serial\":2,\"lineage\":\"L\",\"hosts\":{},\"instances\":{},\n\"hosts\":{}}\n")
	if _, err := s.put(context.Background(), StateObject, b, false, ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load()
	if err == nil || !strings.Contains(err.Error(), s.url(StateObject)+`:2:1: hosts: the key "hosts" is given twice`) {
		t.Fatalf("Load: %v", err)
	}
}

// TestDamagedStateObjectHint: a damaged state.json in the bucket is
// refused with a hint that says what its backup object holds and how to
// put it back (no diffuser command reads a damaged state, state pull
// neither); doing what it says makes the workspace load again.
func TestDamagedStateObjectHint(t *testing.T) {
	ctx := context.Background()
	f := newFakeS3(t, bucket)
	s := New(f.client, bucket, "ws", Options{})
	damaged := []byte("{\"version\":1,\"serial\":2,\"lineage\":\"L\",\"hosts\":{},\"instances\":{},\n\"hosts\":{}}\n")
	if _, err := s.put(ctx, StateObject, damaged, false, ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load()
	want := "there is no readable backup " + s.url(BackupObject) + " (no such object): download it with an S3 client (aws s3 cp " + s.url(StateObject) + " state.json)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load without a backup: %v\nwant %q", err, want)
	}

	good := []byte(`{"version":1,"serial":1,"lineage":"L","hosts":{},"instances":{}}`)
	if _, err := s.put(ctx, BackupObject, good, false, ""); err != nil {
		t.Fatal(err)
	}
	_, err = s.Load()
	for _, want := range []string{
		s.url(StateObject) + ":2:1: hosts: the key \"hosts\" is given twice",
		"its previous copy " + s.url(BackupObject) + " (serial 1) is readable",
		"diffuser state pull neither",
		"aws s3 cp " + s.url(BackupObject) + " " + s.url(StateObject),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Load: %v\nwant %q", err, want)
		}
	}
	// What the hint says, with this test's S3 client: a server-side copy.
	src := bucket + "/" + s.key(BackupObject)
	if _, err := f.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.key(StateObject)), CopySource: &src}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Load()
	if err != nil || st.Serial != 1 || st.Lineage != "L" {
		t.Fatalf("after copying the backup back: %v, %+v", err, st)
	}

	if _, err := s.put(ctx, StateObject, damaged, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.put(ctx, BackupObject, damaged, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err = s.Load(); err == nil || !strings.Contains(err.Error(), "so is its backup "+s.url(BackupObject)) {
		t.Fatalf("Load with a damaged backup: %v", err)
	}
}
