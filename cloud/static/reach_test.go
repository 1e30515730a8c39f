package static

import (
	"context"
	"os"
	osuser "os/user"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"diffuser/cloud"

	"github.com/zclconf/go-cty/cty"
)

// settings builds the static provider's settings object as the site file
// decoder would: attributes left out are null (unset).
func settings(t *testing.T, attrs map[string]cty.Value) cty.Value {
	t.Helper()
	full := map[string]cty.Value{}
	for name := range (Factory{}).Spec() {
		full[name] = cty.NullVal(cty.DynamicPseudoType)
	}
	for k, v := range attrs {
		if _, ok := full[k]; !ok {
			t.Fatalf("no setting %q", k)
		}
		full[k] = v
	}
	return cty.ObjectVal(full)
}

func strs(vs ...string) cty.Value {
	out := make([]cty.Value, len(vs))
	for i, v := range vs {
		out[i] = cty.StringVal(v)
	}
	return cty.ListVal(out)
}

func launch(t *testing.T, attrs map[string]cty.Value) (cloud.Host, error) {
	t.Helper()
	return Provider{}.Launch(context.Background(), cloud.HostSpec{Group: "server", Index: 0, Name: "server[0]", Settings: settings(t, attrs)})
}

// withConfig is attrs with ssh_config pointing at testdata/name.
func withConfig(name string, attrs map[string]cty.Value) map[string]cty.Value {
	out := map[string]cty.Value{"ssh_config": cty.StringVal(filepath.Join("testdata", name))}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

func home(t *testing.T) string {
	t.Helper()
	h, err := userHome()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestResolveFromSSHConfig(t *testing.T) {
	h := home(t)
	cfgPath, _ := filepath.Abs("testdata/ssh_config")
	cases := []struct {
		name    string
		address string
		attrs   map[string]cty.Value
		want    cloud.Host // the fields compared
		jump    string     // Attrs["ssh_jump"]
	}{
		{name: "alias: HostName, User, Port, IdentityFile with ~", address: "lab-pc-01",
			want: cloud.Host{ProviderID: "static:root@lab-pc-01:22", SSHAddress: "192.0.2.11", PrivateIP: "192.0.2.11", SSHUser: "alice", SSHPort: 2201,
				SSHIdentityFiles: []string{h + "/.ssh/lab_ed25519", h + "/.ssh/lab_192.0.2.11_alice"}}},
		{name: "pattern: first value wins, %d %h %r tokens, IdentityFile entries add up", address: "lab-pc-02",
			want: cloud.Host{ProviderID: "static:root@lab-pc-02:22", SSHAddress: "lab-pc-02", PrivateIP: "lab-pc-02", SSHUser: "labuser", SSHPort: 2200,
				SSHIdentityFiles: []string{h + "/.ssh/lab_lab-pc-02_labuser", h + "/.ssh/lab_ed25519"}}},
		{name: "Host * gives the user; HostName %h", address: "db.cluster",
			want: cloud.Host{ProviderID: "static:root@db.cluster:22", SSHAddress: "db.cluster.example.org", PrivateIP: "db.cluster.example.org", SSHUser: "everyone", SSHPort: 22}},
		{name: "no match but Host *: defaults for the rest", address: "10.0.0.9",
			want: cloud.Host{ProviderID: "static:root@10.0.0.9:22", SSHAddress: "10.0.0.9", PrivateIP: "10.0.0.9", SSHUser: "everyone", SSHPort: 22}},
		{name: "the address's user and port win", address: "bob@lab-pc-01:2022",
			want: cloud.Host{ProviderID: "static:bob@lab-pc-01:2022", SSHAddress: "192.0.2.11", PrivateIP: "192.0.2.11", SSHUser: "bob", SSHPort: 2022,
				SSHIdentityFiles: []string{h + "/.ssh/lab_ed25519", h + "/.ssh/lab_192.0.2.11_bob"}}},
		{name: "explicit user and port settings win; key_file kept", address: "lab-pc-01",
			attrs: map[string]cty.Value{"user": cty.StringVal("carol"), "port": cty.NumberIntVal(2023), "key_file": cty.StringVal("/keys/site")},
			want: cloud.Host{ProviderID: "static:carol@lab-pc-01:2023", SSHAddress: "192.0.2.11", PrivateIP: "192.0.2.11", SSHUser: "carol", SSHPort: 2023,
				SSHIdentityFiles: []string{h + "/.ssh/lab_ed25519", h + "/.ssh/lab_192.0.2.11_carol"}}},
		{name: "private_ips still win for the private address", address: "lab-pc-01",
			attrs: map[string]cty.Value{"private_ips": strs("10.9.9.9")},
			want: cloud.Host{ProviderID: "static:root@lab-pc-01:22", SSHAddress: "192.0.2.11", PrivateIP: "10.9.9.9", SSHUser: "alice", SSHPort: 2201,
				SSHIdentityFiles: []string{h + "/.ssh/lab_ed25519", h + "/.ssh/lab_192.0.2.11_alice"}}},
		{name: "quoted IdentityFile with a space", address: "spaced",
			want: cloud.Host{ProviderID: "static:root@spaced:22", SSHAddress: "192.0.2.30", PrivateIP: "192.0.2.30", SSHUser: "everyone", SSHPort: 22,
				SSHIdentityFiles: []string{h + "/.ssh/key with space"}}},
		{name: "ProxyJump through an alias, whose own ProxyJump goes first", address: "behind",
			want: cloud.Host{ProviderID: "static:root@behind:22", SSHAddress: "10.1.0.5", PrivateIP: "10.1.0.5", SSHUser: "everyone", SSHPort: 22,
				SSHJump: []cloud.Hop{
					{Address: "192.0.2.41", Port: 2022, User: "everyone"},
					{Address: "192.0.2.40", Port: 22, User: "jump", IdentityFiles: []string{h + "/.ssh/jump_key"}},
				}},
			jump: "jump@jumper:22"},
		{name: "ProxyJump chain: only the first hop's own ProxyJump counts", address: "chain",
			want: cloud.Host{ProviderID: "static:root@chain:22", SSHAddress: "10.1.0.6", PrivateIP: "10.1.0.6", SSHUser: "everyone", SSHPort: 22,
				SSHJump: []cloud.Hop{
					{Address: "bastion", Port: 2222, User: "ops"},
					{Address: "192.0.2.40", Port: 22, User: "jump", IdentityFiles: []string{h + "/.ssh/jump_key"}},
				}},
			jump: "ops@bastion:2222,jump@jumper:22"},
		{name: "the site's jump wins over ProxyJump", address: "behind",
			attrs: map[string]cty.Value{"jump": cty.StringVal("ssh://ops@bastion")},
			want: cloud.Host{ProviderID: "static:root@behind:22", SSHAddress: "10.1.0.5", PrivateIP: "10.1.0.5", SSHUser: "everyone", SSHPort: 22,
				SSHJump: []cloud.Hop{{Address: "bastion", Port: 22, User: "ops"}}},
			jump: "ops@bastion:22"},
		{name: "Host pattern with a negation", address: "x.far",
			want: cloud.Host{ProviderID: "static:root@x.far:22", SSHAddress: "x.far", PrivateIP: "x.far", SSHUser: "everyone", SSHPort: 22,
				SSHJump: []cloud.Hop{{Address: "bastion", Port: 22, User: "everyone"}}},
			jump: "everyone@bastion:22"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			attrs := withConfig("ssh_config", tc.attrs)
			attrs["addresses"] = strs(tc.address)
			got, err := launch(t, attrs)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.PublicIP = tc.want.SSHAddress
			if tc.want.PrivateIP == "" {
				tc.want.PrivateIP = tc.want.SSHAddress
			}
			cmp := cloud.Host{ProviderID: got.ProviderID, SSHAddress: got.SSHAddress, PrivateIP: got.PrivateIP, PublicIP: got.PublicIP,
				SSHUser: got.SSHUser, SSHPort: got.SSHPort, SSHIdentityFiles: got.SSHIdentityFiles, SSHJump: got.SSHJump}
			if !reflect.DeepEqual(cmp, tc.want) {
				t.Errorf("got  %+v\nwant %+v", cmp, tc.want)
			}
			if got.Attrs["ssh_jump"] != tc.jump {
				t.Errorf("ssh_jump = %q, want %q", got.Attrs["ssh_jump"], tc.jump)
			}
			if got.Attrs["ssh_config"] != cfgPath {
				t.Errorf("ssh_config attr = %q, want %q (for diffuser ssh -F)", got.Attrs["ssh_config"], cfgPath)
			}
			_, alias, _, _ := ParseAddress(tc.address, "", 0)
			if want := map[bool]string{true: alias}[got.SSHAddress != alias]; got.Attrs["ssh_host"] != want {
				t.Errorf("ssh_host = %q, want %q (the alias ssh matches Host blocks on)", got.Attrs["ssh_host"], want)
			}
		})
	}
}

func TestResolveTokensAndEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DIFFUSER_TEST_KEYDIR", dir)
	got, err := launch(t, withConfig("ssh_config", map[string]cty.Value{"addresses": strs("envkey")}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{dir + "/id_env"}; !reflect.DeepEqual(got.SSHIdentityFiles, want) {
		t.Errorf("IdentityFile ${VAR}: %q, want %q", got.SSHIdentityFiles, want)
	}
	os.Unsetenv("DIFFUSER_TEST_KEYDIR")
	_, err = launch(t, withConfig("ssh_config", map[string]cty.Value{"addresses": strs("envkey")}))
	if err == nil || !strings.Contains(err.Error(), "DIFFUSER_TEST_KEYDIR is not set") {
		t.Errorf("unset variable: %v", err)
	}

	me, _ := osuser.Current()
	tk, err := identityTokens("alias", "host.example", 2200, "remote")
	if err != nil {
		t.Fatal(err)
	}
	p, err := expandTokens("IdentityFile", "%d/%u/%h/%n/%p/%r/100%%", tk, false)
	if want := home(t) + "/" + me.Username + "/host.example/alias/2200/remote/100%"; err != nil || p != want {
		t.Errorf("tokens: %q %v, want %q", p, err, want)
	}
	if _, err := expandTokens("IdentityFile", "x%", tk, false); err == nil {
		t.Error("a lone % was accepted")
	}
	if p, err := expandTilde("~root/k"); err != nil || p != "/root/k" {
		t.Errorf("~root/k: %q %v", p, err)
	}
}

func TestResolveWithoutSSHConfig(t *testing.T) {
	// `ssh_config = false` reaches the provider as "false" (the spec's type is string).
	for _, off := range []cty.Value{cty.StringVal(""), cty.StringVal("none"), cty.StringVal("false")} {
		got, err := launch(t, map[string]cty.Value{"addresses": strs("lab-pc-01"), "ssh_config": off})
		if err != nil {
			t.Fatal(err)
		}
		if got.SSHAddress != "lab-pc-01" || got.SSHUser != "root" || got.SSHPort != 22 || got.Attrs["ssh_config"] != "none" {
			t.Errorf("ssh_config = %#v: %+v", off, got)
		}
	}
	_, err := launch(t, map[string]cty.Value{"addresses": strs("a"), "ssh_config": cty.StringVal(filepath.Join(t.TempDir(), "missing"))})
	if err == nil || !strings.Contains(err.Error(), "no such file") || !strings.Contains(err.Error(), `ssh_config = ""`) {
		t.Errorf("missing file named by ssh_config: %v", err)
	}
}

// The default (no ssh_config setting) reads the user's ~/.ssh/config,
// which is the password database's home, as ssh reads it.
func TestResolveDefaultFiles(t *testing.T) {
	c, err := loadSSHConfig(nil)
	if err != nil {
		t.Skipf("this machine's ssh config does not parse: %v", err)
	}
	if c.Setting != "" {
		t.Errorf("default setting recorded as %q, want \"\" (ssh reads its own default files)", c.Setting)
	}
	for _, n := range c.names {
		if n != filepath.Join(home(t), ".ssh", "config") && n != systemSSHConfig {
			t.Errorf("read %s", n)
		}
	}
}

func TestResolveRefusesHostileValues(t *testing.T) {
	cases := map[string]string{
		"user-opt":       `User "-oProxyCommand=touch /tmp/pwned"`,
		"name-space":     `HostName "192.0.2.1 -oProxyCommand=x"`,
		"name-opt":       `HostName "-oProxyCommand=x"`,
		"port-text":      `Port "22 -o ProxyCommand=x"`,
		"jump-opt":       `jump host "-oProxyCommand=x"`,
		"proxy-cmd":      "ProxyCommand, which diffuser does not run",
		"key-token":      "token %Z",
		"user-semicolon": `User "root;reboot"`,
	}
	for host, want := range cases {
		t.Run(host, func(t *testing.T) {
			_, err := launch(t, withConfig("hostile_config", map[string]cty.Value{"addresses": strs(host)}))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %s", err, want)
			}
			if !strings.Contains(err.Error(), "hostile_config") && host != "jump-opt" && host != "key-token" {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	// An explicit setting wins and so hides a bad value of the file.
	got, err := launch(t, withConfig("hostile_config", map[string]cty.Value{"addresses": strs("user-opt"), "user": cty.StringVal("ok")}))
	if err != nil || got.SSHUser != "ok" {
		t.Errorf("explicit user over a bad one: %+v %v", got, err)
	}
	got, err = launch(t, withConfig("hostile_config", map[string]cty.Value{"addresses": strs("proxy-cmd"), "jump": cty.StringVal("bastion")}))
	if err != nil || len(got.SSHJump) != 1 {
		t.Errorf("explicit jump over a ProxyCommand: %+v %v", got, err)
	}
	// The site file's own values are checked the same way.
	for _, attrs := range []map[string]cty.Value{
		{"addresses": strs("-oProxyCommand=x")},
		{"addresses": strs("h"), "user": cty.StringVal("-oProxyCommand=x")},
		{"addresses": strs("-l@h")},
		{"addresses": strs("h"), "jump": cty.StringVal("a b")},
		{"addresses": strs("h"), "key_file": cty.StringVal("/k\n-oProxyCommand=x")},
	} {
		attrs["ssh_config"] = cty.StringVal("")
		if h, err := launch(t, attrs); err == nil {
			t.Errorf("%v accepted: %+v", attrs, h)
		}
	}
}

func TestResolveLoopsAndParseErrors(t *testing.T) {
	_, err := launch(t, withConfig("ssh_config", map[string]cty.Value{"addresses": strs("loopy")}))
	if err == nil || !strings.Contains(err.Error(), "nested jump hosts") {
		t.Errorf("ProxyJump loop: %v", err)
	}
	_, err = launch(t, withConfig("match_exec_config", map[string]cty.Value{"addresses": strs("h")}))
	if err == nil || !strings.Contains(err.Error(), "Match Exec is not supported") || !strings.Contains(err.Error(), `ssh_config = ""`) {
		t.Errorf("Match exec: %v", err)
	}
}

// A changed ssh config moves a host (Status says Moved, the provider id
// stays); an unchanged one leaves it Running.
func TestStatusFindsMovedHosts(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("Host lab\n  HostName 192.0.2.1\n  Port 2200\n")
	spec := cloud.HostSpec{Group: "server", Name: "server[0]",
		Settings: settings(t, map[string]cty.Value{"addresses": strs("lab"), "ssh_config": cty.StringVal(cfg)})}
	h, err := Provider{}.Launch(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := (Provider{}).Status(context.Background(), spec, h); err != nil || st != cloud.Running {
		t.Fatalf("unchanged: %s %v", st, err)
	}
	write("Host lab\n  HostName 192.0.2.1\n  Port 2201\n")
	if st, err := (Provider{}).Status(context.Background(), spec, h); err != nil || st != cloud.Rerouted {
		t.Fatalf("Port changed, HostName not: %s %v, want rerouted (its addresses stay)", st, err)
	}
	write("Host lab\n  HostName 192.0.2.2\n  Port 2200\n")
	if st, err := (Provider{}).Status(context.Background(), spec, h); err != nil || st != cloud.Moved {
		t.Fatalf("HostName changed: %s %v", st, err)
	}
	h2, err := Provider{}.Launch(context.Background(), spec)
	if err != nil || h2.ProviderID != h.ProviderID || h2.SSHAddress != "192.0.2.2" {
		t.Fatalf("relaunch: %+v %v (id was %s)", h2, err, h.ProviderID)
	}
	write("Host lab\n  HostName 192.0.2.2\n  User -x\n")
	if _, err := (Provider{}).Status(context.Background(), spec, h2); err == nil {
		t.Error("a config that no longer resolves gave a status")
	}

	// A host recorded before jump chains (one hop in Attrs only) is not
	// moved by being read again.
	legacy := cloud.HostSpec{Group: "server", Name: "server[0]",
		Settings: settings(t, map[string]cty.Value{"addresses": strs("10.0.0.1"), "jump": cty.StringVal("ops@bastion:2200"), "ssh_config": cty.StringVal("")})}
	old := cloud.Host{ProviderID: "static:root@10.0.0.1:22", PrivateIP: "10.0.0.1", PublicIP: "10.0.0.1", SSHAddress: "10.0.0.1", SSHPort: 22, SSHUser: "root",
		Attrs: map[string]string{"ssh_jump": "ops@bastion:2200", "ssh_config": "none"}}
	if st, err := (Provider{}).Status(context.Background(), legacy, old); err != nil || st != cloud.Running {
		t.Errorf("legacy jump host: %s %v", st, err)
	}
}

// TestSSHConfigNotARegularFile: an ssh_config setting (or ~/.ssh/config)
// naming a named pipe blocked the launch until something wrote to it, and
// /dev/zero filled memory; both are refused at once naming the file, as is
// a file past the bound, before it is read.
func TestSSHConfigNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "config.pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, maxSSHConfig+1); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{pipe: "is a named pipe", "/dev/zero": "is a character device", big: "more than the"} {
		done := make(chan error, 1)
		go func() {
			_, err := launch(t, map[string]cty.Value{"addresses": strs("a"), "ssh_config": cty.StringVal(file)})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `ssh_config = ""`) {
				t.Errorf("ssh_config = %s: %v, want an error naming it and saying %q", file, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ssh_config = %s: still reading after 10 s", file)
		}
	}
}
