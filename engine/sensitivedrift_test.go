package engine_test

import (
	"context"
	"errors"
	"testing"

	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// missingFileRefresher answers every file check as the file kind does on
// a host where the file was deleted (the sim kinds' checks always pass), or,
// with fail, fails the check with an error quoting the path.
type missingFileRefresher struct {
	simRefresher
	fail bool
}

func (r missingFileRefresher) Check(ctx context.Context, h *state.Host, kind steps.Kind, args cty.Value) (steps.Check, error) {
	if kind.Name() != "file" {
		return r.simRefresher.Check(ctx, h, kind, args)
	}
	path := args.GetAttr("path").AsString()
	if r.fail {
		return steps.Check{}, errors.New("reading " + path + ": stat: permission denied")
	}
	return steps.Check{Reason: path + " does not exist"}, nil
}

// TestRefreshHidesSensitiveDrift: what the check of an instance with a
// sensitive argument (or of a sensitive step) found on the host quotes
// its arguments; the plan's reason told it ("drift: /etc/s-TopSecret123.conf
// does not exist"), where docs/secrets.md promises plan never shows the
// value. Such reasons are now told without the host's answer; others are
// as before.
func TestRefreshHidesSensitiveDrift(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		hidden    bool
	}{
		{"sensitive variable", `
recipe "s" {}
variable "secret" {
  type      = string
  sensitive = true
}
hosts "server" {}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/s-${var.secret}.conf"
    content = "x"
  }
}`, true},
		{"sensitive step", `
recipe "s" {}
variable "secret" { type = string }
hosts "server" {}
step "conf" {
  on        = hosts.server
  sensitive = true
  file {
    path    = "/etc/s-${var.secret}.conf"
    content = "x"
  }
}`, true},
		{"plain", `
recipe "s" {}
variable "secret" { type = string }
hosts "server" {}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/s-${var.secret}.conf"
    content = "x"
  }
}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.src)
			w.vars, w.kinds = []string{"secret=TopSecret123"}, simKinds
			applyOK(t, w, w.plan())
			for _, fail := range []bool{false, true} {
				p := w.plan(func(o *engine.PlanOptions) { o.Refresh = missingFileRefresher{simRefresher{w}, fail} })
				if p.Drift != 1 || len(p.Changes) != 1 || p.Changes[0].Action != engine.Update {
					t.Fatalf("fail=%v: want the file's instance updated, drift 1; got drift %d:\n%s", fail, p.Drift, summary(p))
				}
				got := p.Changes[0].Reason
				want := map[[2]bool]string{
					{true, false}:  "drift: the host no longer matches (details hidden: sensitive step)",
					{true, true}:   "cannot check: the check failed (details hidden: sensitive step)",
					{false, false}: "drift: /etc/s-TopSecret123.conf does not exist",
					{false, true}:  "cannot check: reading /etc/s-TopSecret123.conf: stat: permission denied",
				}[[2]bool{tc.hidden, fail}]
				if got != want {
					t.Errorf("fail=%v: reason %q, want %q", fail, got, want)
				}
			}
		})
	}
}
