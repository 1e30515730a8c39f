package workspace_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"diffuser/engine"
	"diffuser/internal/upgradedoc"
	"diffuser/workspace"
)

// The built-in recipes were rewritten on modules (issue 16). A cluster
// applied with a recipe as it was before (testdata/prerewrite/NAME: ceph
// and moosefs as they were before their rewrite, glusterfs, nfs and
// orangefs from commit bb676a7) must plan as no-op with the rewritten
// recipe, apart from the instances docs/recipes/NAME.md lists as
// re-running; the renamed instances are moves, which keep their digest
// and run nothing. Each case applies the old recipe on the simulator
// (it settles: its own second plan is empty), plans the new one and
// compares the changes and destroys with the documented ones (and the
// number of moves where the docs count them); then applies the new one —
// which runs nothing when nothing but moves was planned — and checks that
// a second plan is empty (the moves were persisted).
func TestPrerewriteStatePlansAsDocumented(t *testing.T) {
	cases := []struct {
		recipe string
		before string // the old recipe's folder in testdata ("prerewrite" when empty)
		vars   []string
		want   []string // the plan's changes, sorted, as simWorld.plan writes them
		moves  int      // instances renamed, at these variables (0: not counted)
		ran    int      // instances the apply runs (0: every change planned)
		// doc is what docs/recipes/RECIPE.md must say for a cluster of
		// before's recipe: the commit the fixture is from, named where the
		// page lists what such a cluster plans ("" for the older cases,
		// whose pages name theirs in prose the test does not check).
		doc string
	}{
		// docs/recipes/glusterfs.md: brick_at_boot (remounting the brick
		// after a restart) is new, so each server gets its unit and service,
		// and so is pool_prune (its unless holds: nothing is detached); the
		// volume step's command gained the volume_name and layout guards, so
		// it updates once (its unless holds: nothing runs).
		// Every case of a recipe whose volume is builtin/xfs-volume also has
		// the lines of xfsprogs (the module installs it now; the recipe's
		// package step no longer lists it).
		{recipe: "glusterfs", want: xfsprogs("module.brick", "step.packages", "server", 2, []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
			`+ step.pool_prune["server[0]"]`,
			`~ step.volume["server[0]"] (inputs changed)`,
		})},
		{recipe: "glusterfs", vars: []string{"servers=4", "clients=2"}, want: xfsprogs("module.brick", "step.packages", "server", 4, []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.service["server[2]"] (then restart because module.brick_at_boot.step.unit["server[2]"] will change)`,
			`+ module.brick_at_boot.step.service["server[3]"] (then restart because module.brick_at_boot.step.unit["server[3]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
			`+ module.brick_at_boot.step.unit["server[2]"]`,
			`+ module.brick_at_boot.step.unit["server[3]"]`,
			`+ step.pool_prune["server[0]"]`,
			`~ step.volume["server[0]"] (inputs changed)`,
		})},
		{recipe: "glusterfs", vars: []string{"servers=3", "replica=1", "disperse=3"}, want: xfsprogs("module.brick", "step.packages", "server", 3, []string{
			`+ module.brick_at_boot.step.service["server[0]"] (then restart because module.brick_at_boot.step.unit["server[0]"] will change)`,
			`+ module.brick_at_boot.step.service["server[1]"] (then restart because module.brick_at_boot.step.unit["server[1]"] will change)`,
			`+ module.brick_at_boot.step.service["server[2]"] (then restart because module.brick_at_boot.step.unit["server[2]"] will change)`,
			`+ module.brick_at_boot.step.unit["server[0]"]`,
			`+ module.brick_at_boot.step.unit["server[1]"]`,
			`+ module.brick_at_boot.step.unit["server[2]"]`,
			`+ step.pool_prune["server[0]"]`,
			`~ step.volume["server[0]"] (inputs changed)`,
		})},
		// docs/recipes/nfs.md: the run steps that restarted the daemons
		// became service steps (moved blocks); each updates once. The
		// libnfs clients' mount moved into builtin/gvfs-mount, whose unit
		// has another name: gvfs_retire stops the old one, the module
		// mounts again (its mount and ready steps are the moved gvfs_mount
		// and gvfs_ready), the old files' steps go.
		// Each kernel-server case also has the four lines of
		// docs/recipes/nfs.md's builtin/ganesha section (kernelGanesha).
		// Every NFS-Ganesha case drops ganesha_preflight, the shell check a
		// precondition of server_packages replaced (docs/recipes/nfs.md):
		// a run step without destroy, so nothing runs.
		{recipe: "nfs", want: xfsprogs("module.export", "step.server_packages", "server", 1, append(kernelGanesha(), `~ step.kernel_statd["server[0]"] (inputs changed)`))},
		{recipe: "nfs", vars: []string{"server=ganesha", "mount=libnfs", "clients=3"}, want: xfsprogs("module.export", "step.server_packages", "server", 1, []string{
			`+ module.libnfs.step.packages["client[0]"]`,
			`+ module.libnfs.step.packages["client[1]"]`,
			`+ module.libnfs.step.packages["client[2]"]`,
			`+ module.libnfs.step.script["client[0]"]`,
			`+ module.libnfs.step.script["client[1]"]`,
			`+ module.libnfs.step.script["client[2]"]`,
			`+ module.libnfs.step.unit["client[0]"]`,
			`+ module.libnfs.step.unit["client[1]"]`,
			`+ module.libnfs.step.unit["client[2]"]`,
			`+ step.gvfs_retire["client[0]"]`,
			`+ step.gvfs_retire["client[1]"]`,
			`+ step.gvfs_retire["client[2]"]`,
			`+ step.gvfs_service["client[0]"]`,
			`+ step.gvfs_service["client[1]"]`,
			`+ step.gvfs_service["client[2]"]`,
			`- step.ganesha_preflight["server[0]"] (no longer in the recipe)`,
			`- step.gvfs_script["client[0]"] (no longer in the recipe)`,
			`- step.gvfs_script["client[1]"] (no longer in the recipe)`,
			`- step.gvfs_script["client[2]"] (no longer in the recipe)`,
			`- step.gvfs_unit["client[0]"] (no longer in the recipe)`,
			`- step.gvfs_unit["client[1]"] (no longer in the recipe)`,
			`- step.gvfs_unit["client[2]"] (no longer in the recipe)`,
			`~ module.ganesha.step.exports["server[0]"] (inputs changed)`,
			`~ module.ganesha.step.service["server[0]"] (reload because module.ganesha.step.exports["server[0]"] will change)`,
			`~ module.libnfs.step.mount["client[0]"] (inputs changed; then restart because module.libnfs.step.script["client[0]"] and 1 more will change)`,
			`~ module.libnfs.step.mount["client[1]"] (inputs changed; then restart because module.libnfs.step.script["client[1]"] and 1 more will change)`,
			`~ module.libnfs.step.mount["client[2]"] (inputs changed; then restart because module.libnfs.step.script["client[2]"] and 1 more will change)`,
			`~ module.libnfs.step.ready["client[0]"] (inputs changed)`,
			`~ module.libnfs.step.ready["client[1]"] (inputs changed)`,
			`~ module.libnfs.step.ready["client[2]"] (inputs changed)`,
			`~ step.ganesha_lock["server[0]"] (inputs changed)`,
		})},
		// State applied just before the libnfs mount moved into
		// builtin/gvfs-mount (testdata/pregvfsmount, from commit 7ea5323):
		// gvfs_retire stops the old unit, the module mounts again and
		// gvfs_service follows it to the new unit; the kernel modes are
		// untouched. These older recipes already called builtin/xfs-volume,
		// which the test takes from this binary: their state has the
		// module's packages step (a cluster applied then plans it too), so
		// only server_packages shows.
		{recipe: "nfs", before: "pregvfsmount", want: xfsprogs("", "step.server_packages", "server", 1, kernelGanesha())},
		{recipe: "nfs", before: "pregvfsmount", vars: []string{"server=ganesha", "mount=libnfs"}, want: xfsprogs("", "step.server_packages", "server", 1, []string{
			`+ module.libnfs.step.mount["client[0]"] (then restart because module.libnfs.step.script["client[0]"] and 1 more will change)`,
			`+ module.libnfs.step.mount["client[1]"] (then restart because module.libnfs.step.script["client[1]"] and 1 more will change)`,
			`+ module.libnfs.step.packages["client[0]"]`,
			`+ module.libnfs.step.packages["client[1]"]`,
			`+ module.libnfs.step.script["client[0]"]`,
			`+ module.libnfs.step.script["client[1]"]`,
			`+ module.libnfs.step.unit["client[0]"]`,
			`+ module.libnfs.step.unit["client[1]"]`,
			`+ step.gvfs_retire["client[0]"]`,
			`+ step.gvfs_retire["client[1]"]`,
			`- step.ganesha_preflight["server[0]"] (no longer in the recipe)`,
			`- step.gvfs_script["client[0]"] (no longer in the recipe)`,
			`- step.gvfs_script["client[1]"] (no longer in the recipe)`,
			`- step.gvfs_unit["client[0]"] (no longer in the recipe)`,
			`- step.gvfs_unit["client[1]"] (no longer in the recipe)`,
			`~ module.ganesha.step.exports["server[0]"] (inputs changed)`,
			`~ module.ganesha.step.service["server[0]"] (reload because module.ganesha.step.exports["server[0]"] will change)`,
			`~ module.libnfs.step.ready["client[0]"] (inputs changed)`,
			`~ module.libnfs.step.ready["client[1]"] (inputs changed)`,
			`~ step.gvfs_service["client[0]"] (inputs changed)`,
			`~ step.gvfs_service["client[1]"] (inputs changed)`,
		})},
		{recipe: "nfs", vars: []string{"clients=0"}, want: xfsprogs("module.export", "step.server_packages", "server", 1, append(kernelGanesha(), `~ step.kernel_statd["server[0]"] (inputs changed)`))},
		// State applied just before NFS-Ganesha's steps moved into
		// builtin/ganesha (testdata/preganesha, from commit 9ff18ed):
		// NFS-Ganesha servers move and reload the export file, whose text
		// is builtin/ganesha's now; kernel servers take the four lines of
		// docs/recipes/nfs.md.
		{recipe: "nfs", before: "preganesha", want: xfsprogs("", "step.server_packages", "server", 1, kernelGanesha())},
		{recipe: "nfs", before: "preganesha", vars: []string{"clients=0"}, want: xfsprogs("", "step.server_packages", "server", 1, kernelGanesha())},
		{recipe: "nfs", before: "preganesha", vars: []string{"server=ganesha", "mount=libnfs", "clients=3"}, moves: 4, want: xfsprogs("", "step.server_packages", "server", 1, []string{
			`- step.ganesha_preflight["server[0]"] (no longer in the recipe)`,
			`~ module.ganesha.step.exports["server[0]"] (inputs changed)`,
			`~ module.ganesha.step.service["server[0]"] (reload because module.ganesha.step.exports["server[0]"] will change)`,
		})},
		// orangefs: the build modules' deps no longer list xfsprogs.
		{recipe: "orangefs", want: xfsprogs("module.storage", "module.server_build.step.deps", "server", 2,
			xfsprogs("", "module.client_build.step.deps", "client", 2, nil))},
		{recipe: "orangefs", vars: []string{"client_mount=fuse", "servers=3", "clients=3"}, want: xfsprogs("module.storage", "module.server_build.step.deps", "server", 3,
			xfsprogs("", "module.client_build.step.deps", "client", 3, nil))},
		// docs/recipes/moosefs.md: moves, and each client's mount once (its
		// fstab edit now takes diffuser's fstab lock; its unless holds:
		// nothing runs).
		{recipe: "moosefs", moves: 3 + 2 + 3*3 + 2*3, want: xfsprogs("module.chunks", "step.chunkserver_packages", "chunkserver", 3,
			[]string{`~ step.mount["client[0]"] (inputs changed)`})},
		{recipe: "moosefs", vars: []string{"metaloggers=0", "chunkservers=1", "goal=1", "clients=2"}, moves: 3 + 3 + 2,
			want: xfsprogs("module.chunks", "step.chunkserver_packages", "chunkserver", 1,
				[]string{`~ step.mount["client[0]"] (inputs changed)`, `~ step.mount["client[1]"] (inputs changed)`})},
		// moosefs applied after the modules but before the client mount
		// took the fstab lock (testdata/prefstablock, the recipe directory
		// at commit 8d6e41a; builtin/xfs-volume is this binary's): each
		// client's mount updates once (its unless holds: nothing runs).
		{recipe: "moosefs", before: "prefstablock", doc: "8d6e41a", want: xfsprogs("", "step.chunkserver_packages", "chunkserver", 3,
			[]string{`~ step.mount["client[0]"] (inputs changed)`})},
		{recipe: "moosefs", before: "prefstablock", doc: "8d6e41a", vars: []string{"metaloggers=0", "chunkservers=1", "goal=1", "clients=2"},
			want: xfsprogs("", "step.chunkserver_packages", "chunkserver", 1,
				[]string{`~ step.mount["client[0]"] (inputs changed)`, `~ step.mount["client[1]"] (inputs changed)`})},
		// docs/recipes/ceph.md: moves, the filesystem step once (its
		// command gained the fs_name guard; it finds everything there),
		// and each OSD host's drop-in once (it chowns the device, not the
		// block link: a daemon-reload, no OSD restarts).
		{recipe: "ceph", moves: 6 + 3*3 + 3, want: []string{
			`~ module.osd_dropin.step.dropin["osd[0]"] (inputs changed)`,
			`~ module.osd_dropin.step.dropin["osd[1]"] (inputs changed)`,
			`~ module.osd_dropin.step.dropin["osd[2]"] (inputs changed)`,
			`~ step.filesystem["mon[0]"] (inputs changed)`}},
		{recipe: "ceph", vars: []string{"monitors=3", "osds=2", "client_mount=kernel", "clients=2"}, moves: 3*6 + 2*3 + 2*2,
			want: []string{
				`~ module.osd_dropin.step.dropin["osd[0]"] (inputs changed)`,
				`~ module.osd_dropin.step.dropin["osd[1]"] (inputs changed)`,
				`~ step.filesystem["mon[0]"] (inputs changed)`}},
		// ceph applied before its captures were checked where captured
		// (testdata/precaptures, from commit 308f1b2): fsid, keys and
		// client_key update once (their creates and unless hold: nothing
		// runs but the captures, which read the same values), and so does
		// each OSD's osd step (grep -qF; it finds its device an OSD of the
		// cluster); what reads the captures is known after those run and
		// finds nothing changed (it does not run).
		{recipe: "ceph", before: "precaptures", doc: "308f1b2", moves: 6 + 3*3 + 3, ran: 4 + 3 + 3, want: []string{
			`~ module.client_files.step.conf["client[0]"] (inputs known after apply)`,
			`~ module.client_files.step.keyring["client[0]"] (inputs known after apply)`,
			`~ module.mon_files.step.conf["mon[0]"] (inputs known after apply)`,
			`~ module.mon_files.step.keyring["mon[0]"] (inputs known after apply)`,
			`~ module.osd_dropin.step.dropin["osd[0]"] (inputs changed)`,
			`~ module.osd_dropin.step.dropin["osd[1]"] (inputs changed)`,
			`~ module.osd_dropin.step.dropin["osd[2]"] (inputs changed)`,
			`~ module.osd_files.step.conf["osd[0]"] (inputs known after apply)`,
			`~ module.osd_files.step.conf["osd[1]"] (inputs known after apply)`,
			`~ module.osd_files.step.conf["osd[2]"] (inputs known after apply)`,
			`~ module.osd_files.step.keyring["osd[0]"] (inputs known after apply)`,
			`~ module.osd_files.step.keyring["osd[1]"] (inputs known after apply)`,
			`~ module.osd_files.step.keyring["osd[2]"] (inputs known after apply)`,
			`~ step.client_key["mon[0]"] (inputs changed)`,
			`~ step.filesystem["mon[0]"] (inputs changed)`,
			`~ step.fsid["mon[0]"] (inputs changed)`,
			`~ step.keys["mon[0]"] (inputs changed)`,
			`~ step.mon_keyring["mon[0]"] (inputs known after apply)`,
			`~ step.mon_mkfs["mon[0]"] (inputs known after apply)`,
			`~ step.osd["osd[0]"] (inputs known after apply)`,
			`~ step.osd["osd[1]"] (inputs known after apply)`,
			`~ step.osd["osd[2]"] (inputs known after apply)`,
		}},
	}
	for _, c := range cases {
		name := c.recipe
		if c.before != "" {
			name = c.before + "/" + name
		}
		if len(c.vars) > 0 {
			name += "/" + strings.Join(c.vars, ",")
		}
		t.Run(name, func(t *testing.T) {
			w := newSimWorld(t)
			w.env = &workspace.Env{DataDir: w.env.DataDir, Sim: workspace.SimOptions{Enabled: true}} // simulated kinds
			before := c.before
			if before == "" {
				before = "prerewrite"
			}
			if c.doc != "" {
				upgradedoc.Mentions(t, "..", c.recipe, c.doc)
			}
			// A fixture that is a recipe directory (its own modules, moved
			// blocks) is planned as a directory; a lone main.hcl as a file.
			dir := filepath.Join("testdata", before, c.recipe)
			var pre string
			if entries, err := os.ReadDir(dir); err != nil {
				t.Fatal(err)
			} else if len(entries) > 1 {
				if pre, err = filepath.Abs(dir); err != nil {
					t.Fatal(err)
				}
			} else {
				src, err := os.ReadFile(filepath.Join(dir, "main.hcl"))
				if err != nil {
					t.Fatal(err)
				}
				pre = w.recipe(c.recipe+"-prerewrite", string(src))
			}
			cur, err := filepath.Abs(filepath.Join("..", "recipes", c.recipe)) // main.hcl and moved.hcl
			if err != nil {
				t.Fatal(err)
			}
			ws := "old"
			if res := applyWithVars(t, w, pre, ws, c.vars); len(res.Failures) > 0 {
				t.Fatalf("applying the pre-rewrite recipe: %v", res.Failures[0].Err)
			}
			if got, _ := planLines(t, w, pre, ws, c.vars); len(got) != 0 {
				t.Fatalf("the pre-rewrite recipe does not settle on the simulator: %v", got)
			}
			got, moves := planLines(t, w, cur, ws, c.vars)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("planning the rewritten recipe over pre-rewrite state:\n got %d changes:\n  %s\nwant %d:\n  %s",
					len(got), strings.Join(got, "\n  "), len(c.want), strings.Join(c.want, "\n  "))
			}
			if c.moves != 0 && len(moves) != c.moves {
				t.Errorf("%d moves, want %d:\n%s", len(moves), c.moves, strings.Join(moves, "\n"))
			}
			res := applyWithVars(t, w, cur, ws, c.vars)
			if len(res.Failures) > 0 {
				t.Fatalf("applying the rewritten recipe: %v", res.Failures[0].Err)
			}
			ran := c.ran
			if ran == 0 {
				ran = len(c.want)
			}
			if res.Ran != ran {
				t.Errorf("applying the rewritten recipe ran %d instances, want %d (of the planned changes)", res.Ran, ran)
			}
			if got, _ := planLines(t, w, cur, ws, c.vars); len(got) != 0 {
				t.Errorf("plan after applying the rewritten recipe: %v", got)
			}
		})
	}
}

