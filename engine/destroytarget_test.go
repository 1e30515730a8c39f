package engine_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"diffuser/engine"
)

// layered: servers with per-host steps, one step on server[0] that waits
// for every server, clients that mount what it made.
const layered = `recipe "t" {}
hosts "server" { count = 2 }
hosts "client" { count = 2 }
step "pkg" {
  on      = hosts.server
  run     = "echo pkg"
  destroy = "echo undo-pkg on ${host.name}"
}
step "svc" {
  on      = hosts.server
  after   = [step.pkg]
  run     = "echo svc"
  destroy = "echo undo-svc on ${host.name}"
}
step "vol" {
  on      = hosts.server[0]
  after   = [step.svc]
  run     = "echo vol"
  destroy = "echo undo-vol"
}
step "cpkg" {
  on      = hosts.client
  run     = "echo cpkg"
  destroy = "echo undo-cpkg"
}
step "mount" {
  on      = hosts.client
  after   = [step.vol, step.cpkg]
  run     = "echo mount"
  destroy = "echo undo-mount on ${host.name}"
}
output "servers" { value = join(",", [for h in hosts.server : h.private_ip]) }
output "clients" { value = join(",", [for h in hosts.client : h.private_ip]) }
`

func destroyReasons(p *engine.Plan) map[string]string {
	out := map[string]string{}
	for _, c := range p.Destroys {
		out[c.Addr] = c.Reason
	}
	return out
}

func targeted(targets ...string) func(*engine.PlanOptions) {
	return func(o *engine.PlanOptions) { o.Destroy, o.Targets = true, targets }
}

// TestDestroyTargetHostTakesDependents: destroying one server takes the
// steps on it, the step on the other server that waits for every server,
// and the clients' mounts that wait for that step — nothing else. The
// plan says why each goes; only their destroy commands run; the output
// reading the servers is forgotten, the clients' stays; the next apply
// brings back exactly what went.
func TestDestroyTargetHostTakesDependents(t *testing.T) {
	w := newWorld(t, layered)
	if res := w.apply(w.plan(), 8); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	clients := w.st.Outputs["clients"]
	p := w.plan(targeted("server[1]"))
	want := map[string]string{
		`launch["server[1]"]`:     "targeted",
		`step.pkg["server[1]"]`:   "its host server[1] is destroyed",
		`step.svc["server[1]"]`:   "its host server[1] is destroyed",
		`step.vol["server[0]"]`:   `depends on step.svc["server[1]"], which is destroyed`,
		`step.mount["client[0]"]`: `depends on step.vol["server[0]"], which is destroyed`,
		`step.mount["client[1]"]`: `depends on step.vol["server[0]"], which is destroyed`,
	}
	if got := destroyReasons(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("destroys:\n%v\nwant:\n%v", got, want)
	}
	if p.DestroyAll || p.Dependents() != 5 {
		t.Errorf("DestroyAll %v, Dependents %d; want false, 5", p.DestroyAll, p.Dependents())
	}
	if res := w.apply(p, 8); len(res.Failures) != 0 {
		t.Fatalf("targeted destroy: %v", res.Failures)
	}
	for cmd, n := range map[string]int{"undo-mount on client[0]": 1, "undo-mount on client[1]": 1, "undo-vol": 1,
		"undo-svc on server[1]": 1, "undo-pkg on server[1]": 1, "undo-svc on server[0]": 0, "undo-pkg on server[0]": 0, "undo-cpkg": 0} {
		if got := w.cloud.CountMatching(cmd); got != n {
			t.Errorf("%q ran %d times, want %d", cmd, got, n)
		}
	}
	var hosts, insts []string
	for h := range w.st.Hosts {
		hosts = append(hosts, h)
	}
	for a := range w.st.Steps {
		insts = append(insts, a)
	}
	sort.Strings(hosts)
	sort.Strings(insts)
	if want := []string{"client[0]", "client[1]", "server[0]"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("hosts left: %v, want %v", hosts, want)
	}
	if want := []string{`step.cpkg["client[0]"]`, `step.cpkg["client[1]"]`, `step.pkg["server[0]"]`, `step.svc["server[0]"]`}; !reflect.DeepEqual(insts, want) {
		t.Errorf("instances left: %v, want %v", insts, want)
	}
	if w.cloud.Hosts() != 3 {
		t.Errorf("the cloud has %d hosts, want 3", w.cloud.Hosts())
	}
	if _, ok := w.st.Outputs["servers"]; ok {
		t.Errorf("output servers outlived server[1]: %v", w.st.Outputs)
	}
	if w.st.Outputs["clients"] != clients {
		t.Errorf("output clients = %v, want it kept as %v", w.st.Outputs["clients"], clients)
	}

	again := w.plan()
	if got := summary(again); !strings.Contains(got, `+ launch["server[1]"]`) || strings.Contains(got, `step.cpkg`) ||
		strings.Count(got, "+ ") != 6 {
		t.Errorf("the apply after a targeted destroy plans:\n%s\nwant the 6 destroyed things back, nothing else", got)
	}
	if res := w.apply(again, 8); len(res.Failures) != 0 || len(w.st.Steps) != 9 || w.st.Outputs["servers"].Value == "" {
		t.Errorf("re-apply: failures %v, %d instances, outputs %v", res.Failures, len(w.st.Steps), w.st.Outputs)
	}
}

