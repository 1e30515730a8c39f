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

	"github.com/zclconf/go-cty/cty"
)

const replaceNoteRecipe = `
recipe "r" {}
hosts "server" {
  count        = 2
  volume "brick" { size_gb = 1 }
  replace_note = "gluster reset-brick, then heal from ${hosts.server[0].name}:\ndata stays readable through replica 2"
}
step "rejoin" {
  on            = hosts.server
  when_replaced = hosts.server
  run           = "echo rejoin"
}
`

// TestPlanGoldenReplaceNote: a launch that replaces a recorded machine
// shows its group's replace_note under it, in text and JSON
// (testdata/plan/replace-note.*; -update rewrites them). The engine's
// tests plan the note; here it is set on the change as the engine sets it.
func TestPlanGoldenReplaceNote(t *testing.T) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(replaceNoteRecipe)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := l.Plan(context.Background(), engine.PlanOptions{Provider: "sim", Cluster: "test"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var kept []*engine.Change
	for _, c := range p.Changes {
		switch c.Addr {
		case `launch["server[1]"]`:
			c.Action, c.Reason, c.Data = engine.Replace, "host is gone (found by refresh)", []string{"brick"}
			c.Note = "gluster reset-brick, then heal from server[0]:\ndata stays readable through replica 2"
			kept = append(kept, c)
		case `step.rejoin["server[1]"]`:
			t.Fatal("a first deploy plans a replacement step")
		}
	}
	if len(kept) != 1 {
		t.Fatalf("the first plan should launch server[1], got %d such changes", len(kept))
	}
	kept = append(kept, &engine.Change{V: -1, Addr: `step.rejoin["server[1]"]`, Kind: "run", Step: "rejoin", Host: "server[1]",
		Group: "server", Action: engine.Create, Reason: "host is replaced",
		Args: cty.ObjectVal(map[string]cty.Value{"command": cty.StringVal("echo rejoin")})})
	p.Changes = kept
	var text bytes.Buffer
	WritePlan(&text, p)
	for _, want := range []string{
		"        # the data: gluster reset-brick, then heal from server[0]:\n        #   data stays readable through replica 2\n",
		`# launch["server[1]"] must be replaced (host is gone (found by refresh)) (destroys data on volume brick)`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan text lacks %q:\n%s", want, text.String())
		}
	}
	golden(t, "testdata/plan/replace-note.txt", text.String())
	var js bytes.Buffer
	if err := WritePlanJSON(&js, p, Remembered{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"replace_note": "gluster reset-brick, then heal from server[0]:\ndata stays readable through replica 2"`) {
		t.Errorf("plan JSON lacks the note:\n%s", js.String())
	}
	golden(t, "testdata/plan/replace-note.json", js.String())
}