// xfsprogs returns want with what a cluster applied before
// builtin/xfs-volume installed xfsprogs plans (docs/recipes/NAME.md), sorted:
// on each of the group's n hosts, the call's new packages step (when call
// is not "": it finds xfsprogs installed, nothing installs) and pkgStep,
// which no longer lists xfsprogs, updated once (its packages are there:
// nothing installs).
func xfsprogs(call, pkgStep, group string, n int, want []string) []string {
	out := append([]string(nil), want...)
	for i := 0; i < n; i++ {
		host := fmt.Sprintf("%s[%d]", group, i)
		if call != "" {
			out = append(out, fmt.Sprintf("+ %s.step.packages[%q]", call, host))
		}
		out = append(out, fmt.Sprintf("~ %s[%q] (inputs changed)", pkgStep, host))
	}
	sort.Strings(out)
	return out
}

// kernelGanesha is what a kernel-server nfs cluster applied before
// builtin/ganesha plans (docs/recipes/nfs.md): the moved nfs_service and
// nfs_port have no instance in module.ganesha and go, running nothing,
// and kernel_service and kernel_port take over.
func kernelGanesha() []string {
	return []string{
		`+ step.kernel_port["server[0]"]`,
		`+ step.kernel_service["server[0]"]`,
		`- module.ganesha.step.ready["server[0]"] (no longer in the recipe)`,
		`- module.ganesha.step.service["server[0]"] (no longer in the recipe)`,
	}
}

