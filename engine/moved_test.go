package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/static"
	"diffuser/engine"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// movedRefresher says one host is now reached another way (as the static
// provider does when ~/.ssh/config changed).
type movedRefresher struct {
	simRefresher
	host string
}

func (r movedRefresher) HostStatus(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Status, error) {
	if spec.Name == r.host {
		return cloud.Moved, nil
	}
	return r.simRefresher.HostStatus(ctx, spec, h)
}

// A moved host is launched again (which records the new way to reach it),
// keeps its pinned host key, and re-runs nothing that ran on it.
func TestRefreshRelaunchesMovedHost(t *testing.T) {
	w := newWorld(t, twoGroups)
	w.apply(w.plan(), 0)
	w.st.Hosts["a[0]"].SSH.HostKey = "ssh-ed25519 AAAApinned"
	before := map[string]state.Instance{}
	for addr, in := range w.st.Steps {
		before[addr] = *in
	}
	p := w.plan(func(o *engine.PlanOptions) { o.Refresh = movedRefresher{simRefresher{w}, "a[0]"} })
	got := summary(p)
	if !strings.Contains(got, `~ launch["a[0]"] (reached another way now: ssh settings changed (found by refresh))`) {
		t.Fatalf("plan lacks the moved host:\n%s", got)
	}
	if strings.Contains(got, "launch[\"a[1]\"]") || strings.Contains(got, "-/+") {
		t.Fatalf("plan replaces or touches other hosts:\n%s", got)
	}
	if p.Drift != 1 {
		t.Errorf("drift = %d, want 1", p.Drift)
	}
	if res := w.apply(p, 0); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	if k := w.st.Hosts["a[0]"].SSH.HostKey; k != "ssh-ed25519 AAAApinned" {
		t.Errorf("pinned host key after relaunch = %q", k)
	}
	for addr, in := range w.st.Steps {
		if b, ok := before[addr]; !ok || !b.Started.Equal(in.Started) {
			t.Errorf("%s ran again", addr)
		}
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("not converged:\n%s", summary(p))
	}
}

