package engine_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/engine"

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
		!strings.HasPrefix(diags[0].Detail, "at most one public address") {
		t.Fatalf("load: %s", diags.Error())
	}
}
