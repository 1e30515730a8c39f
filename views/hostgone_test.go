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
)

// TestPlanShowsGoneHost: the destroy of a step instance whose host
// refresh found gone says, in text and in the JSON reason, that it is
// forgotten without its undo (apply does not connect to a machine that
// no longer exists); another destroy says nothing of the kind.
func TestPlanShowsGoneHost(t *testing.T) {
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte("recipe \"r\" {}\nhosts \"a\" {}\n")}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r", Modules: recipes.Modules()}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := l.Plan(context.Background(), engine.PlanOptions{Provider: "sim", Cluster: "test"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p.Destroys = append(p.Destroys,
		&engine.Change{V: -1, Addr: `step.conf["a[0]"]`, Action: engine.Destroy, Kind: "file", Step: "conf", Host: "a[0]", HostGone: true},
		&engine.Change{V: -1, Addr: `step.conf["b[0]"]`, Action: engine.Destroy, Kind: "file", Step: "conf", Host: "b[0]", Reason: "not in the recipe"})
	var b bytes.Buffer
	WritePlan(&b, p)
	want := `# step.conf["a[0]"] will be destroyed (its host a[0] is gone (found by refresh): forgotten without undoing it)`
	if !strings.Contains(b.String(), want) {
		t.Errorf("plan text lacks %q:\n%s", want, b.String())
	}
	if strings.Count(b.String(), "is gone") != 1 {
		t.Errorf("only a[0]'s destroy should say its host is gone:\n%s", b.String())
	}
	jp := NewPlanJSON(p, Remembered{})
	reasons := map[string]string{}
	for _, c := range jp.Changes {
		reasons[c.Address] = c.Reason
	}
	if got := reasons[`step.conf["a[0]"]`]; got != "its host a[0] is gone (found by refresh): forgotten without undoing it" {
		t.Errorf("JSON reason of the gone host's destroy = %q", got)
	}
	if got := reasons[`step.conf["b[0]"]`]; got != "not in the recipe" {
		t.Errorf("JSON reason of the other destroy = %q, want it unchanged", got)
	}
}
