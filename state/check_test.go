package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileStateRefused loads state files that parse but contradict
// themselves or record garbage host fields: each is refused with the file
// and the JSON location, as a *CorruptError wrapping a *FieldError, and
// nothing in the directory changes.
func TestHostileStateRefused(t *testing.T) {
	host := func(fields string) string {
		return `{"version":1,"serial":3,"lineage":"L","hosts":{"server[0]":{"name":"server[0]","group":"server","provider":"static",` + fields + `}},"instances":{}}`
	}
	cases := []struct {
		name, state, where, says string
	}{
		{"instance key names another host",
			`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{"step.x[\"server[0]\"]":{"step":"x","host":"server[1]","kind":"run","status":"applied"}}}`,
			`instances["step.x[\"server[0]\"]"]`, `host "server[1]"`},
		{"instance key names another step",
			`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{"step.x[\"server[0]\"]":{"step":"y","host":"server[0]","kind":"run","status":"applied"}}}`,
			`instances["step.x[\"server[0]\"]"]`, `step "y"`},
		{"host filed under another name",
			`{"version":1,"serial":3,"lineage":"L","hosts":{"server[0]":{"name":"server[1]"}},"instances":{}}`,
			`hosts["server[0]"].name`, `filed under`},
		{"private ip with a here-document end", host(`"private_ip":"10.0.0.1\nDIFFUSER_RELAY_EOF\ntouch /pwned"`), `hosts["server[0]"].private_ip`, "neither an IP"},
		{"private ip with a command substitution", host(`"private_ip":"$(reboot)"`), `hosts["server[0]"].private_ip`, "neither an IP"},
		{"private ip with spaces", host(`"private_ip":"10.0.0.1 10.0.0.2"`), `hosts["server[0]"].private_ip`, "neither an IP"},
		{"public ip starting with -", host(`"public_ip":"-oProxyCommand=x"`), `hosts["server[0]"].public_ip`, "neither an IP"},
		{"port out of range", host(`"ssh":{"address":"10.0.0.1","port":70000,"user":"root"}`), `hosts["server[0]"].ssh.port`, "out of range"},
		{"negative port", host(`"ssh":{"address":"10.0.0.1","port":-1,"user":"root"}`), `hosts["server[0]"].ssh.port`, "out of range"},
		{"user with a semicolon", host(`"ssh":{"address":"10.0.0.1","port":22,"user":"root;id"}`), `hosts["server[0]"].ssh.user`, "not a user name"},
		{"user as an option", host(`"ssh":{"address":"10.0.0.1","port":22,"user":"-oProxyCommand=touch /tmp/x"}`), `hosts["server[0]"].ssh.user`, "not a user name"},
		{"user with a backtick", host("\"ssh\":{\"address\":\"10.0.0.1\",\"port\":22,\"user\":\"a`id`\"}"), `hosts["server[0]"].ssh.user`, "not a user name"},
		{"address with a newline", host(`"ssh":{"address":"10.0.0.1\nHost *","port":22}`), `hosts["server[0]"].ssh.address`, "neither an IP"},
		{"address with a space", host(`"ssh":{"address":"a b","port":22}`), `hosts["server[0]"].ssh.address`, "neither an IP"},
		{"jump user as an option", host(`"ssh":{"address":"10.0.0.1","port":22,"jump":{"address":"bastion","port":22,"user":"-F/tmp/cfg"}}`), `hosts["server[0]"].ssh.jump.user`, "not a user name"},
		{"jump without an address", host(`"ssh":{"address":"10.0.0.1","port":22,"jump":{"port":22}}`), `hosts["server[0]"].ssh.jump.address`, "without an address"},
		{"host key with a newline", host(`"ssh":{"address":"10.0.0.1","port":22,"host_key":"ssh-ed25519 AAAA\n* ssh-ed25519 BBBB"}`), `hosts["server[0]"].ssh.host_key`, "one line"},
		{"relative volume device", host(`"volumes":{"brick":{"device":"dev/sdb"}}`), `hosts["server[0]"].volumes["brick"].device`, "not a device path"},
		{"volume device with a command", host(`"volumes":{"brick":{"device":"/dev/sdb;mkfs /dev/sda"}}`), `hosts["server[0]"].volumes["brick"].device`, "not a device path"},
		{"volume device climbing out", host(`"volumes":{"brick":{"device":"/dev/../etc/passwd"}}`), `hosts["server[0]"].volumes["brick"].device`, "not a device path"},
		// Values shown by state list, hosts and plans: an unknown status
		// and terminal escapes were printed as they were.
		{"unknown instance status",
			`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{"step.x[\"server[0]\"]":{"step":"x","host":"server[0]","kind":"run","status":"done\u001b[2J"}}}`,
			`instances["step.x[\"server[0]\"]"].status`, `is not a status diffuser records (applied or failed)`},
		{"instance kind with an escape",
			`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{"step.x[\"server[0]\"]":{"step":"x","host":"server[0]","kind":"run\u001b]0;t\u0007","status":"applied"}}}`,
			`instances["step.x[\"server[0]\"]"].kind`, `a kind with control characters`},
		{"instance digest with a newline",
			`{"version":1,"serial":3,"lineage":"L","hosts":{},"instances":{"step.x[\"server[0]\"]":{"step":"x","host":"server[0]","kind":"run","digest":"ab\ncd","status":"applied"}}}`,
			`instances["step.x[\"server[0]\"]"].digest`, `a digest with control characters`},
		{"provider id with an escape", host(`"provider_id":"c0ffee\u001b[2J"`), `hosts["server[0]"].provider_id`, "a provider id with control characters"},
		// Save adds one to the serial: at the top it wrapped to 0, "never applied".
		{"serial at the top of uint64", `{"version":1,"serial":18446744073709551615,"lineage":"L","hosts":{},"instances":{}}`, `serial`, "is past 9007199254740992"},
		// (host() gives a group already: a second "group" key is now refused as a duplicate.)
		{"group with a carriage return",
			`{"version":1,"serial":3,"lineage":"L","hosts":{"server[0]":{"name":"server[0]","group":"server\rowned","provider":"static"}},"instances":{}}`,
			`hosts["server[0]"].group`, "a group with control characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sp := filepath.Join(dir, "state.json")
			if err := os.WriteFile(sp, []byte(c.state), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshotDir(t, dir)
			st, err := Open(dir).Load()
			if err == nil {
				t.Fatalf("accepted: %+v", st)
			}
			var ce *CorruptError
			var fe *FieldError
			if !errors.As(err, &ce) || !errors.As(err, &fe) {
				t.Fatalf("error %T is not a located field error: %v", err, err)
			}
			msg := err.Error()
			for _, want := range []string{sp, c.where, c.says} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not say %q:\n%s", want, msg)
				}
			}
			if after := snapshotDir(t, dir); !bytes.Equal(before, after) {
				t.Errorf("the directory changed:\n%s\n%s", before, after)
			}
		})
	}
}

