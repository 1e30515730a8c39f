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

// TestSSHHostileUserInState: diffuser ssh on a host whose state records
// a user that ssh would read as an option (the hole of issue 14: a
// command ran on the operator's machine) refuses with the state file and
// the JSON location; ssh never starts, so nothing runs.
func TestSSHHostileUserInState(t *testing.T) {
	data := filepath.Join(t.TempDir(), ".diffuser")
	ws := filepath.Join(data, "w")
	if err := os.MkdirAll(ws, 0o700); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	st := `{"version": 1, "serial": 3, "lineage": "5f0c8a1e-3b7d-4c2e-9a61-0d4b8e2f7c10", "recipe": "badinput",
  "hosts": {"server[0]": {"name": "server[0]", "group": "server", "provider": "static", "provider_id": "10.0.0.1:22",
    "private_ip": "10.0.0.1", "ssh": {"address": "10.0.0.1", "port": 22, "user": "-oProxyCommand=touch ` + marker + `",
    "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}}},
  "instances": {}}`
	sp := filepath.Join(ws, "state.json")
	if err := os.WriteFile(sp, []byte(st), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"ssh", "w", "server[0]"}, {"ssh", "w", "server[0]", "--", "true"}, {"ssh", "--print", "w", "server[0]"}} {
		res := badRun(t, append([]string{"--data-dir", data}, args...)...)
		if res.code == exitOK {
			t.Fatalf("%v accepted: %s", args, res.stdout)
		}
		for _, want := range []string{sp, `hosts["server[0]"].ssh.user`, "is not a user name"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, want, res.stderr)
			}
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%v ran the user's ProxyCommand", args)
		}
	}
	if ents, _ := os.ReadDir(ws); len(ents) != 1 {
		t.Errorf("the workspace holds %d files, want state.json only", len(ents))
	}
}
