package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diffuser/workspace"
)

const testStateKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// filesUnder reads every file under dir (path -> content).
func filesUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// TestEncryptedStateCLI: with DIFFUSER_STATE_KEY set, apply, plan -out,
// apply PLANFILE, output and destroy work as without it, and no secret
// (nor any state in clear) is on disk: state, backup, journal, saved plan.
// Without the key, or with another, every command that reads the state is
// refused naming the variable, and nothing on disk changes.
func TestEncryptedStateCLI(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "cat /etc/cluster.key"):
			return 0, 0, secretKey + "\n"
		case strings.Contains(cmd, "stat -L"), strings.HasPrefix(cmd, "if [ -L "):
			return 0, 0, "absent\n"
		}
		return 0, 0, ""
	})
	e.env = map[string]string{workspace.StateKeyEnv: testStateKey}
	recipe := e.write("secrets/main.hcl", secretsRecipe)
	vars := e.write("secret.tfvars", `password = "`+secretPassword+`"`+"\n")
	base := []string{"-provider", "sim", "-var-file", vars}
	e.must(append([]string{"apply", recipe, "-auto-approve", "--progress", "quiet"}, base...)...)
	e.must(append([]string{"apply", recipe, "-auto-approve", "--progress", "quiet", "-var", "nodes=3"}, base...)...) // a backup
	planFile := filepath.Join(e.dir, "enc.plan")
	e.must("plan", recipe, "-provider", "sim", "-refresh=false", "-var", "nodes=2", "-var", "password="+secretPassword, "-out", planFile)

	ws := filepath.Join(e.data, "secrets")
	onDisk := filesUnder(t, ws)
	onDisk[planFile] = readFile(t, planFile)
	for _, f := range []string{filepath.Join(ws, "state.json"), filepath.Join(ws, "state.json.backup"), planFile} {
		b, ok := onDisk[f]
		if !ok {
			t.Fatalf("no %s", f)
		}
		if !strings.HasPrefix(b, `{"diffuser_encrypted":1,`) {
			t.Errorf("%s is not encrypted:\n%.300s", f, b)
		}
	}
	for f, b := range onDisk {
		for _, s := range []string{secretPassword, secretKey} {
			if strings.Contains(b, s) {
				t.Errorf("%s holds the secret %s", f, s)
			}
		}
	}
	if out := e.must("output", "secrets", "key", "--show-sensitive"); strings.TrimSpace(out) != secretKey {
		t.Errorf("output through the key: %q", out)
	}

	// Without the key, with another, with a bad one: refused, nothing changed.
	before := filesUnder(t, e.data)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "DIFFUSER_STATE_KEY"},
		{map[string]string{workspace.StateKeyEnv: strings.Repeat("ab", 32)}, "encrypted with another key"},
		{map[string]string{workspace.StateKeyEnv: "short"}, "openssl rand -hex 32"},
		{map[string]string{workspace.StateKeyEnv: testStateKey, workspace.StateKeyFileEnv: "/nonexistent"}, "set one"},
	} {
		e.env = c.env
		for _, args := range [][]string{
			{"state", "list", "secrets"},
			{"output", "secrets"},
			append([]string{"plan", recipe}, base...),
			append([]string{"apply", recipe, "-auto-approve"}, base...),
			append([]string{"destroy", recipe, "-auto-approve"}, base...),
			{"apply", planFile, "-var", "password=" + secretPassword},
		} {
			code, out, errs := e.run(args...)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Errorf("%v %q: exit %d, want a failure saying %q:\n%s%s", c.env, args, code, c.want, out, errs)
			}
			if strings.Contains(out+errs, "will be created") {
				t.Errorf("%q planned from an empty state:\n%s", args, out)
			}
		}
	}
	after := filesUnder(t, e.data)
	for p := range after {
		if strings.Contains(p, string(filepath.Separator)+"runs"+string(filepath.Separator)) {
			delete(after, p) // refused commands may leave a run record; state must not move
			delete(before, p)
		}
	}
	if !reflect.DeepEqual(before, after) {
		t.Error("a refused command changed files under the data dir")
	}

	// A key file works as the variable does; one others can read is refused.
	keyFile := e.write("state.key", testStateKey+"\n")
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	e.env = map[string]string{workspace.StateKeyFileEnv: keyFile}
	if code, _, errs := e.run("state", "list", "secrets"); code == 0 || !strings.Contains(errs, "chmod 600") {
		t.Errorf("a key file readable by others: exit %d\n%s", code, errs)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	e.must("apply", planFile, "-var", "password="+secretPassword)
	e.must(append([]string{"destroy", recipe, "-auto-approve", "--progress", "quiet"}, base...)...)
}

// TestEncryptedStateKilledApplyResumes: an apply with encrypted state is
// killed mid-run; its journal is sealed line by line, a diffuser without
// the key refuses the workspace, and the next apply with the key replays
// the journal and finishes.
func TestEncryptedStateKilledApplyResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a second process")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	recipe, _, kill := slowApply(t, dir, data, workspace.StateKeyEnv+"="+testStateKey)
	kill()

	jp := filepath.Join(data, "hist", "state.journal")
	j, err := os.ReadFile(jp)
	if err != nil {
		t.Fatalf("the killed apply left no journal: %v", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(j, []byte("\n")), []byte("\n"))
	if len(lines) < 2 {
		t.Fatalf("the journal has %d lines, want a header and the launches", len(lines))
	}
	for i, l := range lines {
		if !bytes.HasPrefix(l, []byte(`{"diffuser_encrypted":1,`)) {
			t.Errorf("journal line %d is in clear: %s", i+1, l)
		}
	}

	e := newSimCLI(t, nil)
	e.data = data
	if code, _, errs := e.run("apply", recipe, "--simulate", "-auto-approve", "--progress", "quiet"); code == 0 || !strings.Contains(errs, "DIFFUSER_STATE_KEY") {
		t.Errorf("apply without the key after the kill: exit %d\n%s", code, errs)
	}
	e.env = map[string]string{workspace.StateKeyEnv: testStateKey}
	out := e.must("apply", recipe, "--simulate", "-auto-approve", "--progress", "plain")
	if strings.Contains(out, "launch") && strings.Contains(out, "will be created") && strings.Contains(out, `launch["node[0]"]`) {
		t.Errorf("the resumed apply launched again what the journal recorded:\n%s", out)
	}
	if out := e.must("state", "list", "hist"); !strings.Contains(out, `step.hello["node[0]"]`) {
		t.Errorf("state after the resumed apply:\n%s", out)
	}
}
