package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/views"
	"diffuser/workspace"
)

// tieredRecipe: per-server steps, a step on server[0] waiting for every
// server, clients mounting what it made.
const tieredRecipe = `recipe "tiered" {}
hosts "server" { count = 2 }
hosts "client" {}
step "daemon" {
  on      = hosts.server
  run     = "echo start daemon"
  destroy = "echo stop daemon"
}
step "volume" {
  on      = hosts.server[0]
  after   = [step.daemon]
  run     = "echo create volume"
  destroy = "echo delete volume"
}
step "tools" {
  on  = hosts.client
  run = "echo install tools"
}
step "mount" {
  on      = hosts.client
  after   = [step.volume, step.tools]
  run     = "echo mount ${hosts.server[0].private_ip}"
  destroy = "echo unmount"
}
output "servers" { value = join(",", hosts.server[*].private_ip) }
`

// runStdin is run with the given standard input.
func (e *simCLI) runStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb strings.Builder
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		env: workspace.Env{Factories: map[string]cloud.Factory{"sim": e.cloud.Factory()}, Connector: e.cloud.Connector()}}
	code = a.execute(context.Background(), append([]string{"--data-dir", e.data}, args...))
	return code, out.String(), errb.String()
}

func stateAddrs(t *testing.T, e *simCLI, ws string) []string {
	t.Helper()
	st := loadStateFile(t, e.data, ws)
	var out []string
	for h := range st.Hosts {
		out = append(out, h)
	}
	for a := range st.Steps {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// TestDestroyTargetCLI: destroy -target destroys the targeted host and
// what depends on it, says why for each in the plan, asks a question
// naming how many, and leaves the rest running; an unknown target is an
// error that changes nothing; apply brings back what went.
func TestDestroyTargetCLI(t *testing.T) {
	e := newSimCLI(t, nil)
	recipe := e.write("tiered/main.hcl", tieredRecipe)
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	all := stateAddrs(t, e, "tiered")
	stateBytes := func() string {
		b, err := os.ReadFile(filepath.Join(e.data, "tiered", "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := stateBytes()

	code, out, errs := e.run("destroy", recipe, "-provider", "sim", "-target", "server[9]", "-auto-approve")
	if code != 1 || !strings.Contains(errs, `"server[9]" matches nothing in this workspace's state`) || !strings.Contains(errs, "diffuser state list") {
		t.Errorf("unknown target: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = e.runStdin("no\n", "destroy", recipe, "-provider", "sim", "-target", "server[1]")
	if code != 0 || !strings.Contains(out, "Do you really want to destroy these 4 hosts and step instances?") || !strings.Contains(out, "Cancelled") {
		t.Errorf("answering no: exit %d\n%s", code, out)
	}
	if stateBytes() != before {
		t.Errorf("state changed by a refused or unknown target")
	}

	out = e.must("destroy", recipe, "-provider", "sim", "-target", "server[1]", "-auto-approve", "--progress", "quiet")
	plan, _, _ := strings.Cut(out, "\nDestroy finished")
	golden(t, "testdata/destroytarget/plan.txt", plan)

	left := stateAddrs(t, e, "tiered")
	want := []string{"client[0]", "server[0]", `step.daemon["server[0]"]`, `step.tools["client[0]"]`}
	if !reflect.DeepEqual(left, want) {
		t.Errorf("left in state: %v, want %v (of %v)", left, want, all)
	}
	if e.cloud.Hosts() != 2 || e.cloud.CountMatching("unmount") != 1 || e.cloud.CountMatching("delete volume") != 1 ||
		e.cloud.CountMatching("stop daemon") != 1 {
		t.Errorf("cloud: %d hosts, unmount %d, delete volume %d, stop daemon %d; want 2, 1, 1, 1", e.cloud.Hosts(),
			e.cloud.CountMatching("unmount"), e.cloud.CountMatching("delete volume"), e.cloud.CountMatching("stop daemon"))
	}
	if out := e.must("output", "tiered"); strings.Contains(out, "servers") {
		t.Errorf("the servers output outlived server[1]:\n%s", out)
	}

	// -json: the plan line gives every reason.
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	if got := stateAddrs(t, e, "tiered"); !reflect.DeepEqual(got, all) {
		t.Fatalf("apply after the targeted destroy: %v, want %v", got, all)
	}
	out = e.must("destroy", recipe, "-provider", "sim", "-target", `step.volume["server[0]"]`, "-auto-approve", "-json")
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Scan()
	var pj views.PlanJSON
	if err := json.Unmarshal(sc.Bytes(), &pj); err != nil || pj.Type != "plan" {
		t.Fatalf("first JSON line: %v\n%s", err, out)
	}
	reasons := map[string]string{}
	for _, c := range pj.Changes {
		reasons[c.Address] = c.Action + ": " + c.Reason
	}
	wantReasons := map[string]string{
		`step.volume["server[0]"]`: "destroy: targeted",
		`step.mount["client[0]"]`:  `destroy: depends on step.volume["server[0]"], which is destroyed`,
	}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("JSON plan of destroy -target step.volume: %v, want %v", reasons, wantReasons)
	}
	if len(loadStateFile(t, e.data, "tiered").Hosts) != 3 {
		t.Errorf("destroying a step instance took hosts with it")
	}
}

// TestDestroyTargetOneDependentGrammar: one dependent reads "1 more that
// runs on or depends on it", not "runs on or depend on".
func TestDestroyTargetOneDependentGrammar(t *testing.T) {
	e := newSimCLI(t, nil)
	recipe := e.write("tiered/main.hcl", tieredRecipe)
	e.must("apply", recipe, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	out := e.must("destroy", recipe, "-provider", "sim", "-target", `step.volume["server[0]"]`, "-auto-approve", "--progress", "quiet")
	if !strings.Contains(out, "1 targeted, 1 more that runs on or depends on it (reasons above)") {
		t.Errorf("destroy -target with one dependent:\n%s", out)
	}
}
