package static

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/internal/ctypath"

	"github.com/zclconf/go-cty/cty"
)

func obj(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }

// TestCheckSettings: each mistake is one problem at its setting (and
// element), and a good group has none.
func TestCheckSettings(t *testing.T) {
	two := strs("10.0.0.1", "10.0.0.2")
	for _, tc := range []struct {
		name  string
		attrs map[string]cty.Value
		need  cloud.GroupNeed
		want  []string // "path: summary"
	}{
		{"fine", map[string]cty.Value{"addresses": two, "volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("/dev/sdb")})},
			cloud.GroupNeed{Count: 2, Volumes: []string{"brick"}}, nil},
		{"port", map[string]cty.Value{"addresses": two, "port": cty.NumberIntVal(99999)}, cloud.GroupNeed{Count: 2},
			[]string{"port: Invalid port"}},
		{"port zero", map[string]cty.Value{"addresses": two, "port": cty.NumberIntVal(0)}, cloud.GroupNeed{}, []string{"port: Invalid port"}},
		{"too few", map[string]cty.Value{"addresses": two}, cloud.GroupNeed{Count: 3, CountAt: "count at r.hcl:3"},
			[]string{"addresses: Too few hosts in the site file"}},
		{"none", map[string]cty.Value{}, cloud.GroupNeed{Count: 1}, []string{": Too few hosts in the site file"}},
		{"address port", map[string]cty.Value{"addresses": strs("10.0.0.1:99999", "a@b:22")}, cloud.GroupNeed{Count: 2},
			[]string{"addresses[0]: Invalid address"}},
		{"duplicate", map[string]cty.Value{"addresses": strs("h1", "root@H1:22")}, cloud.GroupNeed{Count: 2},
			[]string{"addresses[1]: Duplicate address"}},
		{"user", map[string]cty.Value{"addresses": two, "user": cty.StringVal("a b")}, cloud.GroupNeed{}, []string{"user: Invalid user"}},
		{"jump", map[string]cty.Value{"jump": cty.StringVal("ops@")}, cloud.GroupNeed{}, []string{"jump: Invalid jump host"}},
		{"private ip", map[string]cty.Value{"private_ips": strs("10.0.0.1", "not an ip")}, cloud.GroupNeed{},
			[]string{"private_ips[1]: Invalid private address"}},
		{"device", map[string]cty.Value{"volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("sdb")})}, cloud.GroupNeed{},
			[]string{`volumes["brick"]: Invalid device`}},
		{"missing volume", map[string]cty.Value{"volumes": cty.MapVal(map[string]cty.Value{"brik": cty.StringVal("/dev/sdb")})},
			cloud.GroupNeed{Volumes: []string{"brick"}}, []string{"volumes: Missing volume device"}},
		{"port type", map[string]cty.Value{"port": cty.NumberFloatVal(2.5)}, cloud.GroupNeed{}, []string{"port: Invalid static setting"}},
		// Hostile values (issue 14): each one located, none accepted.
		{"private ip ending the relay here-document", map[string]cty.Value{"private_ips": strs("10.0.0.1\nDIFFUSER_RELAY_EOF\ntouch\t/pwned")}, cloud.GroupNeed{},
			[]string{"private_ips[0]: Invalid private address"}},
		{"private ip command substitution", map[string]cty.Value{"private_ips": strs("$(reboot)")}, cloud.GroupNeed{},
			[]string{"private_ips[0]: Invalid private address"}},
		{"private ip option", map[string]cty.Value{"private_ips": strs("-oProxyCommand=id")}, cloud.GroupNeed{},
			[]string{"private_ips[0]: Invalid private address"}},
		{"address with a semicolon", map[string]cty.Value{"addresses": strs("h1;reboot")}, cloud.GroupNeed{},
			[]string{"addresses[0]: Invalid address"}},
		{"address with a newline", map[string]cty.Value{"addresses": strs("h1\nh2")}, cloud.GroupNeed{},
			[]string{"addresses[0]: Invalid address"}},
		{"address as an option", map[string]cty.Value{"addresses": strs("-oProxyCommand=id")}, cloud.GroupNeed{},
			[]string{"addresses[0]: Invalid address"}},
		{"user as an option", map[string]cty.Value{"user": cty.StringVal("-oProxyCommand=id")}, cloud.GroupNeed{}, []string{"user: Invalid user"}},
		{"jump user as an option", map[string]cty.Value{"jump": cty.StringVal("-F/tmp/x@bastion")}, cloud.GroupNeed{}, []string{"jump: Invalid jump host"}},
		{"jump host with a command", map[string]cty.Value{"jump": cty.StringVal("ops@$(id)")}, cloud.GroupNeed{}, []string{"jump: Invalid jump host"}},
		{"second jump hop bad", map[string]cty.Value{"jump": cty.StringVal("ops@b1,ops@b 2")}, cloud.GroupNeed{}, []string{"jump: Invalid jump host"}},
		{"device with a command", map[string]cty.Value{"volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("/dev/sdb;mkfs.xfs /dev/sda")})}, cloud.GroupNeed{},
			[]string{`volumes["brick"]: Invalid device`}},
		{"device climbing out", map[string]cty.Value{"volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("/dev/../etc/shadow")})}, cloud.GroupNeed{},
			[]string{`volumes["brick"]: Invalid device`}},
		{"device with a newline", map[string]cty.Value{"volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("/dev/sdb\n/dev/sda")})}, cloud.GroupNeed{},
			[]string{`volumes["brick"]: Invalid device`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range (Factory{}).CheckSettings(obj(tc.attrs), "server", tc.need) {
				got = append(got, ctypath.String(p.Path)+": "+p.Summary)
				if p.Detail == "" {
					t.Errorf("%s: no detail", p.Summary)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCheckKeyFile: a key_file that names no file (a warning: validate
// may run where the key is not), or the public half of a key pair (an
// error), is a problem at key_file before any host is dialled; one that
// exists, also through ~/, is none.
func TestCheckKeyFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.WriteFile(filepath.Join(home, "lab_key"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, want string
	}{
		{"~/lab_key", ""},
		{filepath.Join(home, "lab_key"), ""},
		{"~/lab_kye", "Key file not found: key_file = \"~/lab_kye\": there is no file " + filepath.Join(home, "lab_kye")},
		{filepath.Join(home, "nope", "id_ed25519"), "Key file not found"},
		{"~/lab_key.pub", "Public key as key_file: key_file = \"~/lab_key.pub\" is the public half of a key pair: name the private key (~/lab_key)"},
	} {
		ps := (Factory{}).CheckSettings(obj(map[string]cty.Value{"addresses": strs("10.0.0.1"), "key_file": cty.StringVal(tc.key)}), "server", cloud.GroupNeed{Count: 1})
		var got []string
		for _, p := range ps {
			got = append(got, p.Summary+": "+p.Detail)
			if p.Warning != strings.HasPrefix(p.Summary, "Key file not found") {
				t.Errorf("%s: %s has Warning %v: a missing file is a warning, a public key an error", tc.key, p.Summary, p.Warning)
			}
			if ctypath.String(p.Path) != "key_file" {
				t.Errorf("%s: problem at %q, want key_file", tc.key, ctypath.String(p.Path))
			}
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("key_file %s: %q, want no problem", tc.key, got)
		case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.want)):
			t.Errorf("key_file %s: %q, want one starting %q", tc.key, got, tc.want)
		}
	}
}

// TestLaunchRefusesWhatCheckRefuses: Launch applies the same rules, so
// apply cannot accept what validate refused.
func TestLaunchRefusesWhatCheckRefuses(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string]cty.Value
		spec  cloud.HostSpec
		want  string
	}{
		{map[string]cty.Value{"addresses": strs("10.0.0.1"), "port": cty.NumberIntVal(99999)}, cloud.HostSpec{Group: "server", Name: "server[0]"}, "port = 99999"},
		{map[string]cty.Value{"addresses": strs("10.0.0.1")}, cloud.HostSpec{Group: "server", Name: "server[1]", Index: 1}, "needs 2 host(s)"},
		{map[string]cty.Value{"addresses": strs("10.0.0.1"), "volumes": cty.MapVal(map[string]cty.Value{"brick": cty.StringVal("sdb")})},
			cloud.HostSpec{Group: "server", Name: "server[0]", Volumes: []cloud.VolumeSpec{{Name: "brick"}}}, "not a device path"},
	} {
		tc.spec.Settings = obj(tc.attrs)
		_, err := Provider{}.Launch(context.Background(), tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Launch(%v): %v, want an error containing %q", tc.attrs, err, tc.want)
		}
	}
	h, err := Provider{}.Launch(context.Background(), cloud.HostSpec{Group: "server", Name: "server[0]",
		Settings: obj(map[string]cty.Value{"addresses": strs("admin@10.0.0.1:2222")})})
	if err != nil || h.SSHUser != "admin" || h.SSHPort != 2222 || h.SSHAddress != "10.0.0.1" {
		t.Errorf("Launch of a good host: %+v, %v", h, err)
	}
}

// TestRecordedReach: what launch records of key_file and jump gives back
// the settings as written, so that a host launched while they were in the
// launch digest is recognised after they left it (engine formerDigest).
// A jump written without every hop's user and port is recorded resolved
// and does not come back: such a host is recognised while its jump is
// unchanged, and replaced when it changes, as before.
func TestRecordedReach(t *testing.T) {
	for _, set := range []map[string]cty.Value{
		{"key_file": cty.StringVal("/keys/lab"), "jump": cty.StringVal("ops@bastion:2222")},
		{"key_file": cty.StringVal("~/.ssh/id_lab"), "jump": cty.StringVal("ops@b1:22,ops@b2:2222")},
		{"key_file": cty.NullVal(cty.String), "jump": cty.NullVal(cty.String)},
	} {
		attrs := map[string]cty.Value{"addresses": strs("10.0.0.1"), "ssh_config": cty.StringVal("")}
		for k, v := range set {
			attrs[k] = v
		}
		h, err := Provider{}.Launch(context.Background(), cloud.HostSpec{Group: "server", Name: "server[0]", Settings: obj(attrs)})
		if err != nil {
			t.Fatal(err)
		}
		got := Factory{}.RecordedReach([]cloud.Host{h}, 0, obj(attrs))
		for _, name := range []string{"key_file", "jump"} {
			if len(got[name]) != 1 || !got[name][0].RawEquals(set[name]) {
				t.Errorf("%s = %#v recorded as attrs %v, given back as %#v", name, set[name], h.Attrs, got[name])
			}
		}
	}
}

// TestKeyFileChangeMovesHost: key_file and jump are reach settings (out of
// the launch digest), so a host launched with one key and planned with
// another is found Rerouted by refresh (the same addresses, reached
// another way), and apply records the new key, not replaced.
func TestKeyFileChangeMovesHost(t *testing.T) {
	if r := (Factory{}).ReachSettings(); !slices.Contains(r, "key_file") || !slices.Contains(r, "jump") {
		t.Fatalf("ReachSettings %v: key_file and jump say only how a host is reached", r)
	}
	spec := func(key string) cloud.HostSpec {
		return cloud.HostSpec{Group: "server", Name: "server[0]", Settings: obj(map[string]cty.Value{
			"addresses": strs("10.0.0.1"), "ssh_config": cty.StringVal(""), "key_file": cty.StringVal(key)})}
	}
	h, err := Provider{}.Launch(context.Background(), spec("/keys/a"))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]cloud.Status{"/keys/a": cloud.Running, "/keys/b": cloud.Rerouted} {
		if got, err := (Provider{}).Status(context.Background(), spec(key), h); err != nil || got != want {
			t.Errorf("launched with /keys/a, key_file %s: status %v %v, want %v", key, got, err, want)
		}
	}
	// Reach says the new way without a launch: what plan's refresh,
	// verify and destroy reach the rerouted host through.
	if now, err := (Provider{}).Reach(context.Background(), spec("/keys/b"), h); err != nil || now.Attrs["ssh_key_file"] != "/keys/b" ||
		now.SSHAddress != h.SSHAddress || now.SSHPort != h.SSHPort {
		t.Errorf("reach with key_file /keys/b: %+v %v", now, err)
	}
}

// TestRecordedIdentity: the user, port and address a host's provider id
// says it was launched with come back as values to try, written each way
// the site file may have written them (root and 22 maybe unset), and the
// group's list as long as the hosts recorded, with the present elements
// that still name the recorded machines.
func TestRecordedIdentity(t *testing.T) {
	present := obj(map[string]cty.Value{"addresses": strs("10.0.0.1", "10.0.0.9", "10.0.0.3")})
	group := func(ids ...string) []cloud.Host {
		var out []cloud.Host
		for _, id := range ids {
			out = append(out, cloud.Host{ProviderID: id})
		}
		return out
	}
	for _, tc := range []struct {
		ids       []cloud.Host
		users     []cty.Value
		ports     []cty.Value
		addresses []cty.Value
	}{
		// server[1] was at 10.0.0.2, the group had two hosts.
		{group("static:root@10.0.0.1:22", "static:root@10.0.0.2:22"), []cty.Value{cty.StringVal("root"), cty.NullVal(cty.String)},
			[]cty.Value{cty.NumberIntVal(22), cty.NullVal(cty.Number)},
			[]cty.Value{strs("10.0.0.1", "10.0.0.2"), strs("10.0.0.1", "root@10.0.0.2"), strs("10.0.0.1", "10.0.0.2:22"), strs("10.0.0.1", "root@10.0.0.2:22")}},
		// IPv6 in the id, a group of four (shrunk since).
		{group("static:root@10.0.0.1:22", "static:admin@fd00::2:2222", "static:root@10.0.0.3:22", "static:root@10.0.0.4:22"),
			[]cty.Value{cty.StringVal("admin")}, []cty.Value{cty.NumberIntVal(2222)},
			[]cty.Value{strs("10.0.0.1", "fd00::2", "10.0.0.3", "10.0.0.4"), strs("10.0.0.1", "admin@fd00::2", "10.0.0.3", "10.0.0.4"),
				strs("10.0.0.1", "[fd00::2]:2222", "10.0.0.3", "10.0.0.4"), strs("10.0.0.1", "admin@[fd00::2]:2222", "10.0.0.3", "10.0.0.4"),
				strs("10.0.0.1", "fd00::2", "10.0.0.3", "root@10.0.0.4"), strs("10.0.0.1", "admin@fd00::2", "10.0.0.3", "root@10.0.0.4")}},
	} {
		got := Factory{}.RecordedReach(tc.ids, 1, present)
		if !slices.EqualFunc(got["user"], tc.users, cty.Value.RawEquals) || !slices.EqualFunc(got["port"], tc.ports, cty.Value.RawEquals) {
			t.Errorf("%v: users %#v, ports %#v", tc.ids, got["user"], got["port"])
		}
		for _, want := range tc.addresses {
			if !slices.ContainsFunc(got["addresses"], want.RawEquals) {
				t.Errorf("%v: addresses %#v lack %#v", tc.ids, got["addresses"], want)
			}
		}
		if len(got["addresses"]) > maxFormerLists {
			t.Errorf("%v: %d lists", tc.ids, len(got["addresses"]))
		}
	}
	// Grown since: the list as long as the hosts recorded, the present
	// element first.
	got := Factory{}.RecordedReach(group("static:root@10.0.0.1:22"), 0, present)
	if len(got["addresses"]) == 0 || !got["addresses"][0].RawEquals(strs("10.0.0.1")) {
		t.Errorf("grown group: %#v", got["addresses"])
	}
	// The site file now writes an address another way that names the
	// same machine ("10.0.0.1:22" for "10.0.0.1"): the way it was written
	// when recorded is tried too, the present lists first.
	rewritten := obj(map[string]cty.Value{"addresses": strs("10.0.0.1:22", "root@10.0.0.2", "10.0.0.3")})
	got = Factory{}.RecordedReach(group("static:root@10.0.0.1:22", "static:root@10.0.0.2:22", "static:root@10.0.0.3:22"), 0, rewritten)
	for _, want := range []cty.Value{strs("10.0.0.1", "10.0.0.2", "10.0.0.3"), strs("10.0.0.1", "root@10.0.0.2", "10.0.0.3"), strs("root@10.0.0.1:22", "10.0.0.2:22", "10.0.0.3")} {
		if !slices.ContainsFunc(got["addresses"], want.RawEquals) {
			t.Errorf("rewritten addresses: %#v lack %#v", got["addresses"], want)
		}
	}
	if len(got["addresses"]) == 0 || !got["addresses"][0].RawEquals(strs("10.0.0.1:22", "root@10.0.0.2", "10.0.0.3")) || len(got["addresses"]) > maxFormerLists {
		t.Errorf("rewritten addresses: %d lists, the first %#v; want the present one first", len(got["addresses"]), got["addresses"])
	}
	if got := (Factory{}).RecordedReach(group("sim-1"), 0, cty.EmptyObjectVal); got["user"] != nil || got["addresses"] != nil {
		t.Errorf("another provider's id: %#v", got)
	}
}

// TestSiteChangeReaddresses: a host the site file names at another port,
// user or address is Readdressed (its host key decides); once its record
// says how the site reaches it now, under its first provider id (kept by
// apply), it is Running.
func TestSiteChangeReaddresses(t *testing.T) {
	spec := func(addr string, port int) cloud.HostSpec {
		return cloud.HostSpec{Group: "server", Name: "server[0]", Settings: obj(map[string]cty.Value{
			"addresses": strs(addr), "ssh_config": cty.StringVal(""), "port": cty.NumberIntVal(int64(port))})}
	}
	h, err := Provider{}.Launch(context.Background(), spec("10.0.0.1", 22))
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []cloud.HostSpec{spec("10.0.0.1", 2222), spec("admin@10.0.0.1", 22), spec("10.0.0.2", 22)} {
		if got, err := (Provider{}).Status(context.Background(), sp, h); err != nil || got != cloud.Readdressed {
			t.Errorf("%v: status %v %v, want readdressed", sp.Settings.GetAttr("addresses"), got, err)
		}
	}
	now, err := Provider{}.Reach(context.Background(), spec("10.0.0.1", 2222), h)
	if err != nil {
		t.Fatal(err)
	}
	now.ProviderID = h.ProviderID
	if got, err := (Provider{}).Status(context.Background(), spec("10.0.0.1", 2222), now); err != nil || got != cloud.Running {
		t.Errorf("recorded at the new port under its first id: %v %v", got, err)
	}
	// Named again as first recorded: another machine may answer there
	// now (the NAT forwards port 22 elsewhere), so it is asked too.
	if got, err := (Provider{}).Status(context.Background(), spec("10.0.0.1", 22), now); err != nil || got != cloud.Readdressed {
		t.Errorf("recorded at the new port, named at the first one again: %v %v, want readdressed", got, err)
	}
	// A record made before launch recorded how the site named the host
	// (its provider id says it) is running while the site names it so.
	old := h
	old.Attrs = maps.Clone(h.Attrs)
	delete(old.Attrs, attrNamed)
	if got, err := (Provider{}).Status(context.Background(), spec("10.0.0.1", 22), old); err != nil || got != cloud.Running {
		t.Errorf("recorded without %s: %v %v, want running", attrNamed, got, err)
	}
}