// TestDestroyTargetInstance: one step instance goes with what waits for
// it — the paired instance on its host, and through the all-instances
// wait everything downstream — but not its siblings on other hosts.
func TestDestroyTargetInstance(t *testing.T) {
	w := newWorld(t, layered)
	w.apply(w.plan(), 8)
	p := w.plan(targeted(`step.pkg["server[0]"]`))
	want := map[string]string{
		`step.pkg["server[0]"]`:   "targeted",
		`step.svc["server[0]"]`:   `depends on step.pkg["server[0]"], which is destroyed`,
		`step.vol["server[0]"]`:   `depends on step.svc["server[0]"], which is destroyed`,
		`step.mount["client[0]"]`: `depends on step.vol["server[0]"], which is destroyed`,
		`step.mount["client[1]"]`: `depends on step.vol["server[0]"], which is destroyed`,
	}
	if got := destroyReasons(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("destroys:\n%v\nwant:\n%v", got, want)
	}
	w.apply(p, 8)
	if len(w.st.Hosts) != 4 || w.cloud.Hosts() != 4 || len(w.st.Steps) != 4 {
		t.Errorf("after destroying an instance: %d hosts in state, %d in the cloud, %d instances; want 4, 4, 4",
			len(w.st.Hosts), w.cloud.Hosts(), len(w.st.Steps))
	}
	if w.cloud.CountMatching("undo-pkg on server[1]") != 0 || w.cloud.CountMatching("undo-pkg on server[0]") != 1 {
		t.Errorf("undo-pkg ran on server[0] %d times, on server[1] %d times; want 1, 0",
			w.cloud.CountMatching("undo-pkg on server[0]"), w.cloud.CountMatching("undo-pkg on server[1]"))
	}
}

// TestDestroyTargetLeafAndGroup: a step nothing depends on goes alone;
// hosts.GROUP takes the whole group and what depends on it; every host
// gone means the whole cluster is gone.
func TestDestroyTargetLeafAndGroup(t *testing.T) {
	w := newWorld(t, layered)
	w.apply(w.plan(), 8)
	p := w.plan(targeted("step.mount"))
	if got := destroyReasons(p); len(got) != 2 || got[`step.mount["client[0]"]`] != "targeted" || p.Dependents() != 0 {
		t.Errorf("destroy -target step.mount: %v (dependents %d)", got, p.Dependents())
	}
	p = w.plan(targeted("hosts.client", "hosts.server"))
	if got := destroyReasons(p); len(got) != 13 {
		t.Errorf("destroy of every group: %d destroys, want 13 (4 hosts, 9 instances): %v", len(got), got)
	}
	w.apply(p, 8)
	if len(w.st.Hosts) != 0 || len(w.st.Steps) != 0 || w.cloud.Hosts() != 0 || len(w.st.Outputs) != 0 {
		t.Errorf("left: %d hosts, %d instances, %d in the cloud, outputs %v", len(w.st.Hosts), len(w.st.Steps), w.cloud.Hosts(), w.st.Outputs)
	}
}

