package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

const rememberRecipe = `recipe "mem" {
  description = "remembered inputs"
}

variable "servers" {
  type    = number
  default = 1
}

variable "clients" {
  type    = number
  default = 1
}

variable "zones" {
  type    = list(string)
  default = ["a"]
}

variable "password" {
  type      = string
  default   = ""
  sensitive = true
}

hosts "server" { count = var.servers }
hosts "client" { count = var.clients }

step "serve" {
  on  = hosts.server
  run = "serve ${shellquote(join(",", var.zones))}"
}

step "login" {
  on  = hosts.server
  run = "login ${shellquote(var.password)}"
}

step "mount" {
  on  = hosts.client
  run = "mount ${hosts.server[0].private_ip}"
}

verify "roundtrip" {
  on   = hosts.client
  path = "/mnt"
}
`

const secret = "S3CRET-pw-8811"

// memEnv is a data directory and a recipe on simulated hosts; every
// command gets a fresh Env, as every CLI run is a new process, sharing one
// in-memory cloud.
type memEnv struct {
	t      *testing.T
	data   string
	recipe string
	cloud  *sim.Cloud
}

func newMemEnv(t *testing.T) *memEnv {
	t.Helper()
	dir := t.TempDir()
	recipe := filepath.Join(dir, "mem", "main.hcl")
	if err := os.MkdirAll(filepath.Dir(recipe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recipe, []byte(rememberRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	return &memEnv{t: t, data: filepath.Join(dir, "data"), recipe: recipe, cloud: sim.New()}
}

func (m *memEnv) env() *Env {
	f := m.cloud.Factory()
	return &Env{DataDir: m.data, Factories: map[string]cloud.Factory{"sim": f, "other": f}, Connector: m.cloud.Connector()}
}

func (m *memEnv) inputs(vars ...string) Inputs {
	return Inputs{Recipe: m.recipe, Vars: vars}
}

// plan plans (under the lock for apply and destroy) and closes.
func (m *memEnv) plan(in Inputs, command string) (*Planned, error) {
	m.t.Helper()
	pl, err := m.env().Plan(context.Background(), PlanRequest{Inputs: in, Command: command, Lock: command != "plan", Destroy: command == "destroy"})
	if err == nil {
		m.t.Cleanup(pl.Close)
	}
	return pl, err
}

// apply applies and fails the test on any error.
func (m *memEnv) apply(in Inputs, command string) *Planned {
	m.t.Helper()
	pl, err := m.plan(in, command)
	if err != nil {
		m.t.Fatalf("%s: %v", command, err)
	}
	if !pl.Plan.HasChanges() {
		if err := pl.SaveUnchanged(); err != nil {
			m.t.Fatal(err)
		}
		pl.Close()
		return pl
	}
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	if err != nil || len(res.Failures) > 0 {
		m.t.Fatalf("%s: %v %v", command, err, res.Failures)
	}
	pl.Close()
	return pl
}

func (m *memEnv) state() *state.State {
	m.t.Helper()
	st, err := m.env().ReadState("mem")
	if err != nil {
		m.t.Fatal(err)
	}
	return st
}

func counts(p *engine.Plan) (add, change, destroy int) { return p.Counts() }

// TestRememberedInputs: after apply -var servers=3 -var clients=2 -var
// zones=[...], a plain plan has no changes and says which remembered
// values it used; a -var given now wins over its remembered value; an apply
// records what it took from memory along with what it was given; without
// memory the recipe's defaults come back.
func TestRememberedInputs(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs("servers=3", "clients=2", `zones=["x","y"]`)
	in.Provider = "sim"
	m.apply(in, "apply")

	st := m.state()
	if st.Inputs == nil || st.Inputs.Provider != "sim" || len(st.Inputs.Vars) != 3 {
		t.Fatalf("recorded inputs = %+v", st.Inputs)
	}
	if z := st.Inputs.Vars["zones"]; !sameJSON(z.Type, []byte(`["list","string"]`)) || !sameJSON(z.Value, []byte(`["x","y"]`)) {
		t.Errorf("zones recorded as %s %s", z.Type, z.Value)
	}
	if _, ok := st.Inputs.Vars["password"]; ok {
		t.Errorf("password was not given, yet it is recorded: %+v", st.Inputs.Vars["password"])
	}

	pl, err := m.plan(m.inputs(), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if a, c, d := counts(pl.Plan); a+c+d != 0 {
		t.Errorf("a plain plan after apply plans %d/%d/%d changes", a, c, d)
	}
	used := pl.WS.Remembered
	if used == nil || len(used.Vars) != 3 || used.Provider != "sim" {
		t.Fatalf("remembered values used = %+v", used)
	}
	if got := pl.WS.Loaded.Vars["servers"]; !got.RawEquals(cty.NumberIntVal(3)) {
		t.Errorf("servers = %#v, want the remembered 3", got)
	}

	// -var now wins; the rest still comes from memory.
	pl, err = m.plan(m.inputs("servers=4"), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if a, _, _ := counts(pl.Plan); a == 0 {
		t.Error("servers=4 over a remembered 3 adds nothing")
	}
	if _, ok := pl.WS.Remembered.Vars["servers"]; ok || len(pl.WS.Remembered.Vars) != 2 {
		t.Errorf("remembered used with -var servers=4: %+v", pl.WS.Remembered.Vars)
	}
	// An apply with one new -var records it with the remembered rest.
	m.apply(m.inputs("servers=4"), "apply")
	st = m.state()
	if v := st.Inputs.Vars["servers"]; !sameJSON(v.Value, []byte("4")) || len(st.Inputs.Vars) != 3 || st.Inputs.Provider != "sim" {
		t.Errorf("after apply -var servers=4: %+v", st.Inputs)
	}

	// Without memory: defaults, so the plan shrinks the cluster back.
	noMem := m.inputs()
	noMem.IgnoreRemembered, noMem.Provider = true, "sim"
	pl, err = m.plan(noMem, "plan")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, d := counts(pl.Plan); d == 0 || pl.WS.Remembered != nil {
		t.Errorf("-remembered=false: %d destroys, used %+v", d, pl.WS.Remembered)
	}

	// destroy takes the provider from memory and leaves the memory as it is.
	pl = m.apply(m.inputs(), "destroy")
	if pl.WS.Provider != "sim" {
		t.Errorf("destroy used provider %q", pl.WS.Provider)
	}
	st = m.state()
	if len(st.Hosts) != 0 || st.Inputs == nil || !sameJSON(st.Inputs.Vars["servers"].Value, []byte("4")) {
		t.Errorf("after destroy: %d hosts, inputs %+v", len(st.Hosts), st.Inputs)
	}
}

// TestRememberedSensitive: a sensitive variable is recorded as a salted
// digest and its value is nowhere in the workspace directory; not given
// again, loading fails naming it; given again unchanged, its digest stays;
// changed, it is an update and a new digest.
func TestRememberedSensitive(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs("password="+secret, "servers=2")
	in.Provider = "sim"
	m.apply(in, "apply")

	noSecretIn := func(when string) {
		t.Helper()
		_ = filepath.WalkDir(filepath.Join(m.data, "mem"), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), secret) {
				t.Errorf("%s: %s holds the secret", when, p)
			}
			return nil
		})
	}
	noSecretIn("after apply")
	pw := m.state().Inputs.Vars["password"]
	if !pw.Sensitive || len(pw.Value) != 0 || !strings.HasPrefix(pw.Digest, "sha256:") || len(pw.Salt) != 32 {
		t.Fatalf("password recorded as %+v", pw)
	}

	for _, command := range []string{"plan", "apply", "destroy"} {
		_, err := m.plan(m.inputs(), command)
		var de *DiagError
		if !errors.As(err, &de) || !strings.Contains(de.Error(), "Sensitive variable not given again") ||
			!strings.Contains(de.Diags[0].Detail, "-var password=") {
			t.Errorf("%s without the sensitive variable: %v", command, err)
		}
	}
	if _, _, _, err := m.env().OpenApplied(context.Background(), m.inputs(), "verify"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("verify without the sensitive variable: %v", err)
	}

	// Given again, unchanged: nothing to do, the digest stays.
	pl := m.apply(m.inputs("password="+secret), "apply")
	if pl.Plan.HasChanges() {
		t.Error("the same password again plans changes")
	}
	if got := m.state().Inputs.Vars["password"]; got.Digest != pw.Digest || got.Salt != pw.Salt {
		t.Errorf("digest after the same value: %s, was %s", got.Digest, pw.Digest)
	}
	// Changed: an update, and a new digest.
	pl = m.apply(m.inputs("password=another-"+secret), "apply")
	if _, c, _ := counts(pl.Plan); c == 0 {
		t.Error("a changed password plans no update")
	}
	if got := m.state().Inputs.Vars["password"]; got.Digest == pw.Digest {
		t.Error("a changed password kept its digest")
	}
	noSecretIn("after the change")
}

// TestRememberedSiteAndProvider: the site file and provider of the last
// apply are used when none is given; a site file that went away is an
// error naming it; -provider given now wins.
func TestRememberedSiteAndProvider(t *testing.T) {
	m := newMemEnv(t)
	site := filepath.Join(t.TempDir(), "lab.hcl")
	if err := os.WriteFile(site, []byte("default_provider = \"sim\"\nvariables {\n  clients = 2\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := m.inputs()
	in.Site = site
	m.apply(in, "apply")
	st := m.state()
	if st.Inputs.Site != site || st.Inputs.SiteAbs != site || st.Inputs.Provider != "sim" || len(st.Inputs.Vars) != 0 {
		t.Fatalf("recorded %+v", st.Inputs)
	}

	pl, err := m.plan(m.inputs(), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if pl.Plan.HasChanges() || pl.WS.Site == nil || pl.WS.Provider != "sim" {
		t.Errorf("plain plan: changes %v, site %v, provider %s", pl.Plan.HasChanges(), pl.WS.Site, pl.WS.Provider)
	}
	// The provider is the remembered site's default: memory changed nothing there.
	if u := pl.WS.Remembered; u == nil || u.Site != site || u.Provider != "" {
		t.Errorf("used %+v, want the site only", u)
	}

	// Another provider while hosts run on this one: an error naming both
	// and what to do (the engine would destroy them through the wrong one).
	for _, command := range []string{"plan", "apply", "destroy"} {
		_, err = m.plan(Inputs{Recipe: m.recipe, Provider: "other"}, command)
		if err == nil || !strings.Contains(err.Error(), "run on provider sim, and this command would use other") ||
			!strings.Contains(err.Error(), "diffuser destroy "+m.recipe+" -provider sim") {
			t.Errorf("%s -provider other over sim hosts: %v", command, err)
		}
	}
	// Once they are gone, -provider given now wins over memory and is recorded.
	m.apply(m.inputs(), "destroy")
	pl, err = m.plan(Inputs{Recipe: m.recipe, Provider: "other"}, "plan")
	if err != nil {
		t.Fatal(err)
	}
	if pl.WS.Provider != "other" || pl.WS.Remembered.Provider != "" {
		t.Errorf("-provider other: provider %s, used %+v", pl.WS.Provider, pl.WS.Remembered)
	}
	m.apply(Inputs{Recipe: m.recipe, Provider: "other"}, "apply")
	if p := m.state().Inputs.Provider; p != "other" {
		t.Errorf("recorded provider %s after apply -provider other", p)
	}

	if err := os.Remove(site); err != nil {
		t.Fatal(err)
	}
	_, err = m.plan(m.inputs(), "plan")
	if err == nil || !strings.Contains(err.Error(), site) || !strings.Contains(err.Error(), "-site FILE") || !strings.Contains(err.Error(), "-remembered=false") {
		t.Errorf("the remembered site file is gone: %v", err)
	}
}

// TestRememberedVerifyBench: verify and bench open the applied workspace
// with the remembered variables, so they see the hosts apply made.
func TestRememberedVerifyBench(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs("clients=3")
	in.Provider = "sim"
	m.apply(in, "apply")
	ws, _, closeConn, err := m.env().OpenApplied(context.Background(), m.inputs(), "verify")
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	if ws.Loaded.Counts["client"] != 3 || ws.Remembered == nil || ws.Provider != "sim" {
		t.Errorf("verify sees %d clients, used %+v, provider %s", ws.Loaded.Counts["client"], ws.Remembered, ws.Provider)
	}
}

// TestRememberedChangedUnderLock: when another apply changes the
// remembered inputs between a command's load and its lock, the command
// stops rather than plan with the old ones.
func TestRememberedChangedUnderLock(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs("servers=2")
	in.Provider = "sim"
	m.apply(in, "apply")
	ws, err := m.env().Load(m.inputs())
	if err != nil {
		t.Fatal(err)
	}
	m.apply(m.inputs("servers=3"), "apply")
	_, err = ws.plan(context.Background(), PlanRequest{Inputs: m.inputs(), Command: "apply", Lock: true})
	ws.Close()
	if err == nil || !strings.Contains(err.Error(), "another apply changed") {
		t.Errorf("plan with stale remembered inputs: %v", err)
	}
}

// TestRememberedSimulate: a workspace applied with --simulate names the
// flag when used without it.
func TestRememberedSimulate(t *testing.T) {
	m := newMemEnv(t)
	e := &Env{DataDir: m.data, Sim: SimOptions{Enabled: true}}
	pl, err := e.Plan(context.Background(), PlanRequest{Inputs: m.inputs(), Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Apply(context.Background(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	_, err = (&Env{DataDir: m.data}).Load(m.inputs())
	if err == nil || !strings.Contains(err.Error(), "--simulate") {
		t.Errorf("load without --simulate: %v", err)
	}
}

// TestRememberedPartialApply: an apply that fails part-way has recorded
// its inputs (before its walk), so a plain plan resumes toward them
// rather than undoing what it launched.
func TestRememberedPartialApply(t *testing.T) {
	m := newMemEnv(t)
	m.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "mount") {
			return 0, 1, "mount: no\n"
		}
		return 0, 0, ""
	}
	in := m.inputs("servers=3", "clients=2")
	in.Provider = "sim"
	pl, err := m.plan(in, "apply")
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	pl.Close()
	if err != nil || len(res.Failures) != 2 {
		t.Fatalf("apply: %v, failures %v", err, res.Failures)
	}
	if st := m.state(); st.Inputs == nil || len(st.Inputs.Vars) != 2 || len(st.Hosts) != 5 {
		t.Fatalf("after a failed apply: %d hosts, inputs %+v", len(st.Hosts), st.Inputs)
	}
	m.cloud.Behavior = nil
	pl, err = m.plan(m.inputs(), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if a, c, d := counts(pl.Plan); d != 0 || a+c != 2 {
		t.Errorf("plain plan after the failed apply: %d to add, %d to change, %d to destroy; want only the 2 failed mounts again", a, c, d)
	}
}

// TestRememberedBeforeWalk: an apply that changes the inputs has them in
// state.json before its first step runs, so a kill mid-apply keeps them.
func TestRememberedBeforeWalk(t *testing.T) {
	m := newMemEnv(t)
	in := m.inputs("servers=1")
	in.Provider = "sim"
	m.apply(in, "apply")
	var mu sync.Mutex
	var seen []string
	m.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		st, err := m.env().ReadState("mem")
		if err == nil && st.Inputs != nil {
			mu.Lock()
			seen = append(seen, string(st.Inputs.Vars["clients"].Value))
			mu.Unlock()
		}
		return 0, 0, ""
	}
	m.apply(m.inputs("clients=2"), "apply")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[0] != "2" {
		t.Errorf("clients in state while the apply ran: %q, want 2 from the start", seen)
	}
}
