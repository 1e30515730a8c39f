package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const modStateV1 = `
recipe "modstate" {}
hosts "server" { count = 2 }
module "a" {
  source = "./mods/m"
  on     = hosts.server
  word   = "hi"
}
`

const modStateModule = `
variable "word" { type = string }
step "say" {
  run     = "echo ${var.word} > /etc/said"
  creates = "/etc/said"
}
step "again" {
  after = [step.say]
  run   = "cat /etc/said"
}
`

// state mv and state rm take module addresses; a moved block's renames
// are written to the workspace's state by apply, and nothing runs.
func TestStateMvModule(t *testing.T) {
	w := newSimWorld(t)
	if err := os.MkdirAll(filepath.Join(w.dir, "mods", "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "mods", "m", "main.hcl"), []byte(modStateModule), 0o644); err != nil {
		t.Fatal(err)
	}
	v1 := w.recipe("v1", modStateV1)
	v2 := w.recipe("v2", strings.Replace(modStateV1, `module "a"`, `module "b"`, 1))
	v3 := w.recipe("v3", strings.Replace(modStateV1, `module "a"`, `module "c"`, 1)+"\nmoved {\n  from = module.b\n  to   = module.c\n}\n")
	w.apply(v1, "ws")
	if got := w.plan(v1, "ws"); len(got) != 0 {
		t.Fatalf("plan after apply: %v", got)
	}
	if got := w.plan(v2, "ws"); len(got) != 8 {
		t.Fatalf("renamed call without a move: %v, want 4 creates and 4 destroys", got)
	}
	ed, err := w.env.StateMv(context.Background(), "ws", "module.a", "module.b")
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Instances) != 4 || ed.Instances[0].From != `module.a.step.again["server[0]"]` || ed.Instances[0].To != `module.b.step.again["server[0]"]` {
		t.Errorf("state mv module.a module.b: %+v", ed)
	}
	if got := w.plan(v2, "ws"); len(got) != 0 {
		t.Errorf("plan after state mv: %v", got)
	}

	// A moved block: apply persists the renames and runs nothing.
	if res := w.apply(v3, "ws"); res.Ran != 0 {
		t.Errorf("applying moves ran %d", res.Ran)
	}
	st := w.state("ws")
	if st.Steps[`module.c.step.say["server[1]"]`] == nil || st.Steps[`module.b.step.say["server[1]"]`] != nil {
		t.Errorf("state after the moved apply: %v", sortedAddrs(st))
	}
	if in := st.Steps[`module.c.step.say["server[1]"]`]; in == nil || in.Step != "module.c.step.say" {
		t.Errorf("moved instance: %+v", in)
	}
	if got := w.plan(v3, "ws"); len(got) != 0 {
		t.Errorf("plan after the moved apply: %v", got)
	}

	// A misspelt module is answered with the module, as a misspelt step
	// is with the step.
	for _, tc := range []struct{ op, addr string }{{"mv", "module.cc"}, {"rm", "module.cc"}} {
		var err error
		if tc.op == "mv" {
			_, err = w.env.StateMv(context.Background(), "ws", tc.addr, "module.d")
		} else {
			_, err = w.env.StateRm(context.Background(), "ws", []string{tc.addr})
		}
		if err == nil || !strings.Contains(err.Error(), "has no module.cc in state; did you mean module.c?") {
			t.Errorf("state %s %s: %v", tc.op, tc.addr, err)
		}
	}

	// state rm of a module removes every instance under it.
	ed, err = w.env.StateRm(context.Background(), "ws", []string{"module.c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Instances) != 4 {
		t.Errorf("state rm module.c: %+v", ed)
	}
	if _, err := w.env.StateMv(context.Background(), "ws", "module.c", "step.x"); err == nil {
		t.Errorf("state mv of a module to a step was accepted")
	}
}