// Settings that only say how hosts are reached stay out of the launch
// digest: adding or changing one replaces nothing.
func TestReachSettingsStayOutOfLaunchDigest(t *testing.T) {
	w := newWorld(t, twoGroups)
	base := map[string]cty.Value{"image": cty.StringVal("debian")}
	with := func(extra map[string]cty.Value, reach []string) func(*engine.PlanOptions) {
		return func(o *engine.PlanOptions) {
			m := map[string]cty.Value{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			o.Settings = func(string) (cty.Value, hcl.Diagnostics) { return cty.ObjectVal(m), nil }
			o.ReachSettings = reach
		}
	}
	w.apply(w.plan(with(nil, nil)), 0)
	reach := []string{"ssh_config"}
	for _, v := range []cty.Value{cty.NullVal(cty.String), cty.StringVal("/a"), cty.StringVal("")} {
		if p := w.plan(with(map[string]cty.Value{"ssh_config": v}, reach)); p.HasChanges() {
			t.Errorf("ssh_config = %#v changed the plan:\n%s", v, summary(p))
		}
	}
	if p := w.plan(with(map[string]cty.Value{"ssh_config": cty.StringVal("/a")}, nil)); !strings.Contains(summary(p), "-/+ launch") {
		t.Errorf("without ReachSettings a new setting must replace (the test would prove nothing):\n%s", summary(p))
	}
	if p := w.plan(with(map[string]cty.Value{"image": cty.StringVal("ubuntu"), "ssh_config": cty.StringVal("/a")}, reach)); !strings.Contains(summary(p), "-/+ launch") {
		t.Errorf("other settings still replace:\n%s", summary(p))
	}
}

// A setting that becomes a reach setting (static's key_file and jump)
// replaces nothing already built: a host recorded while the launch digest
// still held it, at the value it has now, set or not, plans as a no-op;
// once recorded in the new form, changing the setting replaces nothing.
// Changing it on a host recorded in the old form replaces it, as it did.
func TestFormerReachSettingsKeepRecordedHosts(t *testing.T) {
	for _, key := range []cty.Value{cty.NullVal(cty.String), cty.StringVal("/keys/a")} {
		w := newWorld(t, twoGroups)
		with := func(key cty.Value, reach, former []string) func(*engine.PlanOptions) {
			return func(o *engine.PlanOptions) {
				m := map[string]cty.Value{"image": cty.StringVal("debian"), "key_file": key}
				o.Settings = func(string) (cty.Value, hcl.Diagnostics) { return cty.ObjectVal(m), nil }
				o.ReachSettings, o.FormerReachSettings = reach, former
			}
		}
		// Built when key_file was in the digest.
		w.apply(w.plan(with(key, []string{"ssh_config"}, nil)), 0)
		reach, former := []string{"ssh_config", "key_file"}, []string{"key_file"}
		if p := w.plan(with(key, reach, former)); p.HasChanges() {
			t.Errorf("key_file %#v: a host recorded with key_file in its digest is replaced once key_file is a reach setting:\n%s", key, summary(p))
		}
		if p := w.plan(with(key, reach, nil)); !strings.Contains(summary(p), "-/+ launch") {
			t.Errorf("key_file %#v: without FormerReachSettings the old digest must replace (the test would prove nothing):\n%s", key, summary(p))
		}
		if p := w.plan(with(cty.StringVal("/keys/b"), reach, former)); !strings.Contains(summary(p), "-/+ launch") {
			t.Errorf("key_file %#v: without RecordedReach a new key on a host recorded in the old form must replace (the test would prove nothing):\n%s", key, summary(p))
		}
		// What the host's record says it was launched with is tried too:
		// a key changed since then replaces nothing either.
		recorded := func(o *engine.PlanOptions) {
			o.RecordedReach = func([]cloud.Host, int, cty.Value) map[string][]cty.Value {
				return map[string][]cty.Value{"key_file": {key}}
			}
		}
		if p := w.plan(with(cty.StringVal("/keys/b"), reach, former), recorded); p.HasChanges() {
			t.Errorf("key_file %#v -> /keys/b on a host recorded in the old form replaces it:\n%s", key, summary(p))
		}
		if p := w.plan(with(cty.StringVal("/keys/b"), reach, former), func(o *engine.PlanOptions) {
			o.RecordedReach = func([]cloud.Host, int, cty.Value) map[string][]cty.Value {
				return map[string][]cty.Value{"key_file": {cty.StringVal("/keys/other")}}
			}
		}); !strings.Contains(summary(p), "-/+ launch") {
			t.Errorf("key_file %#v: a record that matches neither value still kept the host:\n%s", key, summary(p))
		}
	}
	// Built with key_file a reach setting: a new key replaces nothing.
	w := newWorld(t, twoGroups)
	with := func(key string) func(*engine.PlanOptions) {
		return func(o *engine.PlanOptions) {
			m := map[string]cty.Value{"image": cty.StringVal("debian"), "key_file": cty.StringVal(key)}
			o.Settings = func(string) (cty.Value, hcl.Diagnostics) { return cty.ObjectVal(m), nil }
			o.ReachSettings, o.FormerReachSettings = []string{"key_file"}, []string{"key_file"}
		}
	}
	w.apply(w.plan(with("/keys/a")), 0)
	if p := w.plan(with("/keys/b")); p.HasChanges() {
		t.Errorf("a new key_file changed the plan:\n%s", summary(p))
	}
}

// statusRefresher says one host has the given status.
type statusRefresher struct {
	simRefresher
	host   string
	status cloud.Status
}

func (r statusRefresher) HostStatus(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Status, error) {
	if spec.Name == r.host {
		return r.status, nil
	}
	return r.simRefresher.HostStatus(ctx, spec, h)
}

const readsHost = `
recipe "t" {}
hosts "a" { count = 2 }
step "addr" {
  on  = hosts.a
  run = "echo ${host.private_ip}"
}
step "cores" {
  on  = hosts.a
  run = "echo ${host.facts.cores}"
}
step "plain" {
  on  = hosts.a
  run = "echo plain"
}
`

// TestReroutedHostKeepsWhatStepsRead: a host reached another way at the
// same addresses (a new key_file or jump on static, a new package cache
// on docker) is launched again to record it, and nothing else is planned:
// what steps read of it (addresses, facts) is known at plan. A host that
// moved to other addresses plans the steps on it as known after apply.
func TestReroutedHostKeepsWhatStepsRead(t *testing.T) {
	w := newWorld(t, readsHost)
	applyOK(t, w, w.plan(w.refresh))
	before := map[string]state.Instance{}
	for addr, in := range w.st.Steps {
		before[addr] = *in
	}
	rerouted := w.plan(func(o *engine.PlanOptions) { o.Refresh = statusRefresher{simRefresher{w}, "a[0]", cloud.Rerouted} })
	got := summary(rerouted)
	if add, change, destroy := rerouted.Counts(); add != 0 || change != 1 || destroy != 0 ||
		!strings.Contains(got, `~ launch["a[0]"] (reached or set up another way now, at the same addresses (found by refresh))`) {
		t.Fatalf("a rerouted host plans more than its launch (%d/%d/%d):\n%s", add, change, destroy, got)
	}
	moved := w.plan(func(o *engine.PlanOptions) { o.Refresh = statusRefresher{simRefresher{w}, "a[0]", cloud.Moved} })
	got = summary(moved)
	for _, want := range []string{`step.addr["a[0]"]`, `step.cores["a[0]"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("a moved host's %s is not planned (known after apply):\n%s", want, got)
		}
	}
	if strings.Contains(got, `["a[1]"]`) {
		t.Errorf("a moved host plans other hosts' steps:\n%s", got)
	}
	applyOK(t, w, rerouted)
	for addr, in := range w.st.Steps {
		if b := before[addr]; !b.Started.Equal(in.Started) {
			t.Errorf("%s ran again", addr)
		}
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Fatalf("not converged:\n%s", summary(p))
	}
}

// A static group recorded while its addresses were in the launch digest
// (the digest of every host holds the whole list) may grow, shrink or
// have another host's address changed without replacing the hosts it
// keeps: the list the records say it was is tried (static RecordedReach).
func TestStaticAddressesBeforeUpgrade(t *testing.T) {
	const src = `
recipe "t" {}
variable "n" { type = number }
hosts "a" { count = var.n }
step "s" {
  on  = hosts.a
  run = "echo"
}
`
	launched := []string{"10.0.0.1", "10.0.0.2"}
	with := func(recorded bool, addrs ...string) func(*engine.PlanOptions) {
		return func(o *engine.PlanOptions) {
			m := map[string]cty.Value{"addresses": strList(addrs), "user": cty.NullVal(cty.String), "port": cty.NullVal(cty.Number),
				"key_file": cty.NullVal(cty.String), "jump": cty.NullVal(cty.String)}
			o.Settings = func(string) (cty.Value, hcl.Diagnostics) { return cty.ObjectVal(m), nil }
			o.ReachSettings, o.FormerReachSettings = static.Factory{}.ReachSettings(), static.Factory{}.FormerReachSettings()
			if recorded {
				// The sim's hosts, with the ids static gave them.
				o.RecordedReach = func(group []cloud.Host, i int, present cty.Value) map[string][]cty.Value {
					g := slices.Clone(group)
					for k := range g {
						g[k].ProviderID = "static:root@" + launched[k] + ":22"
					}
					return static.Factory{}.RecordedReach(g, i, present)
				}
			}
		}
	}
	w := newWorld(t, src)
	w.vars = []string{"n=2"}
	w.apply(w.plan(with(false, launched...), func(o *engine.PlanOptions) {
		o.ReachSettings, o.FormerReachSettings = []string{"ssh_config", "package_cache", "key_file", "jump"}, nil // before
	}), 0)
	for _, tc := range []struct {
		n     string
		addrs []string
	}{
		{"n=2", launched},
		{"n=3", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}},
		{"n=1", []string{"10.0.0.1"}},
		{"n=2", []string{"10.0.0.1", "10.0.0.5"}},
	} {
		w.vars = []string{tc.n}
		if got := summary(w.plan(with(true, tc.addrs...))); strings.Contains(got, `launch["a[0]"]`) {
			t.Errorf("addresses %v: a[0], recorded before, is planned:\n%s", tc.addrs, got)
		}
	}
	w.vars = []string{"n=3"}
	if got := summary(w.plan(with(false, "10.0.0.1", "10.0.0.2", "10.0.0.3"))); !strings.Contains(got, `-/+ launch["a[0]"]`) {
		t.Errorf("without RecordedReach the grown list must replace a[0] (the test would prove nothing):\n%s", got)
	}
}

func strList(vs []string) cty.Value {
	out := make([]cty.Value, len(vs))
	for i, v := range vs {
		out[i] = cty.StringVal(v)
	}
	return cty.ListVal(out)
}
