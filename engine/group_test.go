package engine_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/builtin"

	"github.com/zclconf/go-cty/cty"
)

// fanout is a steps.GroupKind that records each group call.
type fanout struct {
	mu    sync.Mutex
	calls [][]string
	at    time.Time
}

func (f *fanout) Name() string          { return "fanout" }
func (f *fanout) Schema() *steps.Schema { return fanoutSchema }

var fanoutSchema = &steps.Schema{Kind: "fanout", Args: []steps.Arg{{Name: "what", Type: cty.String, Required: true}}}

func (f *fanout) Check(context.Context, runner.Runner, cty.Value) (steps.Check, error) {
	return steps.Check{OK: true}, nil
}
func (f *fanout) Apply(context.Context, runner.Runner, cty.Value) (steps.Outputs, error) {
	panic("a group kind's Apply must not be called")
}
func (f *fanout) ApplyGroup(ctx context.Context, targets []steps.Target, args cty.Value) ([]steps.Outputs, []error) {
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	var hosts []string
	for _, t := range targets {
		if t.Address == "" || t.Runner == nil {
			panic("target without address or runner")
		}
		hosts = append(hosts, t.Host)
	}
	sort.Strings(hosts)
	f.calls = append(f.calls, hosts)
	f.at = time.Now()
	return make([]steps.Outputs, len(targets)), make([]error, len(targets))
}

func TestGroupKindRunsOnceForAllHosts(t *testing.T) {
	src := `
recipe "g" {}
variable "what" {
  type    = string
  default = "v1"
}
hosts "h" { count = 3 }
step "prep" {
  on  = hosts.h
  run = "prep ${host.name}"
}
step "ship" {
  on    = hosts.h
  after = [step.prep]
  fanout { what = var.what }
}
step "use" {
  on    = hosts.h
  after = [step.ship]
  run   = "use ${var.what}"
}
`
	f := &fanout{}
	kinds := builtin.Kinds()
	kinds["fanout"] = f
	loadK := func(vars ...string) *engine.Loaded {
		l, diags := engine.Load(lang.Source{FS: fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}, Dir: "r"}, lang.Inputs{Vars: vars}, kinds)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return l
	}
	l := loadK()
	if !strings.Contains(l.Graph.String(), `step.ship (group run) -> step.use["h[2]"]`) {
		t.Fatalf("paired step does not wait for the group run:\n%s", l.Graph.String())
	}
	w := newWorld(t, src)
	var useAt []time.Time
	var mu sync.Mutex
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "use") {
			mu.Lock()
			useAt = append(useAt, time.Now())
			mu.Unlock()
		}
		return 0, 0, ""
	}
	plan := func(l *engine.Loaded) *engine.Plan {
		p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Settings: noSettings})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return p
	}
	res := w.apply(plan(l), 0)
	if len(res.Failures) > 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	if len(f.calls) != 1 || strings.Join(f.calls[0], ",") != "h[0],h[1],h[2]" {
		t.Fatalf("group calls = %v, want one with all three hosts", f.calls)
	}
	if len(useAt) != 3 {
		t.Fatalf("use ran %d times", len(useAt))
	}
	for _, at := range useAt {
		if at.Before(f.at) {
			t.Fatal("a dependent step ran before the group step finished")
		}
	}
	if p := plan(loadK()); p.HasChanges() {
		t.Fatalf("not a no-op after apply:\n%s", summary(p))
	}
	// One host's prerequisite changes input: only that host joins the next group call.
	w.apply(plan(loadK("what=v2")), 0)
	if len(f.calls) != 2 || len(f.calls[1]) != 3 {
		t.Fatalf("after a change of what: calls = %v", f.calls)
	}
}
