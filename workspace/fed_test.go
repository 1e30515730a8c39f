package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSite writes a site file beside the recipe and returns its path.
func (m *memEnv) writeSite(body string) string {
	m.t.Helper()
	p := filepath.Join(filepath.Dir(filepath.Dir(m.recipe)), "site.hcl")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		m.t.Fatal(err)
	}
	return p
}

// TestGroupProviders: a site file puts the client group on provider
// "other": every host is recorded under its group's provider, the next
// plan is a no-op (also without -provider, from memory), moving the group
// back is refused naming it, and destroy removes the hosts of both.
func TestGroupProviders(t *testing.T) {
	m := newMemEnv(t)
	site := m.writeSite("hosts \"client\" {\n  provider = other\n}\n")
	in := m.inputs("clients=2")
	in.Site, in.Provider = site, "sim"
	m.apply(in, "apply")
	st := m.state()
	want := map[string]string{"server[0]": "sim", "client[0]": "other", "client[1]": "other"}
	if len(st.Hosts) != len(want) {
		t.Fatalf("hosts %v, want %v", st.Hosts, want)
	}
	for n, p := range want {
		if h := st.Hosts[n]; h == nil || h.Provider != p {
			t.Errorf("%s: provider %+v, want %s", n, h, p)
		}
	}
	pl, err := m.plan(Inputs{Recipe: m.recipe}, "plan") // provider, site and vars from memory
	if err != nil {
		t.Fatal(err)
	}
	if pl.Plan.HasChanges() {
		t.Fatalf("second plan has changes: %+v", pl.Plan.Changes)
	}
	pl.Close()

	// The site file no longer puts the clients on "other".
	m.writeSite("# clients moved back\n")
	_, err = m.plan(Inputs{Recipe: m.recipe}, "plan")
	if err == nil || !strings.Contains(err.Error(), "group client") || !strings.Contains(err.Error(), "other") {
		t.Fatalf("moving a group to another provider: %v", err)
	}
	m.writeSite("hosts \"client\" {\n  provider = other\n}\n")
	m.apply(Inputs{Recipe: m.recipe}, "destroy")
	if st := m.state(); len(st.Hosts) != 0 {
		t.Fatalf("hosts left after destroy: %v", st.Hosts)
	}
	if left := m.cloud.Hosts(); left != 0 {
		t.Fatalf("simulated machines left: %v", left)
	}
}

