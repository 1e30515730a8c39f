package engine_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/state"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const preconditionBody = `
  precondition {
    condition     = contains(host.facts.capabilities, "net_admin")
    error_message = "CTDB needs CAP_NET_ADMIN on ${host.name}."
  }
`

// preconditionRecipe is a recipe whose step ctdb carries pre (a
// precondition block, or "").
func preconditionRecipe(pre string) string {
	return `
recipe "t" {}
hosts "server" { count = 2 }

step "independent" {
  on  = hosts.server
  run = "echo independent"
}

step "ctdb" {
  on  = hosts.server
  run = "echo ctdb"
` + pre + `}

step "after_ctdb" {
  on    = hosts.server
  after = [step.ctdb]
  run   = "echo after"
}
`
}

// containerFacts are the facts of a Docker container with the default
// capabilities: no CAP_NET_ADMIN.
func containerFacts(t *testing.T) string {
	return strings.Replace(defaultSimFacts(t), "000001ffffffffff", "00000000a80425fb", 1)
}

// TestPreconditionFailsInstance: a precondition decided at apply (the
// host's facts are known only once it is launched) fails that instance
// before anything of it runs on the host, naming the step, the
// condition's line and the message; what waits for it is skipped, other
// hosts and independent steps carry on. Once the facts are known, plan
// reports the failure itself.
func TestPreconditionFailsInstance(t *testing.T) {
	w := newWorld(t, preconditionRecipe(preconditionBody))
	w.cloud.SetFacts("server[1]", containerFacts(t))
	p := w.plan()
	res := w.apply(p, 0)
	if len(res.Failures) != 1 {
		t.Fatalf("failures %+v, want the precondition of ctdb on server[1]", res.Failures)
	}
	f := res.Failures[0]
	if f.Addr != `step.ctdb["server[1]"]` || f.Declared != "r/main.hcl:10" || f.Exit != -1 {
		t.Errorf("failure %+v", f)
	}
	for _, want := range []string{`r/main.hcl:15,21-`, `Precondition of step "ctdb" failed: CTDB needs CAP_NET_ADMIN on server[1].`} {
		if !strings.Contains(f.Err.Error(), want) {
			t.Errorf("failure %q lacks %q", f.Err, want)
		}
	}
	ran1 := strings.Join(w.cloud.Commands("server[1]"), "\n")
	if strings.Contains(ran1, "echo ctdb") || strings.Contains(ran1, "echo after") || !strings.Contains(ran1, "echo independent") {
		t.Errorf("server[1] ran %q: want only the independent step", ran1)
	}
	ran0 := strings.Join(w.cloud.Commands("server[0]"), "\n")
	for _, want := range []string{"echo independent", "echo ctdb", "echo after"} {
		if !strings.Contains(ran0, want) {
			t.Errorf("server[0] ran %q, lacks %q", ran0, want)
		}
	}
	if _, ok := w.st.Steps[`step.ctdb["server[1]"]`]; ok && w.st.Steps[`step.ctdb["server[1]"]`].Status == "applied" {
		t.Error("the failed instance is recorded as applied")
	}

	// Facts known now: plan stops with the failure, once, at the condition.
	l := w.load()
	_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	if len(diags) != 1 || diags[0].Summary != `Precondition of step "ctdb" failed` || diags[0].Subject.Start.Line != 15 ||
		!strings.Contains(diags[0].Detail, "CTDB needs CAP_NET_ADMIN on server[1]. Step ctdb (r/main.hcl:10) cannot run on this host.") {
		t.Fatalf("plan: %s", diags.Error())
	}

	// With the capability the host catches up.
	w.cloud.SetFacts("server[1]", "")
	p = w.plan(w.refresh)
	if res := w.apply(p, 0); len(res.Failures) != 0 {
		t.Fatalf("apply with the capability: %+v", res.Failures)
	}
	if ran := strings.Join(w.cloud.Commands("server[1]"), "\n"); !strings.Contains(ran, "echo after") {
		t.Errorf("server[1] ran %q", ran)
	}
}

// TestPreconditionPassingChangesNothing: adding a precondition that holds
// to an applied step plans nothing: it is no argument of the step.
func TestPreconditionPassingChangesNothing(t *testing.T) {
	w := newWorld(t, preconditionRecipe(""))
	if res := w.apply(w.plan(), 0); len(res.Failures) > 0 {
		t.Fatalf("apply: %+v", res.Failures)
	}
	w.src = preconditionRecipe(preconditionBody)
	for _, refresh := range []bool{false, true} {
		var p *engine.Plan
		if refresh {
			p = w.plan(w.refresh)
		} else {
			p = w.plan()
		}
		if s := summary(p); s != "" {
			t.Errorf("refresh=%v: a passing precondition planned:\n%s", refresh, s)
		}
	}
}

// TestPreconditionOnVariablesAtLoad: a precondition that reads only
// variables is decided when the recipe is loaded (validate), before any
// host exists; one that reads facts waits for them.
func TestPreconditionOnVariablesAtLoad(t *testing.T) {
	src := `
