package engine_test

import (
	"strings"
	"testing"

	"diffuser/engine"
)

const renameModule = `
step "conf" { run = "echo conf" }
step "svc" {
  after = [step.conf]
  run   = "echo svc"
}
`

// TestLikelyRenames: a module call renamed without a moved block plans
// its steps destroyed and the same steps created under the new name; the
// plan names the pair, so that the view can offer the moved block. A
// call that really goes, and one added beside one that stays, are not
// taken for renames.
func TestLikelyRenames(t *testing.T) {
	recipe := func(calls ...string) string {
		src := "recipe \"t\" {}\nhosts \"s\" { count = 2 }\n"
		for _, c := range calls {
			src += "module \"" + c + "\" {\n  source = \"./m\"\n  on     = hosts.s\n}\n"
		}
		return src
	}
	w := newWorld(t, recipe("chunk", "disk"))
	w.kinds = simKinds
	w.extra = map[string]string{"m/main.hcl": renameModule}
	applyOK(t, w, w.plan())

	w.src = recipe("chunkserver", "disk")
	got := w.plan().LikelyRenames()
	if len(got) != 1 || got[0] != (engine.Rename{From: "module.chunk", To: "module.chunkserver"}) {
		t.Fatalf("renamed call: %+v", got)
	}
	// chunk goes and nothing comes; a new call beside the ones that stay.
	for _, calls := range [][]string{{"disk"}, {"chunk", "disk", "extra"}} {
		w.src = recipe(calls...)
		if got := w.plan().LikelyRenames(); len(got) != 0 {
			t.Errorf("calls %s: %+v", strings.Join(calls, ", "), got)
		}
	}
}

// TestLikelyRenamesNotIntoRecordedCall: a call that is in state already,
// with an instance kept as it is, is never offered as the new name, even
// when the steps it gains are exactly those of a call that goes: a moved
// block into it would meet what state records there ("Moved object still
// exists" for any step of the same name).
func TestLikelyRenamesNotIntoRecordedCall(t *testing.T) {
	src := func(calls string) string {
		return "recipe \"t\" {}\nhosts \"s\" { count = 2 }\n" + calls
	}
	chunk := "module \"chunk\" {\n  source = \"./m\"\n  on     = hosts.s\n}\n"
	keep := "module \"keep\" {\n  source = \"./k\"\n  on     = hosts.s\n}\n"
	other := "step \"other\" { run = \"echo other\" }\n"
	w := newWorld(t, src(chunk+keep))
	w.kinds = simKinds
	w.extra = map[string]string{"m/main.hcl": renameModule, "k/main.hcl": other}
	applyOK(t, w, w.plan())

	// chunk goes; keep gains conf and svc beside its recorded "other".
	w.src = src(keep)
	w.extra = map[string]string{"m/main.hcl": renameModule, "k/main.hcl": other + renameModule}
	p := w.plan()
	if add, _, destroy := p.Counts(); add != 4 || destroy != 4 {
		t.Fatalf("plan: %d to add, %d to destroy; want 4 and 4", add, destroy)
	}
	if got := p.LikelyRenames(); len(got) != 0 {
		t.Errorf("a call with recorded instances offered as a rename target: %+v", got)
	}
}
