package engine_test

import (
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/state"
	"diffuser/steps/builtin"
	"diffuser/steps/steptest"
)

// unitHosts answers, per simulated host, the commands of the file and
// service kinds and of builtin/systemd-unit's destroy command as systemd
// would, for units that all serve one port: a unit starts only when its
// file is in /etc/systemd/system and no other unit is active ("Address
// already in use"). daemon-reload fails while broken is set.
type unitHosts struct {
	mu     sync.Mutex
	files  map[string]bool // host + " " + path
	active map[string]bool // host + " " + unit (without .service)
	broken bool
}

var (
	fileFactsAt  = regexp.MustCompile(`^if \[ -L '?([^' ]+)'? \]`)
	fileInstall  = regexp.MustCompile(`^d='?([^' ]+)'? f='?([^' ]+)'? s=`)
	systemctlCmd = regexp.MustCompile(`^systemctl (is-active|is-enabled|start|restart|enable|reset-failed) -- '?([^' ]+)'?$`)
	disableNow   = regexp.MustCompile(`systemctl disable --now '?([^' ;|]+?)'? `)
	removeFile   = regexp.MustCompile(`rm -f '?([^' ;]+)'?(?:;|$)`)
)

func unitOf(name string) string { return strings.TrimSuffix(name, ".service") }

func (u *unitHosts) behave(host, cmd string) (time.Duration, int, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case fileFactsAt.MatchString(cmd):
		if u.files[host+" "+fileFactsAt.FindStringSubmatch(cmd)[1]] {
			return 0, 0, "644 root root 0 0\n" + strings.Repeat("0", 64) + "  file\n"
		}
		return 0, 0, "absent\n"
	case fileInstall.MatchString(cmd):
		m := fileInstall.FindStringSubmatch(cmd)
		u.files[host+" "+path.Join(m[1], m[2])] = true
	case strings.HasPrefix(cmd, "systemctl show -p NeedDaemonReload"):
		return 0, 0, "no\n"
	case systemctlCmd.MatchString(cmd):
		m := systemctlCmd.FindStringSubmatch(cmd)
		unit := unitOf(m[2])
		switch m[1] {
		case "is-active":
			if u.active[host+" "+unit] {
				return 0, 0, "active\n"
			}
			return 0, 3, "inactive\n"
		case "is-enabled":
			return 0, 1, "disabled\n" // enable is answered, never asked again
		case "start", "restart":
			if !u.files[host+" /etc/systemd/system/"+unit+".service"] {
				return 0, 5, "Unit " + unit + ".service not found.\n"
			}
			for k, on := range u.active {
				if on && strings.HasPrefix(k, host+" ") && k != host+" "+unit {
					return 0, 1, "Job for " + unit + ".service failed\n"
				}
			}
			u.active[host+" "+unit] = true
		}
	case strings.HasPrefix(cmd, "journalctl -u "):
		return 0, 0, "OSError: [Errno 98] Address already in use\n"
	case disableNow.MatchString(cmd): // systemd-unit's destroy command
		delete(u.active, host+" "+unitOf(disableNow.FindStringSubmatch(cmd)[1]))
		delete(u.files, host+" "+removeFile.FindStringSubmatch(cmd)[1])
		if u.broken {
			return 0, 1, "Failed to reload daemon: Access denied\n"
		}
	case strings.HasPrefix(cmd, "rm -f "):
		delete(u.files, host+" "+removeFile.FindStringSubmatch(cmd)[1])
	}
	return 0, 0, ""
}

