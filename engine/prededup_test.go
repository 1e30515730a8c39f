package engine_test

import (
	"context"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"diffuser/engine"
	"diffuser/internal/upgradedoc"
	"diffuser/lang"
	"diffuser/recipes"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

// TestRadosgwOnCephConfKeepsState: gateways applied with builtin/radosgw as
// it was before it wrote ceph.conf and the bootstrap-rgw keyring through
// builtin/ceph-conf (and with the ceph recipe as it was then, on its own
// ./modules/conf: testdata/prededup, from commit 918afcd) plan as moves only
// with the current recipe and module: two per gateway, and nothing runs
// but the filesystem step (its fs_name guard is newer); the plan after
// applying them is empty.
func TestRadosgwOnCephConfKeepsState(t *testing.T) {
	vars := []string{"s3_gateways=2", "osds=2"}
	w := newWorld(t, "")
	lib := fstest.MapFS{}
	if err := fs.WalkDir(recipes.Modules(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(recipes.Modules(), path)
		lib[path] = &fstest.MapFile{Data: data}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	delete(lib, "ceph-conf/main.hcl") // it did not exist then
	delete(lib, "radosgw/moved.hcl")  // nor the moves into it
	oldGW, err := os.ReadFile("testdata/prededup/builtin/radosgw/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	lib["radosgw/main.hcl"] = &fstest.MapFile{Data: oldGW}
	// The gateway modules the recipe of then named (called with no hosts
	// here), as they were before builtin/gateways took them in.
	for _, m := range []string{"nfs-ganesha", "samba-ctdb"} {
		data, err := os.ReadFile("testdata/pregateways/modules/" + m + "/main.hcl")
		if err != nil {
			t.Fatal(err)
		}
		lib[m+"/main.hcl"] = &fstest.MapFile{Data: data}
	}
	old := loadFrom(t, lang.Source{FS: os.DirFS("testdata/prededup"), Dir: "ceph", Display: "prededup/ceph", Modules: lib}, vars)
	if res := w.applyLoaded(old); len(res.Failures) > 0 {
		t.Fatalf("apply of the earlier recipe: %+v", res.Failures[0].Err)
	}
	cur := loadFrom(t, lang.Source{FS: recipes.FS(), Dir: "ceph", Display: "ceph", Modules: recipes.Modules()}, vars)
	p := w.planLoaded(cur)
	// The filesystem step's command gained the fs_name guard since
	// (docs/recipes/ceph.md): it runs once. The OSD drop-in now names the
	// device rather than the block link in ceph's directory, and the
	// gateway's keyring command no longer follows links in ceph's
	// directories: both change; the keyring's creates guard keeps it from
	// running again where the keyring is.
	wantPlan := strings.Join([]string{
		`~ module.osd_dropin.step.dropin["osd[0]"] (inputs changed)`,
		`~ module.osd_dropin.step.dropin["osd[1]"] (inputs changed)`,
		`~ step.filesystem["mon[0]"] (inputs changed)`,
		`~ module.rgw.step.keyring["rgw[0]"] (inputs changed)`,
		`~ module.rgw.step.keyring["rgw[1]"] (inputs changed)`,
	}, "\n")
	// Each of them is the operator's to read in docs/recipes/ceph.md, by
	// the step's address.
	for _, line := range strings.Split(wantPlan, "\n") {
		addr, _, _ := strings.Cut(strings.Fields(line)[1], "[")
		upgradedoc.Mentions(t, "..", "ceph", addr)
	}
	if got := strings.TrimSpace(summary(p)); got != wantPlan || len(p.Destroys) != 0 {
		t.Fatalf("the current recipe plans, on a cluster of the earlier one:\n%s\nwant:\n%s", summary(p), wantPlan)
	}
	var moves []string
	for _, m := range p.Moves {
		moves = append(moves, m.From+" -> "+m.To)
	}
	sort.Strings(moves)
	want := []string{
		`module.rgw.step.bootstrap_keyring["rgw[0]"] -> module.rgw.module.files.step.keyring["rgw[0]"]`,
		`module.rgw.step.bootstrap_keyring["rgw[1]"] -> module.rgw.module.files.step.keyring["rgw[1]"]`,
		`module.rgw.step.conf["rgw[0]"] -> module.rgw.module.files.step.conf["rgw[0]"]`,
		`module.rgw.step.conf["rgw[1]"] -> module.rgw.module.files.step.conf["rgw[1]"]`,
	}
	if strings.Join(moves, "\n") != strings.Join(want, "\n") {
		t.Errorf("moves:\n%s\nwant:\n%s", strings.Join(moves, "\n"), strings.Join(want, "\n"))
	}
	if res := w.applyPlan(p); len(res.Failures) > 0 || res.Ran != 5 {
		t.Fatalf("applying the moves and the five updates ran %d instances (want 5), failures %+v", res.Ran, res.Failures)
	}
	if p := w.planLoaded(cur); p.HasChanges() {
		t.Errorf("plan after the moves were applied:\n%s", summary(p))
	}
}
