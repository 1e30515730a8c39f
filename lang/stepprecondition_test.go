package lang_test

import (
	"strings"
	"testing"

	"diffuser/facts"
	"diffuser/lang"

	"github.com/zclconf/go-cty/cty"
)

const stepPreconditionRecipe = `recipe "t" {}

variable "public_addresses" {
  type    = list(string)
  default = ["10.0.0.9/24"]
}

hosts "server" { count = 2 }

step "probe" {
  on  = hosts.server
  run = "true"
  capture {
    mode = "echo ok"
  }
}

step "ctdb" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = length(var.public_addresses) == 0 || contains(host.facts.capabilities, "net_admin")
    error_message = "${host.name} lacks CAP_NET_ADMIN (${join(",", host.facts.capabilities)})."
  }
}

step "typed" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = var.public_addresses[0] == "x" ? null : "yes"
    error_message = "never shown"
  }
}

step "reads_output" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = step.probe.outputs.mode == "ok"
    error_message = "probe said ${step.probe.outputs.mode}"
  }
}
`

// TestStepPreconditions: a step's precondition is checked with its
// arguments for one instance: silent when true, decided later while what
// it reads is unknown, a failure naming the step, where it is declared,
// the condition's line and the message when false, and an error naming
// the line when it is not a bool.
func TestStepPreconditions(t *testing.T) {
	r, vars := mustLoad(t, stepPreconditionRecipe, lang.Inputs{})
	host := func(caps ...string) cty.Value {
		info := lang.HostInfo{Name: "server[0]", Group: "server"}
		if caps != nil {
			info.Facts = lang.FactsVal(facts.Facts{Capabilities: caps})
		}
		return info.Val(nil)
	}
	s := &lang.Scope{Recipe: r, Vars: vars, Hosts: map[string]cty.Value{}}
	ctdb := r.Step("ctdb")
	if !ctdb.UsesHost || !ctdb.ReadsFacts {
		t.Errorf("a precondition reading host.facts: UsesHost %v, ReadsFacts %v", ctdb.UsesHost, ctdb.ReadsFacts)
	}
	if _, _, d := s.StepArgs(ctdb, host("chown", "net_admin")); d.HasErrors() {
		t.Errorf("true precondition:%s", diagString(d))
	}
	if _, _, d := s.StepArgs(ctdb, host()); d.HasErrors() {
		t.Errorf("facts not known yet: decided later, got:%s", diagString(d))
	}
	_, _, d := s.StepArgs(ctdb, host("chown"))
	got := diagString(d)
	for _, want := range []string{`main.hcl:22,21: Precondition of step "ctdb" failed: server[0] lacks CAP_NET_ADMIN (chown).`,
		"Step ctdb (t/main.hcl:18) cannot run on this host."} {
		if !strings.Contains(got, want) {
			t.Errorf("false precondition: want %q in:%s", want, got)
		}
	}
	if len(d) != 1 {
		t.Errorf("%d diagnostics, want 1:%s", len(d), got)
	}

	// With no public addresses the capability is not needed.
	r2, vars2 := mustLoad(t, stepPreconditionRecipe, lang.Inputs{Vars: []string{"public_addresses=[]"}})
	s2 := &lang.Scope{Recipe: r2, Vars: vars2, Hosts: map[string]cty.Value{}}
	if _, _, d := s2.StepArgs(r2.Step("ctdb"), host("chown")); d.HasErrors() {
		t.Errorf("no public addresses:%s", diagString(d))
	}

	_, _, d = s.StepArgs(r.Step("typed"), host())
	if got := diagString(d); len(d) != 1 || !strings.Contains(got, "main.hcl:31,21: Invalid precondition:") || !strings.Contains(got, "this one is a string") {
		t.Errorf("string condition:%s", got)
	}
	r3, vars3 := mustLoad(t, stepPreconditionRecipe, lang.Inputs{Vars: []string{`public_addresses=["x"]`}})
	s3 := &lang.Scope{Recipe: r3, Vars: vars3, Hosts: map[string]cty.Value{}}
	_, _, d = s3.StepArgs(r3.Step("typed"), host())
	if got := diagString(d); len(d) != 1 || !strings.Contains(got, "main.hcl:31,21: Invalid precondition:") || !strings.Contains(got, "this one is null") {
		t.Errorf("null condition:%s", got)
	}

	// Reading a step's outputs makes the step wait for it; unknown
	// outputs decide nothing yet.
	ro := r.Step("reads_output")
	if len(ro.RefSteps) != 1 || ro.RefSteps[0].Name != "probe" {
		t.Errorf("reads_output depends on %+v, want probe", ro.RefSteps)
	}
	s.Steps = map[string]cty.Value{"probe": cty.ObjectVal(map[string]cty.Value{
		"outputs": cty.UnknownVal(cty.Object(map[string]cty.Type{"mode": cty.String}))})}
	if _, _, d := s.StepArgs(ro, host()); d.HasErrors() {
		t.Errorf("outputs not known yet:%s", diagString(d))
	}
	s.Steps = map[string]cty.Value{"probe": cty.ObjectVal(map[string]cty.Value{
		"outputs": cty.ObjectVal(map[string]cty.Value{"mode": cty.StringVal("degraded")})})}
	s.Changed()
	if _, _, d := s.StepArgs(ro, host()); !strings.Contains(diagString(d), "probe said degraded") {
		t.Errorf("outputs known:%s", diagString(d))
	}
}
