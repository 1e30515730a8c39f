package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"diffuser/state"
)

// Hostile key settings and saved-plan secrets: each refused with a message
// naming the variable or file and what to do, never showing a value.
func TestStateKeyAndPlanSecretsHostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const hexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	fifo := filepath.Join(dir, "key.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"key too short", map[string]string{StateKeyEnv: "hunter2"}, "DIFFUSER_STATE_KEY: the state key is neither"},
		{"hex of 31 bytes", map[string]string{StateKeyEnv: hexKey[:62]}, "62 hex digits, not 64"},
		{"both set", map[string]string{StateKeyEnv: hexKey, StateKeyFileEnv: "/x"}, "set one"},
		{"key file missing", map[string]string{StateKeyFileEnv: filepath.Join(dir, "nope")}, "DIFFUSER_STATE_KEY_FILE: stat"},
		{"key file empty", map[string]string{StateKeyFileEnv: write("empty", "\n\n", 0o600)}, "is empty"},
		{"key file readable by all", map[string]string{StateKeyFileEnv: write("open", hexKey, 0o644)}, "chmod 600"},
		// Not a file at all: the advice was chmod 600 (of /tmp, of
		// /dev/null) or rm (of a shell's <(...) pipe, /dev/fd/63).
		{"key file a directory", map[string]string{StateKeyFileEnv: dir}, "DIFFUSER_STATE_KEY_FILE: " + dir + " is a directory, not a file holding the key: point DIFFUSER_STATE_KEY_FILE at one (mode 0600), or give the key itself in DIFFUSER_STATE_KEY"},
		{"key file /tmp", map[string]string{StateKeyFileEnv: os.TempDir()}, "is a directory, not a file holding the key"},
		{"key file /dev/null", map[string]string{StateKeyFileEnv: os.DevNull}, "DIFFUSER_STATE_KEY_FILE: /dev/null is a character device, not a file holding the key"},
		{"key file with a short passphrase", map[string]string{StateKeyFileEnv: write("short", "hunter2\n", 0o600)}, "DIFFUSER_STATE_KEY_FILE ("},
		// A named pipe blocked every command until something wrote to it.
		{"key file a named pipe", map[string]string{StateKeyFileEnv: fifo}, "is a named pipe, not a file holding the key: point DIFFUSER_STATE_KEY_FILE at one (mode 0600), or give the key itself in DIFFUSER_STATE_KEY (DIFFUSER_STATE_KEY=\"$(COMMAND)\" for a key a command prints)"},
		{"key file past the bound", map[string]string{StateKeyFileEnv: write("huge", strings.Repeat("k", maxKeyFile+1), 0o600)}, "more than the 65536"},
	} {
		k, err := StateKeyFromEnv(func(n string) string { return c.env[n] })
		if err == nil || k != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "rm ") || strings.Contains(err.Error(), "chmod") && c.name != "key file readable by all") {
			t.Errorf("%s: the error advises removing or changing what the variable names: %v", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the key: %v", c.name, err)
		}
	}
	if k, err := StateKeyFromEnv(func(string) string { return "" }); k != nil || err != nil {
		t.Errorf("no variables: %v %v, want no key", k, err)
	}

	// A saved plan's sensitive -var values.
	_, secrets, err := splitSecrets([]string{"pw=first", "n=3", "pw=PLAN-SECRET-5"}, func(n string) bool { return n == "pw" })
	if err != nil || len(secrets) != 1 {
		t.Fatalf("split: %v %v", secrets, err)
	}
	for _, c := range []struct {
		name string
		vars []string
		want string
	}{
		{"no value given", nil, "apply PLANFILE -var pw=VALUE"},
		{"the earlier value (the last -var won)", []string{"pw=first"}, "not the value the plan was made with"},
		{"no equals sign", []string{"PLAN-SECRET-5"}, "must be NAME=VALUE"},
		{"another variable", []string{"n=4", "pw=PLAN-SECRET-5"}, "inputs are fixed"},
		{"empty name", []string{"=PLAN-SECRET-5"}, "must be NAME=VALUE"},
	} {
		sp := &SavedPlan{Secrets: secrets}
		err := sp.GiveSecrets(c.vars)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		} else if strings.Contains(err.Error(), "PLAN-SECRET-5") || strings.Contains(err.Error(), "first") {
			t.Errorf("%s: the error shows a value: %v", c.name, err)
		}
	}
	sp := &SavedPlan{Secrets: secrets}
	if err := sp.GiveSecrets([]string{"pw=PLAN-SECRET-5"}); err != nil || len(sp.Vars) != 1 || sp.Vars[0] != "pw=PLAN-SECRET-5" {
		t.Errorf("the right value: %v %v", err, sp.Vars)
	}

	// A plan file sealed with one key, read with another or none.
	k1, _ := state.ParseKey(hexKey)
	k2, _ := state.ParseKey(strings.Repeat("ab", 32))
	pf := write("p.plan", string(k1.Seal([]byte(`{"format":"diffuser-plan","version":1,"actions":{}}`), purposePlan))+"\n", 0o600)
	if !IsPlanFile(pf) {
		t.Error("an encrypted plan file is not recognized as one")
	}
	for _, k := range []*state.Key{nil, k2} {
		if _, err := (&Env{StateKey: k}).ReadPlanFile(pf); err == nil || !strings.Contains(err.Error(), "DIFFUSER_STATE_KEY") {
			t.Errorf("plan file with key %v: %v", k, err)
		}
	}
	if _, err := (&Env{StateKey: k1}).ReadPlanFile(pf); err != nil {
		t.Errorf("plan file with its key: %v", err)
	}
	// A sealed state file renamed to look like a plan: another purpose.
	sf := write("state-as.plan", string(k1.Seal([]byte(`{"format":"diffuser-plan","version":1,"actions":{}}`), "diffuser state"))+"\n", 0o600)
	if _, err := (&Env{StateKey: k1}).ReadPlanFile(sf); err == nil || !strings.Contains(err.Error(), "altered or damaged") {
		t.Errorf("a sealed state as a plan: %v", err)
	}
}

// TestPlanFileNotReadWhole: a saved plan past the size a state may have
// is refused before it is read (a 2 GiB file named x.plan was read whole
// into memory); a named pipe given to ReadPlanFile is refused at once.
func TestPlanFileNotReadWhole(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.plan")
	if err := os.WriteFile(big, []byte(`{"format": "`+planFormat+`"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, state.MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Env{}).ReadPlanFile(big); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("plan file past the bound: %v", err)
	}
	pipe := filepath.Join(dir, "p.plan")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Env{}).ReadPlanFile(pipe); err == nil || !strings.Contains(err.Error(), "is a named pipe") {
		t.Errorf("plan file a pipe: %v", err)
	}
}
