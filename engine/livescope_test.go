package engine

import (
	"context"
	"testing"
	"testing/fstest"

	"diffuser/lang"
	"diffuser/state"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const liveScopeRecipe = `
recipe "t" {}
hosts "server" { count = 2 }
hosts "client" { count = 2 }
locals {
  servers = join(",", [for h in hosts.server : h.private_ip])
}
step "key" {
  on  = hosts.server[0]
  run = "make key"
  capture { key = "cat key" }
}
step "use" {
  on  = hosts.client
  run = "use ${step.key.outputs.key} ${local.servers}"
}
output "servers" { value = local.servers }
`

// liveScopeFor plans liveScopeRecipe from empty state and returns the
// live scope of an apply of it that has not started.
func liveScopeFor(t *testing.T) (*liveScope, *applier) {
	t.Helper()
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(liveScopeRecipe)}}
	l, diags := Load(lang.Source{FS: fsys, Dir: "r", Display: "r"}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	st := state.New("")
	p, diags := l.Plan(context.Background(), PlanOptions{State: st, Provider: "sim",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	a := &applier{p: p, g: l.Graph, st: st, index: newHostIndex(st.Hosts), res: &Result{}}
	a.live = newLiveScope(p, a)
	return a.live, a
}

// launched records the hosts of group gi as launched and says the group
// is whole, as the walk does.
func launched(t *testing.T, ls *liveScope, a *applier, group string) {
	t.Helper()
	g := a.g
	gi := -1
	for i, name := range g.Groups {
		if name == group {
			gi = i
		}
	}
	for _, h := range g.GroupHosts[gi] {
		slot := g.Hosts[h]
		a.st.Hosts[slot.Name] = &state.Host{Name: slot.Name, Group: slot.Group, Index: slot.Index, Provider: "sim",
			ProviderID: "id-" + slot.Name, PrivateIP: "10.0.0." + string(rune('1'+slot.Index))}
		ls.hostLaunched(h)
	}
	ls.groupDone(gi)
}

func stepIndex(g *Instances, name string) int {
	for s, st := range g.Steps {
		if st.Name == name {
			return s
		}
	}
	return -1
}

// TestLiveScopeRebuildsOnlyWhatChanged: when a step other expressions
// read finishes, the scope is built again with the groups' values it
// had (a thousand hosts' values are not made again), and only the step's
// value and what reads it are evaluated again.
func TestLiveScopeRebuildsOnlyWhatChanged(t *testing.T) {
	ls, a := liveScopeFor(t)
	launched(t, ls, a, "server")
	s1 := ls.scope()
	if got := s1.Locals["servers"]; !got.RawEquals(cty.StringVal("10.0.0.1,10.0.0.2")) {
		t.Fatalf("local.servers once the servers launched = %#v", got)
	}
	// Planted: a group value or a local built again would not be these.
	planted := cty.ListVal([]cty.Value{cty.StringVal("planted")})
	for gi := range ls.groupVals {
		ls.groupVals[gi].val = planted
	}
	s1.Locals["servers"] = cty.StringVal("planted")

	key := stepIndex(a.g, "key")
	a.st.Steps[InstanceAddr("key", "server[0]")] = &state.Instance{Step: "key", Host: "server[0]", Status: state.StatusApplied,
		Outputs: map[string]string{"key": "K"}}
	ls.stepDone(key)
	s2 := ls.scope()
	if s2 == s1 {
		t.Fatal("the scope was not built again after step.key, which a step reads, finished")
	}
	for group, v := range s2.Hosts {
		if !v.RawEquals(planted) {
			t.Errorf("hosts.%s was built again after a step finished: %#v", group, v)
		}
	}
	if got := s2.Locals["servers"]; !got.RawEquals(cty.StringVal("planted")) {
		t.Errorf("local.servers, which reads no step, was evaluated again: %#v", got)
	}
	args, _, diags := s2.StepArgs(a.g.Steps[stepIndex(a.g, "use")], cty.NilVal)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := args.GetAttr("command"); !got.RawEquals(cty.StringVal("use K planted")) {
		t.Errorf("use's command after step.key finished = %#v", got)
	}
}

// TestLiveScopeHostValuesAtLaunch: a host of a group some expression
// reads gets its value when it launches, not when the group's value is
// built; a host of a group nothing reads does not.
func TestLiveScopeHostValuesAtLaunch(t *testing.T) {
	ls, a := liveScopeFor(t)
	launched(t, ls, a, "server")
	launched(t, ls, a, "client")
	for _, h := range a.g.Hosts {
		made := ls.hostVals[a.g.HostIdx[h.Name]] != cty.NilVal
		if want := h.Group == "server"; made != want {
			t.Errorf("%s: host value made at launch %v, want %v", h.Name, made, want)
		}
	}
}

// TestLiveScopeOutputsRebuildOnlyWhatTheyRead: after the walk, the scope
// for the outputs is built again only if a group or step they read was
// not whole yet. The clients (a group only steps run on, which never
// becomes whole during the walk) are not made whole for outputs that do
// not read them.
func TestLiveScopeOutputsRebuildOnlyWhatTheyRead(t *testing.T) {
	ls, a := liveScopeFor(t)
	launched(t, ls, a, "server")
	ls.stepDone(stepIndex(a.g, "key"))
	ls.scope()
	gen := ls.gen
	ls.stepsAllDone()
	if ls.gen != gen {
		t.Errorf("stepsAllDone started a new generation (%d, was %d) though the outputs read only whole groups and steps", ls.gen, gen)
	}

	ls, _ = liveScopeFor(t) // the servers not launched: the output reads them
	gen = ls.gen
	ls.stepsAllDone()
	if ls.gen == gen {
		t.Error("stepsAllDone kept the generation though the outputs read hosts.server, which was not whole")
	}
}