// on lists the units active on host, sorted by name.
func (u *unitHosts) on(host string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var names []string
	for k, on := range u.active {
		if name, ok := strings.CutPrefix(k, host+" "); ok && on {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// unitWorld is a world of src with the built-in kinds on hosts that
// answer as unitHosts.
func unitWorld(t *testing.T, src string) (*world, *unitHosts) {
	w := newWorld(t, src)
	w.kinds = builtin.WithClock(steptest.NewClock())
	w.extra = map[string]string{}
	u := &unitHosts{files: map[string]bool{}, active: map[string]bool{}}
	w.cloud.Behavior = u.behave
	return w, u
}

func (u *unitHosts) has(host, path string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.files[host+" "+path]
}

const unitCall = `recipe "t" {}
variable "name" { default = "webd" }
variable "site_undo" { default = true }
hosts "a" { count = 2 }
module "web" {
  source  = "builtin/systemd-unit"
  on      = hosts.a
  name    = var.name
  content = "[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n[Install]\nWantedBy=multi-user.target\n"
}
# A file without a destroy command leaves its old path as the step
# leaving the recipe would: an update in place.
step "note" {
  on = hosts.a
  file {
    path    = "/etc/${var.name}.note"
    content = "x"
  }
}
# A file with a destroy command: replaced when its path changes, unless
# the change drops the command.
step "site" {
  on = hosts.a
  file {
    path    = "/etc/${var.name}.site"
    content = "x"
  }
  destroy = var.site_undo ? "rm -f /etc/${var.name}.site" : null
}
`

// TestUnitRenamedIsReplaced: renaming a builtin/systemd-unit call's unit
// replaces its unit step: the plan says the file moves (naming both
// paths) and that the old one's destroy command runs first; apply runs
// that command, as recorded for the old unit, once per host before the
// new unit file is written, so the old unit is stopped, disabled and its
// file gone, and the service step (an update: it records no destroy)
// starts the new unit. A file step with a destroy command is replaced
// too; one without, or whose change drops it, stays an update, running
// nothing of the old. A failing destroy command fails the unit step with
// nothing new done (state keeps the old record), and the next apply runs
// it again. With the old code the
// rename was an update: the old unit stayed active and the new one
// failed, its port taken.
func TestUnitRenamedIsReplaced(t *testing.T) {
	w, u := unitWorld(t, unitCall)
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if got := u.on(h); got != "webd" {
			t.Fatalf("after the first apply, %s runs %q, want webd", h, got)
		}
	}
	if p := w.plan(); p.HasChanges() {
		t.Fatalf("re-plan has changes:\n%s", summary(p))
	}

	unit, note := `module.web.step.unit["a[0]"]`, `step.note["a[0]"]`
	w.vars = []string{"name=webd2"}
	p := w.plan()
	got := map[string]string{}
	for _, c := range p.Changes {
		got[c.Addr] = c.Action.String() + " (" + c.Reason + ")"
	}
	want := map[string]string{
		unit:                              "replace (the file moves from /etc/systemd/system/webd.service to /etc/systemd/system/webd2.service: the old one's destroy command runs first)",
		`module.web.step.service["a[0]"]`: "update (inputs changed; then restart because " + unit + " will change)",
		note:                              "update (inputs changed)",
		`step.site["a[0]"]`:               "replace (the file moves from /etc/webd.site to /etc/webd2.site: the old one's destroy command runs first)",
	}
	for addr, w := range want {
		if got[addr] != w {
			t.Errorf("plan of %s: %s, want %s", addr, got[addr], w)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if res := w.apply(p, 4); len(res.Failures) != 0 {
		t.Fatalf("renaming the unit: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if got := u.on(h); got != "webd2" || u.has(h, "/etc/systemd/system/webd.service") || !u.has(h, "/etc/systemd/system/webd2.service") {
			t.Errorf("after the rename, %s runs %q, webd.service file %v, webd2.service file %v; want webd2 only",
				h, got, u.has(h, "/etc/systemd/system/webd.service"), u.has(h, "/etc/systemd/system/webd2.service"))
		}
		cmds := strings.Join(w.cloud.Commands(h), "\n")
		if n := strings.Count(cmds, "systemctl disable --now webd.service"); n != 1 {
			t.Errorf("%s: the old destroy command ran %d times, want once", h, n)
		}
		d, f, s := strings.Index(cmds, "systemctl disable --now webd.service"), strings.Index(cmds, "d=/etc/systemd/system f=webd2.service "), strings.Index(cmds, "systemctl restart -- webd2")
		if d < 0 || f < d || s < f {
			t.Errorf("%s: want the old destroy (at %d), then the new unit file (%d), then its start (%d):\n%s", h, d, f, s, cmds)
		}
		if u.has(h, "/etc/webd.site") || !u.has(h, "/etc/webd2.site") {
			t.Errorf("%s: a file step with a destroy command moved: old file there %v, new %v; want only the new", h, u.has(h, "/etc/webd.site"), u.has(h, "/etc/webd2.site"))
		}
		if !u.has(h, "/etc/webd.note") || !u.has(h, "/etc/webd2.note") {
			t.Errorf("%s: a file step without destroy command moved: both files stay (old %v, new %v)", h, u.has(h, "/etc/webd.note"), u.has(h, "/etc/webd2.note"))
		}
	}
	if d := w.st.Steps[unit].Destroy; !strings.Contains(d, "webd2.service") {
		t.Errorf("the recorded destroy command names the old unit: %s", d)
	}
	if p := w.plan(); p.HasChanges() {
		t.Fatalf("plan after the rename has changes:\n%s", summary(p))
	}

	// A destroy command that fails: the unit step fails, the new unit file
	// is not written, state keeps webd2's record; fixed, the next apply
	// runs it again and goes on.
	u.broken = true
	w.vars = []string{"name=webd3"}
	res := w.apply(w.plan(), 4)
	wantErr := "undoing the file instance as last applied (the file moves from /etc/systemd/system/webd2.service to /etc/systemd/system/webd3.service: the old one's destroy command runs first) failed, so nothing new was done"
	var unitFailed int
	for _, f := range res.Failures {
		if strings.HasPrefix(f.Addr, "module.web.step.unit[") && strings.Contains(f.Err.Error(), wantErr) {
			unitFailed++
		}
	}
	if unitFailed != 2 {
		t.Fatalf("a failing destroy command: failures %v, want both unit instances failing with %q", res.Failures, wantErr)
	}
	if r := w.st.Steps[unit]; r.Status != state.StatusApplied || !strings.Contains(string(r.Args), "webd2.service") || u.has("a[0]", "/etc/systemd/system/webd3.service") {
		t.Fatalf("after the failing undo: record %s %s, webd3.service file %v", r.Status, r.Args, u.has("a[0]", "/etc/systemd/system/webd3.service"))
	}
	u.broken = false
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("after fixing the destroy command: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if got := u.on(h); got != "webd3" {
			t.Errorf("%s runs %q, want webd3", h, got)
		}
		if n := strings.Count(strings.Join(w.cloud.Commands(h), "\n"), "systemctl disable --now webd2.service"); n != 2 {
			t.Errorf("%s: webd2's destroy command ran %d times, want twice (failed, then again)", h, n)
		}
	}

	// The change that moves a file drops its destroy command: an update,
	// the old command is not run and the old file stays (the recipe took
	// the undo away, as the nfs recipe's gvfs_service did, its old unit
	// retired by another step).
	w.vars = []string{"name=webd3", "site_undo=false"}
	w.src = strings.Replace(unitCall, `"/etc/${var.name}.site"`, `"/etc/${var.name}.site2"`, 1)
	p = w.plan()
	site := "none"
	for _, c := range p.Changes {
		if c.Addr == `step.site["a[0]"]` {
			site = c.Action.String() + " (" + c.Reason + ")"
		}
	}
	if site != "update (inputs changed)" {
		t.Errorf("plan of step.site with its destroy command dropped: %s, want update (inputs changed)", site)
	}
	if res := w.apply(p, 4); len(res.Failures) != 0 {
		t.Fatalf("moving the site file without its destroy command: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if !u.has(h, "/etc/webd3.site") || !u.has(h, "/etc/webd3.site2") {
			t.Errorf("%s: the old file went although the change dropped the destroy command (old %v, new %v)", h, u.has(h, "/etc/webd3.site"), u.has(h, "/etc/webd3.site2"))
		}
	}
}

const secretFile = `recipe "t" {}
variable "dir" { default = "/etc/a" }
hosts "a" {}
step "key" {
  on = hosts.a
  file {
    path    = "${var.dir}/key"
    content = "k"
  }
  destroy = "rm -f ${var.dir}/key"
}
`

// TestSensitiveFileMovedNamesNoPath: a file step made sensitive in the
// change that moves it is replaced (state recorded its old arguments),
// and the plan's reason names neither path.
func TestSensitiveFileMovedNamesNoPath(t *testing.T) {
	w := newWorld(t, secretFile)
	w.kinds = simKinds
	w.extra = map[string]string{}
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	w.vars = []string{"dir=/etc/b"}
	w.src = strings.Replace(secretFile, "  on = hosts.a\n", "  on = hosts.a\n  sensitive = true\n", 1)
	p := w.plan()
	if len(p.Changes) != 1 || p.Changes[0].Action.String() != "replace" ||
		p.Changes[0].Reason != "what it names changes (values hidden: sensitive step): the old one's destroy command runs first" {
		t.Fatalf("plan:\n%s", summary(p))
	}
	if res := w.apply(p, 4); len(res.Failures) != 0 || w.cloud.CountMatching("rm -f /etc/a/key") != 1 {
		t.Fatalf("apply: failures %v, the old destroy command ran %d times, want once", res.Failures, w.cloud.CountMatching("rm -f /etc/a/key"))
	}
}

// TestReplaceRestartsService: -replace of a service step's instance
// restarts its unit (Apply alone leaves a running unit as it is, so
// "re-run" did nothing a person asking for it wanted), only there: the
// plan says so, the restart runs once, on that host, and the plan after is
// empty.
func TestReplaceRestartsService(t *testing.T) {
	w, _ := unitWorld(t, unitCall)
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	svc := `module.web.step.service["a[1]"]`
	p := w.plan(func(o *engine.PlanOptions) { o.Replace = []string{svc} })
	if len(p.Changes) != 1 || p.Changes[0].Addr != svc || p.Changes[0].Restart != "restart" ||
		p.Changes[0].Reason != "restart requested with -replace" {
		t.Fatalf("plan -replace %s:\n%s", svc, summary(p))
	}
	restarts := func(host string) int {
		n := 0
		for _, c := range w.cloud.Commands(host) {
			if strings.HasPrefix(c, "systemctl restart") {
				n++
			}
		}
		return n
	}
	before0, before1 := restarts("a[0]"), restarts("a[1]")
	if res := w.apply(p, 4); len(res.Failures) != 0 {
		t.Fatalf("apply -replace: %v", res.Failures)
	}
	if got0, got1 := restarts("a[0]")-before0, restarts("a[1]")-before1; got0 != 0 || got1 != 1 {
		t.Errorf("apply -replace %s restarted %d times on a[0] and %d on a[1], want 0 and 1", svc, got0, got1)
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("plan after -replace has changes:\n%s", summary(p))
	}
}

// TestReplaceRerunsGuardedRunStep: -replace of a run step's instance runs
// its command again on that host, its creates and unless skipped as for
// restart_on: the plan says "re-run requested with -replace", and a guard
// that holds (it does after the first run: that is what guards are for)
// skipped the command, so the apply ran the guard alone and did nothing
// the person naming the instance asked for. The plan says which guard it
// skips (a creates that guards a key or a volume's mkfs is what keeps the
// command from running twice); a step without one reads as before.
func TestReplaceRerunsGuardedRunStep(t *testing.T) {
	w := newWorld(t, `recipe "t" {}
hosts "a" { count = 2 }
step "seed" {
  on      = hosts.a
  run     = "seed-data"
  creates = "/srv/seeded"
}
step "perms" {
  on     = hosts.a
  run    = "fix-perms"
  unless = "perms-ok"
}
step "both" {
  on      = hosts.a
  run     = "both-cmd"
  creates = "/srv/both"
  unless  = "both-ok"
}
step "plain" {
  on  = hosts.a
  run = "plain-cmd"
}
`)
	applyOK(t, w, w.plan())
	seeds, perms := w.cloud.CountMatching("seed-data"), w.cloud.CountMatching("fix-perms")
	p := w.plan(func(o *engine.PlanOptions) {
		o.Replace = []string{`step.seed["a[1]"]`, `step.perms["a[0]"]`, `step.both["a[0]"]`, `step.plain["a[0]"]`}
	})
	want := `~ step.perms["a[0]"] (re-run requested with -replace; its command runs whatever its unless says)
~ step.both["a[0]"] (re-run requested with -replace; its command runs whatever its creates and unless say)
~ step.plain["a[0]"] (re-run requested with -replace)
~ step.seed["a[1]"] (re-run requested with -replace; its command runs whatever its creates says)
`
	if got := summary(p); got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
	applyOK(t, w, p)
	if n := w.cloud.CountMatching("seed-data") - seeds; n != 1 {
		t.Errorf("seed-data ran %d more times, want once (on a[1])", n)
	}
	if n := w.cloud.CountMatching("fix-perms") - perms; n != 1 {
		t.Errorf("fix-perms ran %d more times, want once (on a[0])", n)
	}
	if s := summary(w.plan()); s != "" {
		t.Errorf("plan after -replace:\n%s", s)
	}
}

const keptOldBefore = `recipe "t" {}
hosts "a" {}
step "m1" {
  on = hosts.a
  file {
    path    = "/etc/m.conf"
    content = "m1\n"
  }
  destroy = "rm -f /etc/m.conf"
}
step "sa" {
  on = hosts.a
  file {
    path    = "/etc/x.conf"
    content = "a\n"
  }
  destroy = "rm -f /etc/x.conf"
}
step "sb" {
  on = hosts.a
  file {
    path    = "/etc/y.conf"
    content = "b\n"
  }
  destroy = "rm -f /etc/y.conf"
}
step "mv" {
  on = hosts.a
  file {
    path    = "/etc/a.conf"
    content = "mv\n"
  }
  destroy = "rm -f /etc/a.conf"
}
`

// keptOldAfter moves m1 and mv, gives m1's old path to a new step and
// swaps sa's and sb's paths.
const keptOldAfter = `recipe "t" {}
hosts "a" {}
step "m1" {
  on = hosts.a
  file {
    path    = "/etc/m.d/main.conf"
    content = "m1\n"
  }
  destroy = "rm -f /etc/m.d/main.conf"
}
step "legacy" {
  on = hosts.a
  file {
    path    = "/etc/m.conf"
    content = "legacy\n"
  }
}
step "sa" {
  on = hosts.a
  file {
    path    = "/etc/y.conf"
    content = "a\n"
  }
  destroy = "rm -f /etc/y.conf"
}
step "sb" {
  on = hosts.a
  file {
    path    = "/etc/x.conf"
    content = "b\n"
  }
  destroy = "rm -f /etc/x.conf"
}
step "mv" {
  on = hosts.a
  file {
    path    = "/etc/b.conf"
    content = "mv\n"
  }
  destroy = "rm -f /etc/b.conf"
}
`

// TestMovedFileKeptWhenAnotherHasIt: a file step whose path changes is
// replaced (its old destroy command runs first), except where another
// instance of the recipe has the old path now: a new step taking it over,
// or two steps swapping paths. There the old destroy would remove the
// other's file, whenever that one ran (apply reported success with
// /etc/m.conf gone, or failed reading a swapped file): the change is an
// update, saying which instance has the old path, and nothing of the old
// is undone. A move nobody takes over is still a replacement.
func TestMovedFileKeptWhenAnotherHasIt(t *testing.T) {
	w, u := unitWorld(t, keptOldBefore)
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	w.src = keptOldAfter
	p := w.plan()
	want := map[string]string{
		`step.m1["a[0]"]`: `inputs changed; the old one is not undone: step.legacy["a[0]"] has the same path /etc/m.conf now`,
		`step.sa["a[0]"]`: `inputs changed; the old one is not undone: step.sb["a[0]"] has the same path /etc/x.conf now`,
		`step.sb["a[0]"]`: `inputs changed; the old one is not undone: step.sa["a[0]"] has the same path /etc/y.conf now`,
	}
	for _, c := range p.Changes {
		switch {
		case want[c.Addr] != "":
			if c.Action != engine.Update || c.Reason != want[c.Addr] {
				t.Errorf("%s: %s (%s), want an update: %s", c.Addr, c.Action, c.Reason, want[c.Addr])
			}
		case c.Addr == `step.mv["a[0]"]`:
			if c.Action != engine.Replace {
				t.Errorf("%s: %s (%s), want a replacement (nobody has /etc/a.conf now)", c.Addr, c.Action, c.Reason)
			}
		}
	}
	before := len(w.cloud.Commands("a[0]"))
	if res := w.apply(p, 4); len(res.Failures) != 0 {
		t.Fatalf("apply: %v", res.Failures)
	}
	var removed []string
	for _, cmd := range w.cloud.Commands("a[0]")[before:] {
		if strings.HasPrefix(cmd, "rm -f") {
			removed = append(removed, cmd)
		}
	}
	if len(removed) != 1 || removed[0] != "rm -f /etc/a.conf" {
		t.Errorf("apply removed %q, want only mv's old /etc/a.conf", removed)
	}
	for _, f := range []string{"/etc/m.conf", "/etc/x.conf", "/etc/y.conf", "/etc/m.d/main.conf", "/etc/b.conf"} {
		if !u.has("a[0]", f) {
			t.Errorf("%s is gone after the apply", f)
		}
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("plan after the apply has changes:\n%s", summary(p))
	}
}
