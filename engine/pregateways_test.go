package engine_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"diffuser/lang"
	"diffuser/recipes"
)

// TestGatewaysModuleKeepsState: a GlusterFS cluster with NFS and SMB
// gateways applied with the recipe as it was before builtin/gateways
// (testdata/pregateways: the recipe calling builtin/nfs-ganesha,
// builtin/samba-ctdb and builtin/gvfs-mount four times) plans its gateway
// instances as moves only with the recipe now: no gateway instance runs
// again or is destroyed, applying the moves runs nothing, and the plan
// after them has no gateway change. Other parts of the recipe may have
// changed since; they are not this test's business.
func TestGatewaysModuleKeepsState(t *testing.T) {
	vars := []string{"servers=2", "replica=2", "clients=1", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"}
	w := newWorld(t, "")
	oldModules := overlayFS{top: os.DirFS("testdata/pregateways/modules"), base: recipes.Modules()}
	old := loadFrom(t, lang.Source{FS: os.DirFS("testdata/pregateways"), Dir: "glusterfs", Display: "pregateways/glusterfs", Modules: oldModules}, vars)
	if res := w.applyLoaded(old); len(res.Failures) > 0 {
		t.Fatalf("apply of the recipe before builtin/gateways: %+v", res.Failures[0].Err)
	}
	gateway := func(addr string) bool { return strings.Contains(addr, "gateway") }
	oldGateway := 0
	for addr := range w.st.Steps {
		if gateway(addr) {
			oldGateway++
		}
	}
	cur := loadFrom(t, lang.Source{FS: recipes.FS(), Dir: "glusterfs", Display: "glusterfs", Modules: recipes.Modules()}, vars)
	p := w.planLoaded(cur)
	var wrong []string
	for _, c := range p.Changes {
		if gateway(c.Addr) {
			wrong = append(wrong, c.Action.Symbol()+" "+c.Addr+" ("+c.Reason+")")
		}
	}
	for _, c := range p.Destroys {
		if gateway(c.Addr) {
			wrong = append(wrong, "- "+c.Addr)
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("gateway instances of the old recipe run again or go:\n%s", strings.Join(wrong, "\n"))
	}
	moved := 0
	for _, m := range p.Moves {
		if !strings.HasPrefix(m.To, "module.gateways.") {
			t.Errorf("move %s -> %s outside module.gateways", m.From, m.To)
		}
		moved++
	}
	// Every gateway instance moves: 2 NFS gateways x 5 steps, 2 SMB
	// gateways x 9 steps (no preflight without public addresses), 2
	// clients x 5 steps per mount.
	if want := 2*5 + 2*9 + 2*5*2; moved != want || oldGateway != want {
		t.Errorf("%d moves of %d old gateway instances, want %d", moved, oldGateway, want)
	}
	if res := w.applyPlan(p); len(res.Failures) > 0 {
		t.Fatalf("applying the plan: %+v", res.Failures[0].Err)
	}
	p = w.planLoaded(cur)
	for _, c := range p.Changes {
		if gateway(c.Addr) {
			t.Errorf("after the moves: %s %s (%s)", c.Action.Symbol(), c.Addr, c.Reason)
		}
	}
	if len(p.Moves) != 0 {
		t.Errorf("%d moves left after they were applied", len(p.Moves))
	}
}

// overlayFS reads top, then base for what top does not have: the built-in
// modules of before with the ones that changed since taken from testdata.
type overlayFS struct{ top, base fs.FS }

func (o overlayFS) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && name == ".") {
		if f != nil {
			_ = f.Close()
		}
		return o.base.Open(name)
	}
	return f, err
}
