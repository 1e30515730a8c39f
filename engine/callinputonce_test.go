package engine_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// phpModule has two steps reading an input whose validation a value set
// from host at the call may break.
const phpModule = `
variable "servers" {}
variable "max_children" {
  type = number
  validation {
    condition     = var.max_children <= 1000
    error_message = "max_children must be at most 1000."
  }
}
step "conf" {
  on  = var.servers
  run = "echo conf ${var.max_children}"
}
step "pool" {
  on  = var.servers
  run = "echo pool ${var.max_children}"
}
`

func phpRecipe(maxChildren string) string {
	return `
recipe "x" {}
hosts "big" { count = 2 }
hosts "small" {}
module "php" {
  source       = "./php"
  servers      = concat(hosts.big, hosts.small)
  max_children = ` + maxChildren + `
}
`
}

// inputErrors are diags' "Invalid value for module input" errors.
func inputErrors(diags hcl.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == "Invalid value for module input" {
			out = append(out, d.Detail)
		}
	}
	return out
}

// TestCallInputErrorOnce: a module input that a validation refuses for
// some hosts (set from host at the call) is one mistake of the call,
// reported once, however many of the module's steps read it: validate
// (with the hosts' indexes) and plan (with their facts) both printed it
// once per step.
func TestCallInputErrorOnce(t *testing.T) {
	t.Run("validate", func(t *testing.T) {
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(phpRecipe("host.index * 2000"))}, "r/php/main.hcl": {Data: []byte(phpModule)}}
		_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
		errs := inputErrors(diags)
		if len(errs) != 1 || len(diags.Errs()) != 1 {
			t.Fatalf("want the input's error once, got:\n%s", diags.Error())
		}
		if !strings.Contains(errs[0], "on big[1] var.max_children is 2000") || !strings.Contains(errs[0], "(On big[1] of the call's 3 hosts.)") {
			t.Errorf("error does not name the host it is found on among the call's: %s", errs[0])
		}
	})
	t.Run("plan", func(t *testing.T) {
		w := newWorld(t, phpRecipe("1"))
		w.extra = map[string]string{"php/main.hcl": phpModule}
		if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
			t.Fatalf("first apply: %+v", res.Failures)
		}
		w.src = phpRecipe("host.facts.cores * 1000") // the simulated hosts have 2 cores
		_, diags := w.load().Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		errs := inputErrors(diags)
		if len(errs) != 1 || len(diags.Errs()) != 1 {
			t.Fatalf("want the input's error once, got:\n%s", diags.Error())
		}
		if !strings.Contains(errs[0], "var.max_children is 2000") {
			t.Errorf("error: %s", errs[0])
		}
	})
}

// TestCallInputErrorOnceFromCapture: an input not read from host whose
// value comes from a capture, refused by a validation once the capture is
// in state, was reported by the plan's evaluation of the module's values
// and again by the module's step it refuses.
func TestCallInputErrorOnceFromCapture(t *testing.T) {
	w := newWorld(t, crossRecipe)
	w.extra = map[string]string{"mods/pool/main.hcl": crossModule}
	w.vars = []string{"subnet=10.", "pool=true"}
	w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "count-disks") {
			return 0, 0, "3\n" // replica 3 does not divide 2 servers
		}
		return 0, 0, ""
	}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 2 {
		t.Fatalf("want the pool instances refused at apply, got %+v", res.Failures)
	}
	_, diags := w.load().Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	if errs := inputErrors(diags); len(errs) != 1 || len(diags.Errs()) != 1 || !strings.Contains(errs[0], "replica must divide servers.") {
		t.Fatalf("want the input's error once, got:\n%s", diags.Error())
	}
}
