package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diffuser/state"
)

// makeWorkspace writes a workspace with the given hosts (one step
// instance each) and the files a real one has beside its state.
func makeWorkspace(t *testing.T, e *Env, name string, hosts ...string) string {
	t.Helper()
	dir := e.Layout().Workspace(name)
	s := state.Open(dir)
	unlock, err := s.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unlock() }()
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Recipe, st.Provider, st.Cluster = "glusterfs", "sim", name+"-abc123"
	for i, h := range hosts {
		st.Hosts[h] = &state.Host{Name: h, Group: "server", Index: i, Provider: "sim", ProviderID: "sim-" + h, Launched: time.Now()}
		st.Steps[`step.pkg["`+h+`"]`] = &state.Instance{Step: "pkg", Host: h, Kind: "run", Status: state.StatusApplied}
	}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(st); err != nil { // a second save: a backup exists, serial 2
		t.Fatal(err)
	}
	for _, f := range []string{"id_ed25519", "id_ed25519.pub", "known_hosts", "timeline.html"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// snapshot is every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestListWorkspaces(t *testing.T) {
	e := &Env{DataDir: t.TempDir()}
	if got, err := e.List(); err != nil || len(got) != 0 {
		t.Fatalf("empty data dir: %v %v", got, err)
	}
	if got, err := (&Env{DataDir: filepath.Join(t.TempDir(), "none")}).List(); err != nil || len(got) != 0 {
		t.Fatalf("missing data dir: %v %v", got, err)
	}
	makeWorkspace(t, e, "big", "server[0]", "server[1]", "server[2]")
	makeWorkspace(t, e, "empty")
	// Not workspaces: the step logs, a stray file, a symlink to a workspace.
	if err := os.MkdirAll(filepath.Join(e.DataDir, "logs", "pkg"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.DataDir, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(e.DataDir, "big"), filepath.Join(e.DataDir, "alias")); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(e.DataDir, "broken")
	if err := os.MkdirAll(bad, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, state.StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	got, err := e.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range got {
		names = append(names, in.Name)
	}
	if want := []string{"big", "broken", "empty"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("listed %v, want %v", names, want)
	}
	big := got[0]
	if big.Recipe != "glusterfs" || big.Provider != "sim" || big.Hosts != 3 || big.Instances != 3 || big.Serial != 2 ||
		big.Cluster != "big-abc123" || time.Since(big.Modified) > time.Minute || big.Err != nil || big.LockedBy != nil {
		t.Errorf("big: %+v", big)
	}
	if got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "state.json") {
		t.Errorf("broken state is listed without its error: %+v", got[1])
	}
	if got[2].Hosts != 0 || got[2].Serial != 2 {
		t.Errorf("empty: %+v", got[2])
	}

	// A lock held now is shown with its holder.
	unlock, err := state.Open(filepath.Join(e.DataDir, "empty")).Lock(context.Background(), state.CurrentHolder("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unlock() }()
	got, _ = e.List()
	if h := got[2].LockedBy; h == nil || h.Command != "apply" || h.PID != os.Getpid() {
		t.Errorf("locked workspace: holder %+v", h)
	}
}

// TestDeleteWorkspace: refused while state has hosts (saying to destroy
// first), while another process holds the lock, and for names that are
// not workspaces; nothing is touched then. An empty workspace goes
// entirely; -force deletes a non-empty or unreadable one and names the
// hosts it leaves behind.
func TestDeleteWorkspace(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	e := &Env{DataDir: filepath.Join(root, "data")}
	full := makeWorkspace(t, e, "full", "server[0]", "server[1]")
	empty := makeWorkspace(t, e, "empty")
	outside := filepath.Join(root, "precious")
	if err := os.MkdirAll(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, state.StateFile), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.DataDir, "logs", "pkg"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)

	_, err := e.Delete(ctx, "full", false)
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "2 host(s) and 2 step instance(s)") ||
		!strings.Contains(err.Error(), "diffuser destroy glusterfs -workspace full") || !strings.Contains(err.Error(), "-force") {
		t.Errorf("deleting a workspace with hosts: %v", err)
	}
	for _, name := range []string{"", ".", "..", "../precious", "/etc", "a/b", "logs", "nosuch"} {
		if _, err := e.Delete(ctx, name, true); err == nil {
			t.Errorf("Delete(%q) succeeded", name)
		}
	}
	if _, err := e.Delete(ctx, "nosuch", false); err == nil || !strings.Contains(err.Error(), "workspaces: empty, full") {
		t.Errorf("unknown workspace: %v", err)
	}
	unlock, err := state.Open(empty).Lock(ctx, state.CurrentHolder("apply"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Delete(ctx, "empty", true); err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), `"apply"`) {
		t.Errorf("deleting a locked workspace: %v", err)
	}
	_ = unlock()
	after := snapshot(t, root)
	for p, b := range before {
		if p == filepath.Join(empty, state.LockFile) {
			continue // the holder's lock file, emptied when it let go
		}
		if after[p] != b {
			t.Errorf("%s changed by a refused delete", p)
		}
	}

	del, err := e.Delete(ctx, "empty", false)
	if err != nil || del.Dir != empty || len(del.Abandoned) != 0 {
		t.Fatalf("deleting an empty workspace: %+v %v", del, err)
	}
	if _, err := os.Lstat(empty); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", empty, err)
	}
	del, err = e.Delete(ctx, "full", true)
	if err != nil || !reflect.DeepEqual(del.Abandoned, []string{"server[0]", "server[1]"}) || del.Cluster != "full-abc123" || del.Provider != "sim" {
		t.Fatalf("deleting with -force: %+v %v", del, err)
	}
	if _, err := os.Lstat(full); !os.IsNotExist(err) {
		t.Errorf("%s is still there", full)
	}
	if _, err := os.Stat(filepath.Join(e.DataDir, "logs", "pkg")); err != nil {
		t.Errorf("the data directory's logs went too: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, state.StateFile)); err != nil {
		t.Errorf("outside the data directory: %v", err)
	}

	broken := filepath.Join(e.DataDir, "broken")
	if err := os.MkdirAll(broken, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, state.StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Delete(ctx, "broken", false); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("deleting unreadable state without -force: %v", err)
	}
	if _, err := e.Delete(ctx, "broken", true); err != nil {
		t.Errorf("deleting unreadable state with -force: %v", err)
	}
}