// TestDestroyTargetUnknown: a target that names nothing in state is an
// error naming it, and nothing is planned.
func TestDestroyTargetUnknown(t *testing.T) {
	w := newWorld(t, layered)
	w.apply(w.plan(), 8)
	l := mustLoad(t, layered)
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Destroy: true,
		Targets: []string{"server[7]", "server[1]"}, Workspace: "lab"})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `"server[7]" matches nothing`) ||
		!strings.Contains(diags.Error(), "(diffuser state list lab lists what there is). State holds these hosts of group server: server[0], server[1].") {
		t.Fatalf("diags: %v", diags)
	}
	if len(p.Destroys) != 0 {
		t.Errorf("planned %d destroys despite the error", len(p.Destroys))
	}
	// A typo of what state holds says the near address.
	for target, want := range map[string]string{
		"step.svcc":              `Did you mean step.svc?`,
		`step.mont["client[1]"]`: `Did you mean step.mount["client[1]"]?`,
		"hosts.clien":            `Did you mean hosts.client?`,
		"sever[1]":               `Did you mean server[1]?`,
		"step.unrelated":         "",
	} {
		_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Destroy: true, Targets: []string{target}})
		if !diags.HasErrors() || (want != "" && !strings.Contains(diags.Error(), want)) || (want == "" && strings.Contains(diags.Error(), "Did you mean")) {
			t.Errorf("destroy -target %s: %v, want %q", target, diags, want)
		}
	}
}

// TestApplyTargetRemovedStep: apply -target of a step the recipe no
// longer has destroys it (and only it); other removals wait.
func TestApplyTargetRemovedStep(t *testing.T) {
	w := newWorld(t, layered)
	w.apply(w.plan(), 8)
	w.src = strings.Replace(strings.Replace(layered, `step "cpkg"`, `step "cpkg_old"`, 1), `step.cpkg]`, `]`, 1)
	w.src = strings.Replace(w.src, "after   = [step.vol, ]", "after   = [step.vol]", 1)
	p := w.plan(func(o *engine.PlanOptions) { o.Targets = []string{"step.cpkg"} })
	if got := destroyReasons(p); len(got) != 2 || got[`step.cpkg["client[1]"]`] != "no longer in the recipe" {
		t.Errorf("apply -target step.cpkg after removing it: destroys %v", got)
	}
	if len(p.Changes) != 0 {
		t.Errorf("changes besides the targeted removal: %s", summary(p))
	}
}

// TestDestroyTargetHostNotInRecipe: a host state has but the recipe, as
// loaded with these variables, does not still goes with its instances,
// and the plan warns that its dependents elsewhere cannot be found.
func TestDestroyTargetHostNotInRecipe(t *testing.T) {
	src := strings.Replace(layered, `hosts "server" { count = 2 }`, `variable "n" {
  type    = number
  default = 2
}
hosts "server" { count = var.n }`, 1)
	w := newWorld(t, src)
	w.vars = []string{"n=3"}
	w.apply(w.plan(), 8)
	w.vars = nil
	l := mustLoad(t, src)
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Destroy: true, Targets: []string{"server[2]"}})
	if diags.HasErrors() || len(diags) != 1 || !strings.Contains(diags[0].Detail, "server[2] is in state but not in the recipe") {
		t.Fatalf("diags: %v", diags)
	}
	want := map[string]string{
		`launch["server[2]"]`:   "targeted",
		`step.pkg["server[2]"]`: "its host server[2] is destroyed",
		`step.svc["server[2]"]`: "its host server[2] is destroyed",
	}
	if got := destroyReasons(p); !reflect.DeepEqual(got, want) {
		t.Errorf("destroys:\n%v\nwant:\n%v", got, want)
	}
}
