package workspace

import (
	"path/filepath"
	"reflect"
	"testing"

	"diffuser/remote"
	"diffuser/state"
)

// keyPair writes a usable private key and returns its path.
func keyPair(t *testing.T, name string) string {
	t.Helper()
	p, _, err := remote.GenerateKey(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConnectorConfigKeysAndJumps(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	ws := keyPair(t, "workspace")
	cfgKey := keyPair(t, "config")
	missing := filepath.Join(t.TempDir(), "id_missing")
	c := NewSSHConnector(ws)
	h := state.Host{Name: "server[0]", SSH: state.SSH{Address: "192.0.2.11", Port: 2201, User: "alice",
		IdentityFiles: []string{missing, cfgKey},
		Jump: &state.SSH{Address: "192.0.2.40", Port: 22, User: "jump", IdentityFiles: []string{cfgKey},
			Jump: &state.SSH{Address: "192.0.2.41", Port: 2022, User: "outer"}}}}

	cfg := c.config(h, nil)
	if want := []string{cfgKey, ws}; !reflect.DeepEqual(cfg.KeyFiles, want) {
		t.Errorf("keys = %q, want the usable IdentityFile then the workspace key %q", cfg.KeyFiles, want)
	}
	if !cfg.Sudo || cfg.Address != "192.0.2.11" || cfg.Port != 2201 || cfg.User != "alice" {
		t.Errorf("target: %+v", cfg)
	}
	j := cfg.Jump
	if j == nil || j.Address != "192.0.2.40" || j.User != "jump" || j.Name != "jump 192.0.2.40" || !reflect.DeepEqual(j.KeyFiles, []string{cfgKey, ws}) {
		t.Fatalf("hop next to the target: %+v", j)
	}
	if o := j.Jump; o == nil || o.Address != "192.0.2.41" || o.Port != 2022 || o.User != "outer" || o.Name != "jump 192.0.2.41:2022" ||
		!reflect.DeepEqual(o.KeyFiles, []string{ws}) || o.Jump != nil {
		t.Fatalf("hop dialed first: %+v", o)
	}

	// The site's key_file comes first and replaces the workspace key.
	h.Attrs = map[string]string{"ssh_key_file": "/keys/site"}
	if got := c.config(h, nil).KeyFiles; !reflect.DeepEqual(got, []string{"/keys/site", cfgKey}) {
		t.Errorf("with key_file: %q", got)
	}

	// A host recorded before jump chains: one hop parsed from the attribute,
	// its user defaulting to the target's.
	old := state.Host{Name: "client[0]", SSH: state.SSH{Address: "10.0.0.5", Port: 22, User: "root"},
		Attrs: map[string]string{"ssh_jump": "bastion:2200"}}
	oj := c.config(old, nil).Jump
	if oj == nil || oj.Address != "bastion" || oj.Port != 2200 || oj.User != "root" || oj.Jump != nil {
		t.Errorf("legacy jump: %+v", oj)
	}
}
