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

// hostCheckModule: input flag is set from host at the call and known only
// at apply; its validation refuses it on some hosts. Step plain reads no
// input: the module's validations guard it all the same, per host.
const hostCheckModule = `
variable "flag" {
  type = number
  validation {
    condition     = var.flag == 0
    error_message = "flag must be 0."
  }
}
step "reads" {
  run = "echo ${var.flag}"
}
step "plain" {
  run = "echo plain"
}
`

// TestCallInputCheckedPerHostForEveryStep: a module step that reads no
// input set from host is still refused on exactly the hosts whose value
// breaks the input's validation at apply. Its arguments are the same on
// every host, and the apply evaluated them once for all its instances:
// the first host's verdict served every host, so the step ran on the
// host that broke the rule, or failed on the host that met it, naming
// the other host.
func TestCallInputCheckedPerHostForEveryStep(t *testing.T) {
	w := newWorld(t, `
recipe "x" {}
hosts "node" { count = 3 }
module "m" {
  source = "./m"
  on     = hosts.node
  flag   = host.private_ip != "" ? (host.index == 1 ? 1 : 0) : 0
}
`)
	w.extra = map[string]string{"m/main.hcl": hostCheckModule}
	res := w.apply(w.plan(), 4)
	failed := map[string]string{}
	for _, f := range res.Failures {
		failed[f.Addr] = f.Err.Error()
	}
	for _, addr := range []string{`module.m.step.reads["node[1]"]`, `module.m.step.plain["node[1]"]`} {
		if msg, ok := failed[addr]; !ok {
			t.Errorf("%s ran: node[1] breaks the validation of flag", addr)
		} else if !strings.Contains(msg, "flag must be 0.") || !strings.Contains(msg, "on node[1] var.flag is 1") {
			t.Errorf("%s: %s", addr, msg)
		}
	}
	for _, addr := range []string{`module.m.step.plain["node[0]"]`, `module.m.step.plain["node[2]"]`, `module.m.step.reads["node[0]"]`} {
		if msg, ok := failed[addr]; ok {
			t.Errorf("%s failed, but its host meets the validation: %s", addr, msg)
		}
	}
}

// TestCallInputCheckedPerHostBeforeApply: the same at validate (an input
// from the host's index) and at plan (from its facts, once state has
// them), for a module none of whose steps reads the input: only the first
// host was checked, so a value another host breaks was let through.
func TestCallInputCheckedPerHostBeforeApply(t *testing.T) {
	const plainModule = `
variable "flag" {
  type = number
  validation {
    condition     = var.flag == 0
    error_message = "flag must be 0."
  }
}
step "plain" {
  run = "echo plain"
}
`
	recipe := func(flag string) string {
		return `
recipe "x" {}
hosts "node" { count = 3 }
module "m" {
  source = "./m"
  on     = hosts.node
  flag   = ` + flag + `
}
`
	}
	t.Run("validate", func(t *testing.T) {
		fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(recipe("host.index == 1 ? 1 : 0"))}, "r/m/main.hcl": {Data: []byte(plainModule)}}
		_, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
		errs := inputErrors(diags)
		if len(errs) != 1 || !strings.Contains(errs[0], "on node[1] var.flag is 1") {
			t.Fatalf("want the input's error on node[1], got:\n%s", diags.Error())
		}
	})
	t.Run("plan", func(t *testing.T) {
		w := newWorld(t, recipe("0"))
		w.extra = map[string]string{"m/main.hcl": plainModule}
		if res := w.apply(w.plan(), 4); len(res.Failures) > 0 {
			t.Fatalf("first apply: %+v", res.Failures)
		}
		w.src = recipe("host.facts.cores > 0 && host.index == 2 ? 1 : 0")
		_, diags := w.load().Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
			Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
		errs := inputErrors(diags)
		if len(errs) != 1 || !strings.Contains(errs[0], "on node[2] var.flag is 1") {
			t.Fatalf("want the input's error on node[2], got:\n%s", diags.Error())
		}
	})
}
