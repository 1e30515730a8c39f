package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// stdLine is what encoding/json writes for r: the journal format.
func stdLine(t testing.TB, r Record) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestInstanceLineMatchesEncodingJSON(t *testing.T) {
	when := time.Date(2026, 11, 21, 9, 30, 1, 123456789, time.FixedZone("x", 3600))
	cases := []Instance{
		{},
		{Step: "glusterd", Host: "server[0]", Kind: "service", Digest: "abc", Status: StatusApplied, Started: when, Finished: when.Add(time.Second)},
		{Step: "s", Host: "h", Kind: "run", Status: StatusFailed, Error: "exit 1: <oops> & \"quotes\" \\ \n\t\r\b\f \x01 \x7f",
			Outputs: map[string]string{"z": "1", "a": "ü\u2028\u2029", "m": "\xff\xfe bad utf-8"}, Sensitive: true,
			Destroy: "rm -rf /srv/brick && echo <done>", SucceededOn: "docker:c0ffee<&>", Args: json.RawMessage(`{"command":"echo \u003c","env":null}`)},
		{Args: json.RawMessage(` { "a" : [1, 2,	3],"b":"<&>" , "c":"\u2028 ü"} `)},
		{Args: json.RawMessage(`"x"`), Started: time.Unix(0, 0).UTC()},
		{Step: "mfsmaster", Kind: "service", Pending: `restart: step.conf["server[1]"] <&>`},
	}
	for i, in := range cases {
		r := PutInstance("step.s[\"h[1]\"]", &in)
		got, err := r.line()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if want := stdLine(t, r); !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
	bad := Instance{Args: json.RawMessage(`{"a":`)}
	if _, err := PutInstance("k", &bad).line(); err == nil {
		t.Error("arguments that are not JSON were encoded without error")
	}
}

func FuzzInstanceLine(f *testing.F) {
	f.Add("step.a[\"h\"]", "echo <x> & y", "out", "\u2028\xff", `{"a":"b"}`, int64(1700000000123456789))
	f.Add("", "", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, key, s, k, v, args string, ns int64) {
		in := Instance{Step: s, Host: s, Kind: "run", Digest: k, Status: StatusApplied, Error: v, Destroy: s,
			Outputs: map[string]string{k: v, s: k}, Started: time.Unix(0, ns).UTC(), Finished: time.Unix(0, ns)}
		if json.Valid([]byte(args)) {
			in.Args = json.RawMessage(args)
		}
		sameAsEncodingJSON(t, PutInstance(key+"x", &in))
	})
}

func TestHostLineMatchesEncodingJSON(t *testing.T) {
	when := time.Date(2026, 11, 21, 9, 30, 1, 5, time.UTC)
	cases := []Host{
		{},
		{Name: "server[0]", Group: "server", Index: 0, Provider: "docker", ProviderID: "abc", PrivateIP: "10.0.0.2",
			SSH: SSH{Address: "10.0.0.2", Port: 22, User: "root", HostKey: "ssh-ed25519 AAAA"}, Digest: "d", Launched: when},
		{Name: "n<1>", Group: "g&", Index: 12, Provider: "aws", ProviderID: "i-1", PrivateIP: "10.0.0.3", PublicIP: "203.0.113.9",
			SSH: SSH{Address: "203.0.113.9", Port: 2222, User: "admin", KeyFile: "/k\n", IdentityFiles: []string{"/home/me/.ssh/id_<lab>", "b\u2028"},
				Jump: &SSH{Address: "bastion", Port: 22, User: "j", IdentityFiles: []string{"/j"}, Jump: &SSH{Address: "x"}}},
			Volumes: map[string]Volume{"brick": {Device: "/dev/loop3", ProviderID: "vol-1", SizeGB: 2}, "a": {Device: "/dev/xvdb"}},
			Attrs:   map[string]string{"zone": "eu\u2028", "image": "debian-12 \xff"}, Launched: when.In(time.FixedZone("p", -7200))},
		{Name: "f", Facts: json.RawMessage("{\"os\": {\"name\": \"a<b>&c\u2028\"},\n \"devices\": [ 1, 2 ]}")},
	}
	for i, h := range cases {
		r := PutHost(&h)
		if h.Name == "" {
			r.Key = "k" // Validate wants a key; the line is what matters
			h.Name = "k"
		}
		got, err := r.line()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if want := stdLine(t, r); !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzHostLine(f *testing.F) {
	f.Add("server[0]", "10.0.0.1", "ssh-ed25519 <x>", "brick", "/dev/loop1", 3, int64(1700000000123456789))
	f.Fuzz(func(t *testing.T, name, ip, key, vol, dev string, n int, ns int64) {
		h := Host{Name: name + "x", Group: name, Index: n, Provider: ip, ProviderID: key, PrivateIP: ip, PublicIP: dev,
			SSH:     SSH{Address: ip, Port: n, User: name, HostKey: key, IdentityFiles: []string{vol, key}, Jump: &SSH{Address: dev}},
			Volumes: map[string]Volume{vol: {Device: dev, ProviderID: key, SizeGB: n}}, Attrs: map[string]string{key: vol, ip: dev},
			Digest: key, Launched: time.Unix(0, ns).UTC()}
		sameAsEncodingJSON(t, PutHost(&h))
	})
}

func TestLineRefusesWhatEncodingJSONRefuses(t *testing.T) {
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []Record{
		PutInstance("k", &Instance{Started: far}),
		PutHost(&Host{Name: "h", Launched: far}),
	} {
		if _, err := json.Marshal(r); err == nil {
			t.Fatal("encoding/json accepted year 10000")
		}
		if b, err := r.line(); err == nil {
			t.Errorf("%s: encoded year 10000 as %s", r, b)
		}
	}
}

// sameAsEncodingJSON fails t unless r's journal line is what encoding/json
// writes for r, or both refuse it.
func sameAsEncodingJSON(t *testing.T, r Record) {
	t.Helper()
	got, err := r.line()
	want, werr := json.Marshal(r)
	if (err != nil) != (werr != nil) {
		t.Fatalf("errors differ: %v vs %v", err, werr)
	}
	if err == nil && !bytes.Equal(got, append(want, '\n')) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}
