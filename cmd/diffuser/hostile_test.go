package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadWorkspaceNames gives workspace names that would put state, key
// and lock outside the data directory (or be read as an option) to every
// command that takes one: each is refused naming the value, exit 1, and
// nothing is written anywhere under the temporary directory.
func TestBadWorkspaceNames(t *testing.T) {
	recipe := filepath.Join(badDir, "ok.hcl")
	names := []string{"../../x", "../escape", "/tmp/abs", "a/b", "..", ".", ".hidden", "-rf", "a\nb", "a b", "$(id)", strings.Repeat("w", 101)}
	for _, name := range names {
		for _, args := range [][]string{
			{"plan", "--provider", "static", "--site", badStaticSite, "--workspace", name, recipe},
			{"apply", "-auto-approve", "--provider", "static", "--site", badStaticSite, "-workspace=" + name, recipe},
			{"state", "list", "--", name},
			{"state", "rm", "--", name, "server[0]"},
			{"state", "unlock", "--", name},
			{"ssh", name, "server[0]"},
			{"runs", "--", name},
			{"workspace", "delete", "--", name},
		} {
			if args[0] == "ssh" && name[0] == '-' {
				continue // ssh reads what follows "--" as the remote command
			}
			t.Run(args[0]+"/"+name, func(t *testing.T) {
				root := t.TempDir()
				data := filepath.Join(root, "a", "b", ".diffuser")
				if err := os.MkdirAll(data, 0o700); err != nil {
					t.Fatal(err)
				}
				res := badRun(t, append([]string{"--data-dir", data}, args...)...)
				if res.code == exitOK {
					t.Fatalf("accepted: %s%s", res.stdout, res.stderr)
				}
				if !strings.Contains(res.stderr, "is not a workspace name") {
					t.Errorf("stderr does not say the name is wrong:\n%s", res.stderr)
				}
				var made []string
				_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
					if err == nil && p != root && !strings.HasPrefix(data, p) {
						made = append(made, p)
					}
					return nil
				})
				if len(made) > 0 {
					t.Errorf("written: %v", made)
				}
			})
		}
	}
}
