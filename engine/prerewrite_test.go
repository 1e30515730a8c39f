package engine_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/lang"
	"diffuser/recipes"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestRewrittenRecipesKeepState: a cluster applied with a built-in recipe
// as it was before its rewrite on modules (testdata/prerewrite/<recipe>,
// the recipe as it was then) plans as moves only after it: every step
// instance keeps its digest under its new address, nothing runs again and
// nothing is destroyed. Applying the moves runs nothing, and the plan
// after them is empty. docs/recipes/<recipe>.md lists the moves.
func TestRewrittenRecipesKeepState(t *testing.T) {
	for _, tc := range []struct {
		recipe string
		vars   []string
		moves  int // instances renamed, at these variables
	}{
		{"moosefs", nil, 3 + 2 + 3*3 + 2*3},
		{"moosefs", []string{"metaloggers=0", "chunkservers=1", "goal=1", "clients=2"}, 3 + 3 + 2},
		{"ceph", nil, 6 + 3*3 + 3},
		{"ceph", []string{"monitors=3", "osds=2", "client_mount=kernel", "clients=2"}, 3*6 + 2*3 + 2*2},
	} {
		t.Run(tc.recipe+"/"+strings.Join(tc.vars, ","), func(t *testing.T) {
			w := newWorld(t, "")
			old := loadFrom(t, lang.Source{FS: os.DirFS("testdata/prerewrite"), Dir: tc.recipe, Display: "prerewrite/" + tc.recipe}, tc.vars)
			if res := w.applyLoaded(old); len(res.Failures) > 0 {
				t.Fatalf("apply of the pre-rewrite recipe: %+v", res.Failures[0].Err)
			}
			cur := loadFrom(t, lang.Source{FS: recipes.FS(), Dir: tc.recipe, Display: tc.recipe, Modules: recipes.Modules()}, tc.vars)
			p := w.planLoaded(cur)
			if len(p.Changes) != 0 || len(p.Destroys) != 0 {
				t.Fatalf("the rewritten recipe plans changes on a cluster of the old one:\n%s", summary(p))
			}
			var moves []string
			for _, m := range p.Moves {
				moves = append(moves, m.From+" -> "+m.To)
			}
			sort.Strings(moves)
			if tc.moves != 0 && len(moves) != tc.moves {
				t.Errorf("%d moves, want %d:\n%s", len(moves), tc.moves, strings.Join(moves, "\n"))
			}
			if res := w.applyPlan(p); len(res.Failures) > 0 || res.Ran != 0 {
				t.Fatalf("applying the moves ran %d instances, failures %+v", res.Ran, res.Failures)
			}
			if p := w.planLoaded(cur); p.HasChanges() {
				t.Errorf("plan after the moves were applied:\n%s", summary(p))
			}
		})
	}
}

func loadFrom(t *testing.T, src lang.Source, vars []string) *engine.Loaded {
	t.Helper()
	l, diags := engine.Load(src, lang.Inputs{Vars: vars}, simKinds)
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", src.Display, diags.Error())
	}
	return l
}

func (w *world) planLoaded(l *engine.Loaded) *engine.Plan {
	w.t.Helper()
	p, diags := l.Plan(context.Background(), engine.PlanOptions{State: w.st, Provider: "sim", Cluster: "test",
		Settings: func(string) (cty.Value, hcl.Diagnostics) { return cty.EmptyObjectVal, nil }})
	if diags.HasErrors() {
		w.t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

func (w *world) applyLoaded(l *engine.Loaded) *engine.Result {
	w.t.Helper()
	return w.applyPlan(w.planLoaded(l))
}

func (w *world) applyPlan(p *engine.Plan) *engine.Result {
	w.t.Helper()
	return w.apply(p, 8)
}
