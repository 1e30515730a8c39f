package engine_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"diffuser/lang"
	"diffuser/recipes"
)

// TestGatewaysModuleKeepsState: a GlusterFS cluster with NFS and SMB
// gateways applied with the recipe as it was before (a folder of
// testdata: the recipe and the built-in modules that changed since) plans
// its gateway instances as moves with the recipe now, apart from the
// changes docs/recipes/glusterfs.md lists: applying the plan runs nothing
// else, and the plan after it has no gateway change. Other parts of the
// recipe may have changed since; they are not this test's business.
//
//   - pregateways: the recipe calling builtin/nfs-ganesha,
//     builtin/samba-ctdb and builtin/gvfs-mount four times. Every gateway
//     instance moves (2 NFS gateways x 5 steps, 2 SMB gateways x 9 steps:
//     no preflight without public addresses, 2 clients x 5 steps per
//     mount) but the NFS-Ganesha service of before builtin/ganesha: the
//     old run step that restarted Ganesha updates into the module's
//     service step (it starts the unit if it is not running; nothing
//     restarts), and the old service step, which has no destroy command,
//     goes.
//   - preganesha: builtin/gateways before builtin/ganesha held its
//     NFS-Ganesha steps and builtin/ceph-conf its Ceph files (commit
//     9ff18ed), with the glusterfs and the ceph recipe; the same two
//     changes.
//   - in both, the steps that restarted on a digest in their command
//     (restartOn below; builtin/gvfs-mount of before is shared by both,
//     in testdata/prerestarton).
func TestGatewaysModuleKeepsState(t *testing.T) {
	// The steps that restarted CTDB, smbd and a GVfs mount when a digest
	// of their files in the command changed are service steps with
	// restart_on now: each updates once (enabled, started if it is not
	// running; nothing restarts), and testparm with nmbd's stop is a step
	// of its own.
	restartOn := []string{
		`+ module.gateways.step.smb_check["gateway[0]"] ()`,
		`+ module.gateways.step.smb_check["gateway[1]"] ()`,
		`~ module.gateways.step.ctdb["gateway[0]"] (inputs changed)`,
		`~ module.gateways.step.ctdb["gateway[1]"] (inputs changed)`,
		`~ module.gateways.step.smbd["gateway[0]"] (inputs changed)`,
		`~ module.gateways.step.smbd["gateway[1]"] (inputs changed)`,
	}
	// builtin/gvfs-mount's script now clears an empty directory in the
	// way of its link and stops at anything else there, and its ready step
	// looks through the link: each mount's script and ready update, and
	// the mount restarts on the new script.
	for _, m := range []string{"nfs_mount", "smb_mount"} {
		for _, c := range []string{"gateway_client[0]", "gateway_client[1]"} {
			at := func(step string) string { return fmt.Sprintf(`module.gateways.module.%s.step.%s["%s"]`, m, step, c) }
			restartOn = append(restartOn,
				"~ "+at("mount")+" (inputs changed; then restart because "+at("script")+" will change)",
				"~ "+at("ready")+" (inputs changed)",
				"~ "+at("script")+" (inputs changed)")
		}
	}
	preganesha := append([]string{
		`- module.gateways.step.nfs_service["gateway[0]"]`,
		`- module.gateways.step.nfs_service["gateway[1]"]`,
		`~ module.gateways.module.ganesha.step.service["gateway[0]"] (inputs changed)`,
		`~ module.gateways.module.ganesha.step.service["gateway[1]"] (inputs changed)`,
	}, restartOn...)
	glusterVars := []string{"servers=2", "replica=2", "clients=1", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"}
	cephVars := []string{"monitors=1", "osds=2", "clients=1", "nfs_gateways=2", "smb_gateways=2", "gateway_clients=2"}
	cases := []struct {
		before, recipe string
		vars           []string
		want           []string // the gateway changes and destroys, sorted
		moves          int
	}{
		{before: "pregateways", recipe: "glusterfs", vars: glusterVars, moves: 2*4 + 2*9 + 2*5*2, want: append([]string{
			`- module.nfs_gateway.step.service["gateway[0]"]`,
			`- module.nfs_gateway.step.service["gateway[1]"]`,
			`~ module.gateways.module.ganesha.step.service["gateway[0]"] (inputs changed)`,
			`~ module.gateways.module.ganesha.step.service["gateway[1]"] (inputs changed)`,
		}, restartOn...)},
		{before: "preganesha", recipe: "glusterfs", vars: glusterVars, moves: 2 * 3, want: preganesha},
		// The Ceph files of every gateway move into module.ceph_files too.
		{before: "preganesha", recipe: "ceph", vars: cephVars, moves: 2*3 + 2*2, want: preganesha},
	}
	for _, c := range cases {
		vars := c.vars
		t.Run(c.before+"/"+c.recipe, func(t *testing.T) {
			w := newWorld(t, "")
			dir := "testdata/" + c.before
			// The case's modules of before, then those every case shares
			// (gvfs-mount before restart_on), then today's built-ins.
			shared := overlayFS{top: os.DirFS("testdata/prerestarton/modules"), base: recipes.Modules()}
			oldModules := overlayFS{top: os.DirFS(dir + "/modules"), base: shared}
			old := loadFrom(t, lang.Source{FS: os.DirFS(dir), Dir: c.recipe, Display: c.before + "/" + c.recipe, Modules: oldModules}, vars)
			if res := w.applyLoaded(old); len(res.Failures) > 0 {
				t.Fatalf("apply of the recipe of before: %+v", res.Failures[0].Err)
			}
			gateway := func(addr string) bool { return strings.Contains(addr, "gateway") }
			cur := loadFrom(t, lang.Source{FS: recipes.FS(), Dir: c.recipe, Display: c.recipe, Modules: recipes.Modules()}, vars)
			p := w.planLoaded(cur)
			var got []string
			for _, c := range p.Changes {
				if gateway(c.Addr) {
					got = append(got, c.Action.Symbol()+" "+c.Addr+" ("+c.Reason+")")
				}
			}
			for _, c := range p.Destroys {
				if gateway(c.Addr) {
					got = append(got, "- "+c.Addr)
				}
			}
			sort.Strings(got)
			want := slices.Sorted(slices.Values(c.want))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("gateway instances of the old recipe that run again or go:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, m := range p.Moves {
				if !strings.HasPrefix(m.To, "module.gateways.") {
					t.Errorf("move %s -> %s outside module.gateways", m.From, m.To)
				}
			}
			if len(p.Moves) != c.moves {
				t.Errorf("%d moves, want %d", len(p.Moves), c.moves)
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
		})
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
