package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// treeBytes is every file and link under root: path -> content (a link's
// target for a link, the type of anything else), to compare a directory
// before and after a command.
func treeBytes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type()&fs.ModeSymlink != 0 {
			to, err := os.Readlink(p)
			out[rel] = "link to " + to
			return err
		}
		if !d.Type().IsRegular() {
			out[rel] = d.Type().String() // a pipe is not opened: that would block
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diff []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			diff = append(diff, p+" removed")
		} else if !bytes.Equal([]byte(a), []byte(b)) {
			diff = append(diff, p+" changed")
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok && !(filepath.Base(p) == "state.lock" && a == "") { // taking the lock makes its empty file

			diff = append(diff, p+" added")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%s: files changed: %v", what, diff)
	}
}

// TestStateFilesFromElsewhere: a workspace whose state.json was copied
// from another workspace, or is a symbolic link, or whose directory was
// renamed. The copy used to be taken as this workspace's: plan said "No
// changes" with the other's remembered inputs and destroy would have
// removed the other workspace's machines; the link used to be replaced by
// the first save, leaving the file it pointed to stale without a word.
// Now every command that reads state refuses, naming the file and what to
// do, and nothing under the data directory (or the link's target) changes.
func TestStateFilesFromElsewhere(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	commands := [][]string{
		{"plan", "--simulate", "--workspace", "w", recipe},
		{"apply", "--simulate", "-auto-approve", "--workspace", "w", recipe},
		{"destroy", "--simulate", "-auto-approve", "--workspace", "w", recipe},
		{"state", "list", "w"},
		{"state", "rm", "w", "server[0]"},
		{"state", "mv", "w", "server[0]", "server[1]"},
		{"output", "w"},
		{"vars", "w"},
	}
	foreign := "records cluster other-"
	for _, tc := range []struct {
		name string
		// setup arranges workspace w of data (other already applied);
		// it returns a directory outside data that must not change either.
		setup func(t *testing.T, data string) string
		want  string
	}{
		{"copied from another workspace", func(t *testing.T, data string) string {
			copyFile(t, filepath.Join(data, "other", "state.json"), filepath.Join(data, "w", "state.json"))
			return ""
		}, foreign},
		{"copied over this workspace's own", func(t *testing.T, data string) string {
			badApply(t, data, "w", recipe)
			copyFile(t, filepath.Join(data, "other", "state.json"), filepath.Join(data, "w", "state.json"))
			return ""
		}, foreign},
		{"directory renamed", func(t *testing.T, data string) string {
			if err := os.Rename(filepath.Join(data, "other"), filepath.Join(data, "w")); err != nil {
				t.Fatal(err)
			}
			return ""
		}, "if this workspace's directory was renamed, give it back its old name"},
		{"symbolic link to a state elsewhere", func(t *testing.T, data string) string {
			badApply(t, data, "w", recipe)
			away := t.TempDir()
			if err := os.Rename(filepath.Join(data, "w", "state.json"), filepath.Join(away, "state.json")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(away, "state.json"), filepath.Join(data, "w", "state.json")); err != nil {
				t.Fatal(err)
			}
			return away
		}, "state.json is a symbolic link (to "},
		{"dangling symbolic link", func(t *testing.T, data string) string {
			if err := os.MkdirAll(filepath.Join(data, "w"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/nonexistent/state.json", filepath.Join(data, "w", "state.json")); err != nil {
				t.Fatal(err)
			}
			return ""
		}, "state.json is a symbolic link (to /nonexistent/state.json)"},
		{"journal a symbolic link", func(t *testing.T, data string) string {
			badApply(t, data, "w", recipe)
			if err := os.Symlink(filepath.Join(data, "other", "state.json"), filepath.Join(data, "w", "state.journal")); err != nil {
				t.Fatal(err)
			}
			return ""
		}, "state.journal is a symbolic link (to "},
	} {
		for _, args := range commands {
			t.Run(tc.name+"/"+strings.Join(args[:2], " "), func(t *testing.T) {
				data := filepath.Join(t.TempDir(), "data")
				badApply(t, data, "other", recipe)
				away := tc.setup(t, data)
				before := treeBytes(t, data)
				var awayBefore map[string]string
				if away != "" {
					awayBefore = treeBytes(t, away)
				}
				res := badRun(t, append([]string{"--data-dir", data}, args...)...)
				checkFailed(t, res)
				if !strings.Contains(res.stderr, tc.want) {
					t.Errorf("stderr lacks %q:\n%s", tc.want, res.stderr)
				}
				if strings.Contains(res.stderr, "-remembered=false") {
					t.Errorf("stderr suggests -remembered=false, which fails the same way:\n%s", res.stderr)
				}
				sameTree(t, "data dir", before, treeBytes(t, data))
				if away != "" {
					sameTree(t, "link target", awayBefore, treeBytes(t, away))
				}
			})
		}
	}
	// The workspace the state came from is untouched by all of it and
	// still works.
	data := filepath.Join(t.TempDir(), "data")
	badApply(t, data, "other", recipe)
	copyFile(t, filepath.Join(data, "other", "state.json"), filepath.Join(data, "w", "state.json"))
	if res := badRun(t, "--data-dir", data, "plan", "--simulate", "--workspace", "other", recipe); res.code != exitOK ||
		!strings.Contains(res.stdout, "No changes") {
		t.Errorf("plan of the original workspace: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res := badRun(t, "--data-dir", data, "workspace", "list")
	if !strings.Contains(res.stdout+res.stderr, foreign) {
		t.Errorf("workspace list does not say w holds another's state:\n%s%s", res.stdout, res.stderr)
	}
}

// badApply applies recipe on simulated hosts in workspace ws of data.
func badApply(t *testing.T, data, ws, recipe string) {
	t.Helper()
	res := badRun(t, "--data-dir", data, "apply", "--simulate", "-auto-approve", "--progress", "quiet", "--workspace", ws, "--var", "servers=2", recipe)
	if res.code != exitOK {
		t.Fatalf("apply %s: exit %d\n%s%s", ws, res.code, res.stdout, res.stderr)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSpecialKeyAndMarkerRefusedAtOnce: a named pipe or a directory at the
// workspace's SSH key (id_ed25519) or its backend marker (backend) used to
// block the command forever (reading a pipe waits for a writer, past
// Ctrl-C). Now apply refuses at once naming the file and what it is, and
// the data directory is left as it was.
func TestSpecialKeyAndMarkerRefusedAtOnce(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	for _, file := range []string{"id_ed25519", "backend"} {
		for kind, mk := range map[string]func(p string) error{
			"a named pipe": func(p string) error { return syscall.Mkfifo(p, 0o600) },
			"a directory":  func(p string) error { return os.Mkdir(p, 0o700) },
		} {
			t.Run(file+"/"+kind, func(t *testing.T) {
				data := filepath.Join(t.TempDir(), "data")
				badApply(t, data, "w", recipe)
				p := filepath.Join(data, "w", file)
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
				if err := mk(p); err != nil {
					t.Fatal(err)
				}
				before := treeBytes(t, data)
				done := make(chan badResult, 1)
				go func() {
					done <- badRun(t, "--data-dir", data, "apply", "--simulate", "-auto-approve", "--workspace", "w", "--var", "servers=3", recipe)
				}()
				select {
				case res := <-done:
					checkFailed(t, res)
					if want := p + " is " + kind + ", not a regular file"; !strings.Contains(res.stderr, want) {
						t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("still blocked after 20s")
				}
				sameTree(t, "data dir", before, treeBytes(t, data))
			})
		}
	}
}

// TestUnknownStateFieldsReadOnly: a state.json with a field this diffuser
// does not know (a newer diffuser's, or a hand-edited typo) used to lose
// it on the next save. Commands that read state still work; those that
// write it refuse, naming the file and the field, and change nothing.
func TestUnknownStateFieldsReadOnly(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	data := filepath.Join(t.TempDir(), "data")
	badApply(t, data, "w", recipe)
	sp := filepath.Join(data, "w", "state.json")
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"serial":`, `"colour": "blue", "serial":`, 1)
	if err := os.WriteFile(sp, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"plan", "--simulate", "--workspace", "w", recipe},
		{"state", "list", "w"},
		{"output", "w"},
	} {
		if res := badRun(t, append([]string{"--data-dir", data}, args...)...); res.code != exitOK {
			t.Errorf("%v: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
		}
	}
	before := treeBytes(t, data)
	for _, args := range [][]string{
		{"apply", "--simulate", "-auto-approve", "--workspace", "w", "--var", "servers=3", recipe},
		{"destroy", "--simulate", "-auto-approve", "--workspace", "w", recipe},
		{"state", "rm", "w", "server[0]"},
	} {
		res := badRun(t, append([]string{"--data-dir", data}, args...)...)
		checkFailed(t, res)
		if want := sp + " has fields this diffuser does not know: colour;"; !strings.Contains(res.stderr, want) {
			t.Errorf("%v: stderr lacks %q:\n%s", args, want, res.stderr)
		}
	}
	sameTree(t, "data dir", before, treeBytes(t, data))
}