// planLines plans recipe in ws with vars and returns its changes and
// destroys as simWorld.plan writes them, and its moves ("FROM -> TO"),
// each sorted (moves are not changes: they run nothing).
func planLines(t *testing.T, w *simWorld, recipe, ws string, vars []string) (changes, moves []string) {
	t.Helper()
	in := w.inputs(recipe, ws)
	in.Vars = vars
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: in, Command: "plan", Refresh: true})
	if err != nil {
		t.Fatalf("plan %s: %v", recipe, err)
	}
	defer pl.Close()
	for _, c := range append(pl.Plan.Changes, pl.Plan.Destroys...) {
		line := c.Action.Symbol() + " " + c.Addr
		if c.Reason != "" {
			line += " (" + c.Reason + ")"
		}
		changes = append(changes, line)
	}
	for _, m := range pl.Plan.Moves {
		moves = append(moves, m.From+" -> "+m.To)
	}
	sort.Strings(changes)
	sort.Strings(moves)
	return changes, moves
}

// applyWithVars applies recipe in ws with vars and returns the result.
func applyWithVars(t *testing.T, w *simWorld, recipe, ws string, vars []string) *engine.Result {
	t.Helper()
	in := w.inputs(recipe, ws)
	in.Vars = vars
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: in, Command: "apply", Lock: true, Refresh: true})
	if err != nil {
		t.Fatalf("plan for apply of %s: %v", recipe, err)
	}
	defer pl.Close()
	res, err := pl.Apply(context.Background(), workspace.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply %s: %v", recipe, err)
	}
	return res
}
