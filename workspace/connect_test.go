package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diffuser/remote"
	"diffuser/remote/sshdtest"
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

// TestLoginRefusedNamesKeys: a static host that refuses every key offered
// (the workspace key nobody authorized yet) fails saying which keys were
// offered and how to make one work, not only "unable to authenticate";
// with key_file naming a key it accepts, the same host connects.
func TestLoginRefusedNamesKeys(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	env := sshdtest.NewEnv(t)
	srv := env.NewServer(t, sshdtest.Options{})
	wsKey := keyPair(t, "id_ed25519")
	c := NewSSHConnector(wsKey)
	defer c.Close()
	h := state.Host{Name: "client[0]", Provider: "static", ProviderID: "static:x",
		SSH: state.SSH{Address: "127.0.0.1", Port: srv.Port, User: env.User}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Runner(ctx, h, nil)
	if err == nil {
		t.Fatal("a key the server does not list was accepted")
	}
	for _, want := range []string{"unable to authenticate", "(offered: " + wsKey + ")",
		fmt.Sprintf("ssh-copy-id -i %s.pub %s@127.0.0.1", wsKey, env.User), "set key_file in the site file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refused login: %v\nwant it to say %q", err, want)
		}
	}
	h.ProviderID, h.Attrs = "static:y", map[string]string{"ssh_key_file": env.KeyPath}
	if _, err := c.Runner(ctx, h, nil); err != nil {
		t.Fatalf("with key_file the server accepts: %v", err)
	}
}

// TestStaticHostNotWaitedForAsBooting: a static machine exists already, so
// a connect to it is retried for StaticRetryFor, not the 3 minutes a host
// diffuser launched gets while it boots (an address that did not answer
// failed an apply only after 3 silent minutes); jump hops alike. A real
// connect to a closed port gives up within the (shortened) window.
func TestStaticHostNotWaitedForAsBooting(t *testing.T) {
	c := NewSSHConnector(keyPair(t, "id_ed25519"))
	defer c.Close()
	h := state.Host{Name: "web[0]", Provider: "static", ProviderID: "static:root@127.0.0.1:1",
		SSH: state.SSH{Address: "127.0.0.1", Port: 1, User: "root", Jump: &state.SSH{Address: "bastion", Port: 22, User: "ops"}}}
	if cfg := c.config(h, nil); cfg.RetryFor != StaticRetryFor || cfg.Jump == nil || cfg.Jump.RetryFor != StaticRetryFor {
		t.Errorf("static host retries for %v (jump %v), want %v", cfg.RetryFor, cfg.Jump, StaticRetryFor)
	}
	for _, p := range []string{"docker", "aws.east", ""} {
		d := h
		d.Provider = p
		if got := c.config(d, nil).RetryFor; got != 3*time.Minute {
			t.Errorf("provider %q: retries for %v, want 3m while a launched host boots", p, got)
		}
	}
	c.staticRetryFor = 2 * time.Second
	h.SSH.Jump = nil
	start := time.Now()
	_, err := c.Runner(context.Background(), h, nil)
	if took := time.Since(start); err == nil || took > 10*time.Second || !strings.Contains(err.Error(), "gave up after") ||
		!strings.Contains(err.Error(), "check that 127.0.0.1 answers SSH from here (ssh -p 1 root@127.0.0.1)") {
		t.Errorf("connect to a closed port of a static host: %v after %v, want a failure after about 2s", err, took)
	}
}

// TestAuthHintQuotesKeyPath: the ssh-copy-id line a refused login
// suggests is pasted into a shell: a key path with a space (a key_file,
// or a --data-dir) is quoted, or the line would name two files.
func TestAuthHintQuotesKeyPath(t *testing.T) {
	key := "/home/me/My Clusters/.diffuser/w/id_ed25519"
	err := authHint(errors.New("ssh: unable to authenticate, attempted methods [none publickey]"),
		state.Host{Name: "client[0]", Provider: "static"}, remote.Config{KeyFiles: []string{key}, User: "root", Address: "10.0.0.1"})
	if want := "(ssh-copy-id -i '" + key + ".pub' root@10.0.0.1)"; !strings.Contains(err.Error(), want) {
		t.Errorf("%v\nwant it to say %s", err, want)
	}
}
