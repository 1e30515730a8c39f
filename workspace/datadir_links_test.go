package workspace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/workspace"
)

// TestDataDirLinksRefused: a symbolic link planted in the data directory
// (a checked-out .diffuser/NAME -> ~/.ssh, or runs/ or the backend marker
// pointing elsewhere) is refused, naming it and what to do, before
// anything is written: the workspace's state, SSH key, known_hosts,
// marker and runs went through it to wherever it pointed (the user's own
// key was taken as the workspace's, a file the marker pointed at was
// overwritten).
func TestDataDirLinksRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, data, victim string) string // returns the link
	}{
		{"workspace", func(t *testing.T, data, victim string) string {
			return link(t, victim, filepath.Join(data, "gl"))
		}},
		{"runs", func(t *testing.T, data, victim string) string {
			return link(t, victim, filepath.Join(data, "gl", "runs"))
		}},
		{"marker", func(t *testing.T, data, victim string) string {
			return link(t, filepath.Join(victim, "known_hosts"), filepath.Join(data, "gl", "backend"))
		}},
		{"key", func(t *testing.T, data, victim string) string {
			return link(t, filepath.Join(victim, "id_ed25519"), filepath.Join(data, "gl", "id_ed25519"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(dir, "home-ssh")
			files := map[string]string{"known_hosts": "the user's known hosts\n", "id_ed25519": "the user's key\n"}
			if err := os.MkdirAll(victim, 0o700); err != nil {
				t.Fatal(err)
			}
			for n, c := range files {
				if err := os.WriteFile(filepath.Join(victim, n), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := &workspace.Env{DataDir: filepath.Join(dir, "data"), Sim: workspace.SimOptions{Enabled: true}}
			s := &sysEnv{env: env}
			planted := tc.plant(t, env.DataDir, victim)

			in := workspace.Inputs{Recipe: "glusterfs", Workspace: "gl"}
			for _, command := range []string{"plan", "apply"} {
				pl, err := s.planOf(in, command)
				if err == nil {
					pl.Close()
					t.Errorf("%s with %s planted: no error", command, planted)
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, planted+" is a symbolic link") || !strings.Contains(msg, "remove the link") {
					t.Errorf("%s: %v; want the link named and what to do", command, err)
				}
			}
			ents, err := os.ReadDir(victim)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != len(files) {
				t.Errorf("files were written where the link points: %v", ents)
			}
			for n, c := range files {
				if b, err := os.ReadFile(filepath.Join(victim, n)); err != nil || string(b) != c {
					t.Errorf("%s was changed through the link: %q, %v", n, b, err)
				}
			}
			if fi, err := os.Lstat(planted); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the planted link is gone: %v", err)
			}
		})
	}
}

// link makes a symbolic link at at to to, making at's directory.
func link(t *testing.T, to, at string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(at), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(to, at); err != nil {
		t.Fatal(err)
	}
	return at
}
