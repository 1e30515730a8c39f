package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"diffuser/engine"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// captureRecipe mounts, on every server, a target another step captured:
// its value is known only from state (plan) or at apply.
const captureRecipe = `
recipe "c" {}

hosts "server" { count = 3 }

step "probe" {
  on  = hosts.server[0]
  run = "true"
  capture {
    dir = "cat /etc/mountpoint"
  }
}

step "data" {
  on = hosts.server
  mount {
    source = "/dev/xvdf"
    target = step.probe.outputs.dir
    fstype = "xfs"
  }
}
`

// targetLine is the line of captureRecipe's `target = ...`.
const targetLine = 18

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// TestPlanChecksArgumentsOnce: a value validate could not know (a capture)
// that plan knows from state and that breaks the kind's schema is reported
// by plan once, on the expression, not once per instance.
func TestPlanChecksArgumentsOnce(t *testing.T) {
	w := newWorld(t, captureRecipe)
	mt := &mountTable{}
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "/etc/mountpoint") {
			return 0, 0, "/mnt/data\n"
		}
		return mt.behave(host, cmd)
	}
	if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	// The capture changes (as if the command now printed a relative path).
	w.st.Steps[`step.probe["server[0]"]`].Outputs["dir"] = "mnt/data"
	l := mustLoad(t, captureRecipe)
	_, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	errs := errorsOnly(diags)
	if len(errs) != 1 {
		t.Fatalf("plan reported %d errors, want 1: %v", len(errs), diags)
	}
	d := errs[0]
	if d.Summary != "Invalid mount target" || d.Subject == nil || d.Subject.Start.Line != targetLine ||
		!strings.Contains(d.Detail, `"mnt/data"`) || strings.Contains(d.Detail, "On server") {
		t.Errorf("got %s: %s at %v; want Invalid mount target on line %d, naming the value, for every host", d.Summary, d.Detail, d.Subject, targetLine)
	}
}

// TestApplyChecksArgumentsBeforeTheHost: a value known only at apply that
// breaks the kind's schema fails its instances with the located problem,
// and nothing runs on their hosts.
func TestApplyChecksArgumentsBeforeTheHost(t *testing.T) {
	w := newWorld(t, captureRecipe)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "/etc/mountpoint") {
			return 0, 0, "mnt/data\n"
		}
		return 0, 0, ""
	}
	res := w.apply(w.plan(), 4)
	if len(res.Failures) != 3 {
		t.Fatalf("want the 3 mount instances to fail, got %v", res.Failures)
	}
	for _, f := range res.Failures {
		msg := f.Err.Error()
		if f.Step != "data" || !strings.Contains(msg, "Invalid mount target") || !strings.Contains(msg, "main.hcl:18") {
			t.Errorf("failure %s: %v; want the located mount target problem", f.Addr, msg)
		}
	}
	for _, h := range []string{"server[0]", "server[1]", "server[2]"} {
		for _, cmd := range w.cloud.Commands(h) {
			if strings.Contains(cmd, "mount") && !strings.Contains(cmd, "/etc/mountpoint") {
				t.Errorf("%s ran %q; a step whose arguments break the schema must not touch its host", h, cmd)
			}
		}
	}
}

// TestValidateHidesSensitiveValues: a problem with a sensitive value, or
// in a `sensitive = true` step, is reported without the value.
func TestValidateHidesSensitiveValues(t *testing.T) {
	for _, src := range []string{`
recipe "s" {}
variable "mode" {
  type      = string
  default   = "secret-mode"
  sensitive = true
}
hosts "server" {}
step "key" {
  on = hosts.server
  file {
    path    = "/etc/key"
    content = "x"
    mode    = var.mode
  }
}`, `
recipe "s" {}
hosts "server" {}
step "key" {
  on        = hosts.server
  sensitive = true
  file {
    path    = "/etc/key"
    content = "x"
    mode    = "secret-mode"
  }
}`} {
		_, diags := load(t, src)
		errs := errorsOnly(diags)
		if len(errs) != 1 || errs[0].Summary != "Invalid file mode" {
			t.Fatalf("want one Invalid file mode, got %v", diags)
		}
		if strings.Contains(errs[0].Detail, "secret") || !strings.Contains(errs[0].Detail, "(sensitive value)") {
			t.Errorf("detail shows a sensitive value: %s", errs[0].Detail)
		}
	}
}

// TestValidateHostDependentProblemNamesHosts: a problem only some of a
// step's hosts show is reported once, naming them.
func TestValidateHostDependentProblemNamesHosts(t *testing.T) {
	_, diags := load(t, `
recipe "h" {}
hosts "server" { count = 6 }
step "svc" {
  on = hosts.server
  service {
    name  = "x"
    state = host.index >= 1 ? "stoped" : "started"
  }
}`)
	errs := errorsOnly(diags)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %v", diags)
	}
	if want := "(On server[1], server[2], server[3], server[4] and 1 more of the step's 6 hosts.)"; !strings.Contains(errs[0].Detail, want) {
		t.Errorf("detail %q lacks %q", errs[0].Detail, want)
	}
	if !strings.Contains(errs[0].Detail, `Did you mean "stopped"?`) {
		t.Errorf("detail %q lacks the suggestion", errs[0].Detail)
	}
}