recipe "t" {}
variable "public_addresses" {
  type    = list(string)
  default = []
}
hosts "server" { count = 2 }
step "ctdb" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = length(var.public_addresses) < 2
    error_message = "at most one public address"
  }
  precondition {
    condition     = contains(host.facts.capabilities, "net_admin")
    error_message = "no CAP_NET_ADMIN"
  }
}
`
	if _, diags := load(t, src); diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	_, diags := load(t, src, `public_addresses=["a","b"]`)
	if len(diags) != 1 || diags[0].Summary != `Precondition of step "ctdb" failed` || diags[0].Subject.Start.Line != 12 ||
		diags[0].Detail != "at most one public address. Step ctdb (r/main.hcl:8) cannot run." {
		t.Fatalf("load: %s", diags.Error())
	}
}

// applyBuiltin applies a built-in recipe with vars on simulated hosts,
// the hosts in hostFacts answering the facts command with their text,
// and returns the result and the state.
func applyBuiltin(t *testing.T, recipe string, hostFacts map[string]string, vars ...string) (*engine.Result, *state.State) {
	t.Helper()
	_, res, st := builtinApply(t, recipe, hostFacts, vars...)
	return res, st
}

// builtinApply is applyBuiltin that also returns the loaded recipe.
func builtinApply(t *testing.T, recipe string, hostFacts map[string]string, vars ...string) (*engine.Loaded, *engine.Result, *state.State) {
	t.Helper()
	p, st, store := planBuiltin(t, recipe, lang.Inputs{Vars: vars})
	c := sim.New()
	for h, f := range hostFacts {
		c.SetFacts(h, f)
	}
	prov, _ := c.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	res := p.Apply(context.Background(), st, engine.ApplyOptions{Provider: prov, Cluster: "t", Connector: c.Connector(),
		Recorder: recorder{store}, LogDir: t.TempDir()})
	return p.Loaded, res, st
}

// planBuiltin plans a built-in recipe with in on simulated hosts against
// a new state, locked until the test ends.
func planBuiltin(t *testing.T, recipe string, in lang.Inputs) (*engine.Plan, *state.State, *state.Store) {
	t.Helper()
	l, diags := engine.Load(lang.Source{FS: recipes.FS(), Dir: recipe, Display: recipe, Modules: recipes.Modules()},
		in, sim.Kinds(builtin.Kinds(), sim.Profile{}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	store := state.Open(t.TempDir())
	unlock, err := store.Lock(context.Background(), state.CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unlock() })
	st, _ := store.Load()
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: st, Provider: "sim", Settings: noSettings})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p, st, store
}

// TestRecipePreconditionsOnCapabilities: the built-in recipes' capability
// checks. A gateway without CAP_NET_ADMIN fails smb_packages when there
// are public addresses (the other gateway goes on), and nothing when there
// are none; an NFS server without CAP_DAC_READ_SEARCH fails
// server_packages with server = "ganesha", and nothing with "kernel".
func TestRecipePreconditionsOnCapabilities(t *testing.T) {
	container := map[string]string{"gateway[1]": containerFacts(t), "server[0]": containerFacts(t)}
	applied := func(st *state.State, addr string) bool {
		i := st.Steps[addr]
		return i != nil && i.Status == state.StatusApplied
	}
	gw := []string{"servers=2", "replica=2", "clients=0", "smb_gateways=2", "gateway_clients=0"}
	res, st := applyBuiltin(t, "glusterfs", container, append(gw, `gateway_public_addresses=["10.0.0.9/24 eth0"]`)...)
	if len(res.Failures) != 1 || res.Failures[0].Addr != `module.gateways.step.smb_packages["gateway[1]"]` ||
		!strings.Contains(res.Failures[0].Err.Error(), "CTDB public_addresses need CAP_NET_ADMIN, and the capability bounding set of gateway[1] lacks it.") ||
		!strings.HasPrefix(res.Failures[0].Declared, "builtin/gateways/main.hcl:") {
		t.Fatalf("public addresses, gateway[1] without NET_ADMIN: %+v", res.Failures)
	}
	if applied(st, `module.gateways.step.ctdb_nodes["gateway[1]"]`) || !applied(st, `module.gateways.step.smb_packages["gateway[0]"]`) {
		t.Error("gateway[1] went on past its failed precondition, or gateway[0] did not install")
	}
	if res, _ := applyBuiltin(t, "glusterfs", container, gw...); len(res.Failures) != 0 {
		t.Errorf("no public addresses: %+v", res.Failures)
	}

	nfs := []string{"mount=libnfs", "clients=1"}
	res, st = applyBuiltin(t, "nfs", container, append(nfs, "server=ganesha")...)
	if len(res.Failures) != 1 || res.Failures[0].Addr != `step.server_packages["server[0]"]` ||
		!strings.Contains(res.Failures[0].Err.Error(), `NFS-Ganesha (FSAL VFS) needs CAP_DAC_READ_SEARCH for open_by_handle_at(2), and the capability bounding set of server[0] lacks it. In a container, add it (docker run --cap-add DAC_READ_SEARCH); or use server = "kernel".`) {
		t.Fatalf("ganesha without DAC_READ_SEARCH: %+v", res.Failures)
	}
	if applied(st, `step.nfs_ports["server[0]"]`) || !applied(st, `step.client_packages["client[0]"]`) {
		t.Error("server[0] went on past its failed precondition, or the independent client did not")
	}
	if res, _ := applyBuiltin(t, "nfs", container, append(nfs, "server=kernel")...); len(res.Failures) != 0 {
		t.Errorf("kernel server: %+v", res.Failures)
	}
}