// TestHostileJournalRefused: a journal record that files a garbage host
// is refused naming the journal, and the journal stays.
func TestHostileJournalRefused(t *testing.T) {
	dir := t.TempDir()
	jp := filepath.Join(dir, "state.journal")
	j := "{\"journal\":1,\"lineage\":\"L\",\"serial\":0}\n" +
		"{\"kind\":\"host\",\"key\":\"server[0]\",\"host\":{\"name\":\"server[0]\",\"private_ip\":\"x\\ny\"}}\n"
	if err := os.WriteFile(jp, []byte(j), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	_, err := Open(dir).Load()
	if err == nil || !strings.Contains(err.Error(), jp) || !strings.Contains(err.Error(), `hosts["server[0]"].private_ip`) {
		t.Fatalf("want a located refusal naming %s, got %v", jp, err)
	}
	if after := snapshotDir(t, dir); !bytes.Equal(before, after) {
		t.Errorf("the directory changed")
	}
}

// TestStateCheckAcceptsWhatProvidersRecord: names, IPv6, the simulator's
// bracketed names, by-id devices and unset fields pass.
func TestStateCheckAcceptsWhatProvidersRecord(t *testing.T) {
	st := New("L")
	st.Hosts["server[0]"] = &Host{Name: "server[0]", PrivateIP: "fd00::1", PublicIP: "203.0.113.9",
		SSH:     SSH{Address: "server[0]", Port: 2222, User: "ec2-user", Jump: &SSH{Address: "bastion.example.com", User: "jump_1"}},
		Volumes: map[string]Volume{"brick": {Device: "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"}, "b": {Device: "/dev/nvme1n1"}}}
	st.Hosts["client[0]"] = &Host{PrivateIP: "lab-pc-01"}
	st.Steps[`step.x["server[0]"]`] = &Instance{Step: "x", Host: "server[0]"}
	st.Steps["other"] = &Instance{}
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
}

func snapshotDir(t *testing.T, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + "\n")
		b.Write(data)
		b.WriteString("\n")
	}
	return b.Bytes()
}

func TestCheckUser(t *testing.T) {
	for _, u := range []string{"root", "first.last", "svc_deploy-2", "MACHINE$"} {
		if err := CheckUser(u); err != nil {
			t.Errorf("CheckUser(%q): %v", u, err)
		}
	}
	for _, u := range []string{"", "-oProxyCommand=x", "a b", "root;reboot", "a\nb", "a$b", "user@host", "$(id)", strings.Repeat("u", 257)} {
		if CheckUser(u) == nil {
			t.Errorf("CheckUser(%q) accepted", u)
		}
	}
}

// TestCheckAddressIsOneShellWord: recipes paste host.private_ip into
// commands as it is, so an address that passes is one plain shell word
// (only the simulator's bracketed names add [ and ]): an IPv6 zone too,
// which netip.ParseAddr takes as any text after %.
func TestCheckAddressIsOneShellWord(t *testing.T) {
	for _, a := range []string{"10.0.0.1", "fd00::1", "fe80::1%eth0", "fe80::1%enp0s31f6", "fe80::1%2", "lab-pc-01", "server[0]"} {
		if err := CheckAddress(a); err != nil {
			t.Errorf("CheckAddress(%q): %v", a, err)
		}
	}
	for _, a := range []string{"fe80::1%;touch /tmp/pwned", "fe80::1%$(id)", "::1%a b", "fe80::1%`id`", "fe80::1%a|b", "fe80::1%x\ny",
		"a;b", "$(id)", "a b", "-oProxyCommand=x", "fe80::1%" + strings.Repeat("e", 65)} {
		if CheckAddress(a) == nil {
			t.Errorf("CheckAddress(%q) accepted", a)
		}
	}
}