// TestGroupProviderUnknown: a hosts block naming a provider that does not
// exist, or a group the recipe lacks, is refused at load with its place.
func TestGroupProviderUnknown(t *testing.T) {
	m := newMemEnv(t)
	for _, c := range []struct{ site, want string }{
		{"hosts \"client\" {\n  provider = nowhere\n}\n", `unknown provider "nowhere"`},
		{"hosts \"clients\" {\n  provider = other\n}\n", `no such group`},
		{"hosts \"client\" {\n  provider = aws.east\n}\n", `Unknown provider alias`},
		{"hosts \"client\" {\n  provider = other\n  count = 3\n}\n", `Put the group's settings in that provider's block`},
		{"hosts \"client\" {\n  provider = \"a b\"\n}\n", `Invalid provider reference`},
		{"hosts \"client\" {\n  provider = other\n}\nhosts \"client\" {\n  provider = sim\n}\n", `Duplicate hosts block`},
		{"provider \"other\" {\n  alias = \"x y\"\n}\n", `Invalid provider alias`},
	} {
		in := m.inputs()
		in.Site = m.writeSite(c.site)
		_, err := m.env().Load(in)
		if err == nil || !strings.Contains(errText(err), c.want) {
			t.Errorf("site %q: %v, want %q", c.site, errText(err), c.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	if d, ok := err.(*DiagError); ok {
		var b strings.Builder
		for _, x := range d.Diags {
			b.WriteString(x.Summary + ": " + x.Detail + "\n")
		}
		return b.String()
	}
	return err.Error()
}

// clock is a settable clock for Env.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestExpiry: apply --ttl records now+ttl; Expired lists the workspace
// only once the simulated clock passes it; an apply with a new ttl
// extends it, one without keeps it, ttl 0 removes it; the site's ttl
// applies when no flag is given; a destroy of an expired workspace
// through the sweep's inputs removes its hosts.
func TestExpiry(t *testing.T) {
	m := newMemEnv(t)
	c := &clock{t: time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)}
	run := func(in Inputs, command string, ttl *time.Duration) {
		t.Helper()
		e := m.env()
		e.Now = c.now
		pl, err := e.Plan(context.Background(), PlanRequest{Inputs: in, Command: command, Lock: true, Destroy: command == "destroy", TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		if !pl.Plan.HasChanges() {
			if err := pl.SaveUnchanged(); err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, err := pl.Apply(context.Background(), ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	expired := func() []string {
		t.Helper()
		e := m.env()
		e.Now = c.now
		list, unknown, err := e.Expired("")
		if err != nil || len(unknown) != 0 {
			t.Fatal(err, unknown)
		}
		var names []string
		for _, in := range list {
			names = append(names, in.Name)
		}
		return names
	}
	dur := func(d time.Duration) *time.Duration { return &d }
	in := m.inputs()
	in.Provider = "sim"
	run(in, "apply", dur(4*time.Hour))
	t0 := c.t
	if got := m.state().Expires; !got.Equal(t0.Add(4 * time.Hour)) {
		t.Fatalf("deadline %v, want %v", got, t0.Add(4*time.Hour))
	}
	if rec := m.state().Inputs; rec == nil || rec.Recipe != m.recipe {
		t.Fatalf("recorded recipe %+v, want %s", rec, m.recipe)
	}
	c.t = t0.Add(3*time.Hour + 59*time.Minute)
	if got := expired(); len(got) != 0 {
		t.Fatalf("expired before the deadline: %v", got)
	}
	c.t = t0.Add(4 * time.Hour)
	if got := expired(); len(got) != 1 || got[0] != "mem" {
		t.Fatalf("expired at the deadline: %v, want [mem]", got)
	}
	// Extend: an apply with a new ttl (no other change) renews from now.
	run(in, "apply", dur(2*time.Hour))
	if got, want := m.state().Expires, c.t.Add(2*time.Hour); !got.Equal(want) {
		t.Fatalf("extended deadline %v, want %v", got, want)
	}
	if got := expired(); len(got) != 0 {
		t.Fatalf("expired after extending: %v", got)
	}
	// No ttl: the deadline stays.
	before := m.state().Expires
	c.t = c.t.Add(time.Hour)
	run(in, "apply", nil)
	if got := m.state().Expires; !got.Equal(before) {
		t.Fatalf("an apply without ttl moved the deadline to %v from %v", got, before)
	}
	// ttl 0 removes it.
	run(in, "apply", dur(0))
	if got := m.state().Expires; !got.IsZero() {
		t.Fatalf("deadline after --ttl 0: %v", got)
	}
	c.t = c.t.Add(1000 * time.Hour)
	if got := expired(); len(got) != 0 {
		t.Fatalf("expired without a deadline: %v", got)
	}
	// The site's ttl applies to every apply without the flag.
	in.Site = m.writeSite("ttl = \"30m\"\n")
	run(in, "apply", nil)
	if got, want := m.state().Expires, c.t.Add(30*time.Minute); !got.Equal(want) {
		t.Fatalf("site ttl deadline %v, want %v", got, want)
	}
	c.t = c.t.Add(31 * time.Minute)
	if got := expired(); len(got) != 1 {
		t.Fatalf("expired after the site's ttl: %v", got)
	}
	// The sweep destroys with what the last apply recorded.
	run(Inputs{Recipe: m.state().Inputs.Recipe, Workspace: "mem"}, "destroy", nil)
	if st := m.state(); len(st.Hosts) != 0 {
		t.Fatalf("hosts left: %v", st.Hosts)
	}
	// A new cluster in the destroyed one's workspace does not inherit its
	// passed deadline (the site file's ttl gone too).
	in.Site = m.writeSite("# no ttl\n")
	run(in, "apply", nil)
	if st := m.state(); len(st.Hosts) == 0 || !st.Expires.IsZero() {
		t.Fatalf("new cluster: %d hosts, deadline %v; want hosts and no deadline", len(st.Hosts), st.Expires)
	}
	// A passed deadline of a cluster that still has hosts stays (destroy --expired is due).
	run(in, "apply", dur(time.Hour))
	c.t = c.t.Add(2 * time.Hour)
	before = m.state().Expires
	run(in, "apply", nil)
	if got := m.state().Expires; !got.Equal(before) {
		t.Fatalf("a passed deadline of a running cluster moved to %v from %v", got, before)
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"4h": 4 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"1h30m": 90 * time.Minute, "0": 0, "none": 0, " 2h ": 2 * time.Hour} {
		got, err := ParseTTL(in)
		if err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1h", "30s", "400d", "0d", "4", "4 h", "1e9h", "d", "7d12h", "$(reboot)"} {
		if d, err := ParseTTL(in); err == nil {
			t.Errorf("ParseTTL(%q) = %v, want an error", in, d)
		}
	}
}

// TestAliasedProvider: -provider NAME.ALIAS alone records hosts under the
// key, and the next plan is a no-op (not a replace from "other" to
// "other.lab").
func TestAliasedProvider(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs()
	in.Site, in.Provider = m.writeSite("provider \"other\" {\n  alias = \"lab\"\n}\n"), "other.lab"
	m.apply(in, "apply")
	for n, h := range m.state().Hosts {
		if h.Provider != "other.lab" {
			t.Errorf("%s: provider %q, want other.lab", n, h.Provider)
		}
	}
	pl, err := m.plan(Inputs{Recipe: m.recipe}, "plan")
	if err != nil {
		t.Fatal(err)
	}
	if pl.Plan.HasChanges() {
		t.Fatalf("plan after apply has changes: %+v", pl.Plan.Changes)
	}
	m.apply(Inputs{Recipe: m.recipe}, "destroy")
	if n := m.cloud.Hosts(); n != 0 {
		t.Fatalf("%d hosts left", n)
	}
}

// TestProviderAliasNotDeclared: a provider key NAME.ALIAS that no provider
// block of the site declares (from -provider or default_provider), or with
// nothing after the dot, used to run on NAME's defaults without a word;
// now it is refused, saying where the key came from (the site file's line
// for default_provider) and what to write.
// Nothing is written to the data directory.
func TestProviderAliasNotDeclared(t *testing.T) {
	for _, tc := range []struct {
		site, flag, want string
	}{
		{"", "other.lab", `unknown provider alias "other.lab" (-provider): no provider "other" block of the site file has alias = "lab"; declare one (provider "other" { alias = "lab" ... }) or use other`},
		{"provider \"other\" {\n  alias = \"east\"\n}\n", "other.lab", `unknown provider alias "other.lab" (-provider)`},
		{"", "other.", `provider "other." (-provider) has nothing after the dot: write other, or NAME.ALIAS`},
		{"default_provider = \"other.lab\"\n", "", `site.hcl:1,20-31: Unknown provider alias; default_provider names "other.lab": no provider "other" block`},
		{"default_provider = \"other.\"\n", "", `site.hcl:1,20-28: Invalid provider; default_provider "other." has nothing after the dot`},
		{"provider \"other\" {\n  alias = \"lab\"\n}\n", "other.lab", ""},
	} {
		m := newMemEnv(t)
		in := m.inputs()
		if tc.site != "" {
			in.Site = m.writeSite(tc.site)
		}
		in.Provider = tc.flag
		_, err := m.plan(in, "apply")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("site %q -provider %q: %v", tc.site, tc.flag, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("site %q -provider %q: %v, want %q", tc.site, tc.flag, err, tc.want)
		}
		if tc.want != "" {
			if _, err := os.Stat(m.data); err == nil {
				t.Errorf("site %q -provider %q: the data directory was made", tc.site, tc.flag)
			}
		}
	}
}
