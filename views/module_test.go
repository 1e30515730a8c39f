package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"
	"diffuser/steps/builtin"

	"github.com/hashicorp/hcl/v2"
)

const moduleRecipe = `
recipe "m" {}
hosts "server" {
  count = 2
  volume "brick" { size_gb = 1 }
}
module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.server
  device = host.volume.brick.device
  target = "/data/brick"
}
module "daemon" {
  source  = "./mods/daemon"
  on      = hosts.server[0]
  after   = [module.data]
  mount   = module.data.target
}
`

const daemonModule = `
variable "mount" { type = string }
module "unit" {
  source  = "builtin/systemd-unit"
  name    = "demo"
  content = "[Service]\nExecStart=/usr/bin/sleep infinity\nWorkingDirectory=${var.mount}\n"
}
`

// TestPlanGoldenModules: module addresses in plan text and JSON, moves
// included (testdata/plan/modules.*; -update rewrites them).
func TestPlanGoldenModules(t *testing.T) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(moduleRecipe)}, "r/mods/daemon/main.hcl": {Data: []byte(daemonModule)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := l.Plan(context.Background(), engine.PlanOptions{Provider: "sim", Cluster: "test"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p.Moves = []engine.Move{{From: `step.brick["server[0]"]`, To: `module.data.step.format["server[0]"]`, Step: "module.data.step.format",
		By: []*lang.Moved{{DeclRange: hcl.Range{Filename: "r/main.hcl", Start: hcl.Pos{Line: 5}}}}},
		{From: `step.brick_mount["server[0]"]`, To: `module.data.step.mount["server[0]"]`, Step: "module.data.step.mount",
			By: []*lang.Moved{{By: &lang.Module{Addr: "module.data", Source: "builtin/xfs-volume"},
				DeclRange: hcl.Range{Filename: "builtin/xfs-volume/moved.hcl", Start: hcl.Pos{Line: 1}}}}}}
	var text bytes.Buffer
	WritePlan(&text, p)
	for _, want := range []string{
		`module.daemon.module.unit.step.service["server[0]"] will be created`,
		`module.data.step.mount["server[1]"] will be created`,
		`# step.brick["server[0]"] has moved to module.data.step.format["server[0]"] (moved block, r/main.hcl:5)` + "\n",
		`# step.brick_mount["server[0]"] has moved to module.data.step.mount["server[0]"] (history of module.data (builtin/xfs-volume), builtin/xfs-volume/moved.hcl:1)`,
		"2 to move.",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan text lacks %q", want)
		}
	}
	golden(t, "testdata/plan/modules.txt", text.String())
	var js bytes.Buffer
	if err := WritePlanJSON(&js, p, Remembered{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"address": "module.daemon.module.unit.step.unit[\"server[0]\"]"`) || !strings.Contains(js.String(), `"move": 2`) {
		t.Errorf("plan JSON lacks module addresses or the move:\n%s", js.String())
	}
	golden(t, "testdata/plan/modules.json", js.String())
}
