package engine_test

import (
	"strings"
	"testing"
	"time"
)

// TestFailureSaysWhereDeclared: a failed instance names where its step is
// written: the recipe's line, or for a module's step the module file's
// line and the call.
func TestFailureSaysWhereDeclared(t *testing.T) {
	w := newWorld(t, `recipe "t" {}
hosts "a" {
  volume "data" { size_gb = 1 }
}

step "bad" {
  on  = hosts.a
  run = "echo bad-run"
}

module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.a
  device = host.volume.data.device
  target = "/srv/data"
}
`)
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		// module.data's first step, packages, fails too: this fake host
		// answers nothing to the package manager probe.
		if strings.Contains(cmd, "bad-run") {
			return 0, 5, "no\n"
		}
		return 0, 0, ""
	}
	res := w.apply(w.plan(), 8)
	got := map[string]string{}
	for _, f := range res.Failures {
		got[f.Step] = f.Declared
	}
	if got["bad"] != "r/main.hcl:6" {
		t.Errorf("step.bad declared %q, want r/main.hcl:6 (failures %v)", got["bad"], res.Failures)
	}
	if d := got["module.data.step.packages"]; !strings.HasPrefix(d, "builtin/xfs-volume/main.hcl:") ||
		!strings.HasSuffix(d, " (In module.data, called at r/main.hcl:11.)") {
		t.Errorf("module.data.step.packages declared %q (failures %v)", d, res.Failures)
	}
	o := res.Outcome()
	for _, f := range o.Failures {
		if f.Declared == "" {
			t.Errorf("outcome of %s lost where it is declared", f.Address)
		}
	}
}
