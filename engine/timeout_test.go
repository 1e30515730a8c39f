package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/runner"
	"diffuser/steps"
	"diffuser/steps/builtin"

	"github.com/zclconf/go-cty/cty"
)

// applyWith applies p like w.apply, with the options changed by set.
func (w *world) applyWith(p *engine.Plan, set func(*engine.ApplyOptions)) *engine.Result {
	w.t.Helper()
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	opt := engine.ApplyOptions{Provider: prov, Cluster: "test", Connector: w.cloud.Connector(),
		Recorder: recorder{w.store}, LogDir: w.t.TempDir(), RetryPause: time.Millisecond}
	set(&opt)
	res := p.Apply(context.Background(), w.st, opt)
	if err := w.store.Save(w.st); err != nil {
		w.t.Fatal(err)
	}
	return res
}

func failureText(res *engine.Result) string {
	var b strings.Builder
	for _, f := range res.Failures {
		fmt.Fprintf(&b, "%s: %v\n", f.Addr, f.Err)
	}
	return b.String()
}

// A step with no `timeout` on a host where its command never ends fails
// after the apply's step timeout; a step's own `timeout` wins over it.
func TestStepTimeoutEndsAStuckCommand(t *testing.T) {
	src := `
recipe "t" {}
hosts "h" { count = 1 }
step "stuck" {
  on  = hosts.h
  run = "hang forever"
}
step "own" {
  on      = hosts.h
  run     = "hang briefly"
  timeout = "300ms"
}
`
	w := newWorld(t, src)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "hang") {
			return time.Hour, 0, ""
		}
		return 0, 0, ""
	}
	start := time.Now()
	res := w.applyWith(w.plan(), func(o *engine.ApplyOptions) { o.StepTimeout = 150 * time.Millisecond })
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("apply took %s", took)
	}
	text := failureText(res)
	if len(res.Failures) != 2 {
		t.Fatalf("want both steps failed:\n%s", text)
	}
	for _, want := range []string{
		"step stuck timed out after 150ms (set `timeout` on the step, or -step-timeout for the apply)",
		"step own timed out after 300ms",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("failures lack %q:\n%s", want, text)
		}
	}
	if engine.DefaultStepTimeout != 30*time.Minute {
		t.Errorf("DefaultStepTimeout = %s; docs/writing-recipes.md says 30m", engine.DefaultStepTimeout)
	}
}

// flaky is a group kind that fails chosen hosts on the first call, or
// waits for its context to end when hang is set.
type flaky struct {
	mu    sync.Mutex
	calls [][]string
	fail  map[string]bool
	hang  bool
}

func (f *flaky) Name() string          { return "flaky" }
func (f *flaky) Schema() *steps.Schema { return flakySchema }

var flakySchema = &steps.Schema{Kind: "flaky", Args: []steps.Arg{{Name: "what", Type: cty.String, Required: true}}}

func (f *flaky) Check(context.Context, runner.Runner, cty.Value) (steps.Check, error) {
	return steps.Check{OK: true}, nil
}
func (f *flaky) Apply(context.Context, runner.Runner, cty.Value) (steps.Outputs, error) {
	panic("a group kind's Apply must not be called")
}
func (f *flaky) ApplyGroup(ctx context.Context, targets []steps.Target, args cty.Value) ([]steps.Outputs, []error) {
	outs, errs := make([]steps.Outputs, len(targets)), make([]error, len(targets))
	f.mu.Lock()
	var hosts []string
	for _, t := range targets {
		hosts = append(hosts, t.Host)
	}
	sort.Strings(hosts)
	f.calls = append(f.calls, hosts)
	first := len(f.calls) == 1
	f.mu.Unlock()
	if f.hang {
		<-ctx.Done()
		for i := range errs {
			errs[i] = fmt.Errorf("host %s: transfer interrupted: %w", targets[i].Host, ctx.Err())
		}
		return outs, errs
	}
	for i, t := range targets {
		if first && f.fail[t.Host] {
			errs[i] = errors.New("relay refused")
			continue
		}
		outs[i] = steps.Outputs{"ok": t.Host}
	}
	return outs, errs
}

func groupWorld(t *testing.T, generic string, f *flaky) (*world, *engine.Plan) {
	src := `
recipe "g" {}
hosts "h" { count = 3 }
step "ship" {
  on = hosts.h
  ` + generic + `
  flaky { what = "x" }
}
`
	kinds := builtin.Kinds()
	kinds["flaky"] = f
	l, diags := engine.Load(lang.Source{FS: fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}, Dir: "r"}, lang.Inputs{}, kinds)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := newWorld(t, src)
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Settings: noSettings})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return w, p
}

// A group step (distribute) retries the hosts that failed, as often as its
// `retries` says, and only those.
func TestGroupStepHonoursRetries(t *testing.T) {
	f := &flaky{fail: map[string]bool{"h[1]": true}}
	w, p := groupWorld(t, "retries = 1", f)
	var warns []string
	res := w.applyWith(p, func(o *engine.ApplyOptions) {
		o.OnEvent = func(e engine.Event) {
			if e.Type == engine.EvWarn {
				warns = append(warns, e.Addr+": "+e.Message)
			}
		}
	})
	if len(res.Failures) > 0 {
		t.Fatalf("retried group step failed:\n%s", failureText(res))
	}
	if got := fmt.Sprint(f.calls); got != "[[h[0] h[1] h[2]] [h[1]]]" {
		t.Errorf("calls = %s, want all hosts then h[1] alone", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `step.ship["h[1]"]: attempt 1 failed, retrying: relay refused`) {
		t.Errorf("warnings = %q", warns)
	}
	if got := w.st.Steps[`step.ship["h[1]"]`]; got == nil || got.Outputs["ok"] != "h[1]" {
		t.Errorf("retried instance recorded as %+v", got)
	}

	// Without retries the same failure is final.
	f = &flaky{fail: map[string]bool{"h[1]": true}}
	w, p = groupWorld(t, "", f)
	res = w.applyWith(p, func(*engine.ApplyOptions) {})
	if len(res.Failures) != 1 || len(f.calls) != 1 {
		t.Errorf("without retries: calls %v, failures:\n%s", f.calls, failureText(res))
	}
}

// A group step that never finishes ends at its `timeout`, or at the
// apply's step timeout when it has none.
func TestGroupStepHonoursTimeout(t *testing.T) {
	for _, c := range []struct{ generic, want string }{
		{`timeout = "200ms"`, "step ship timed out after 200ms"},
		{``, "step ship timed out after 100ms (set `timeout` on the step, or -step-timeout for the apply)"},
	} {
		f := &flaky{hang: true}
		w, p := groupWorld(t, c.generic, f)
		start := time.Now()
		res := w.applyWith(p, func(o *engine.ApplyOptions) { o.StepTimeout = 100 * time.Millisecond })
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("%q: apply took %s", c.generic, took)
		}
		text := failureText(res)
		if len(res.Failures) != 3 || strings.Count(text, c.want) != 3 {
			t.Errorf("%q: want 3 failures saying %q:\n%s", c.generic, c.want, text)
		}
	}
}
