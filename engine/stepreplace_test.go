package engine_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/engine"
	"diffuser/state"
)

// mountTable answers the mount kind's commands on simulated hosts as a
// kernel would: what is mounted where, per host. umount fails while
// busy is set.
type mountTable struct {
	mu      sync.Mutex
	mounted map[string]map[string]string // host -> target -> source
	busy    bool
}

var (
	findmntAt   = regexp.MustCompile(`^findmnt -rn -o SOURCE,FSTYPE --mountpoint (\S+)$`)
	mountScript = regexp.MustCompile(`(?s)^t=(\S+)\n.*\nmount -t (\S+) (\S+) \S+ \|\| exit\n`)
	umountAt    = regexp.MustCompile(`^umount (?:-- )?(\S+)$`)
)

func (m *mountTable) behave(host, cmd string) (time.Duration, int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mounted == nil {
		m.mounted = map[string]map[string]string{}
	}
	if m.mounted[host] == nil {
		m.mounted[host] = map[string]string{}
	}
	on := m.mounted[host]
	switch {
	case findmntAt.MatchString(cmd):
		t := findmntAt.FindStringSubmatch(cmd)[1]
		if src, ok := on[t]; ok {
			return 0, 0, src + " tmpfs\n"
		}
		return 0, 1, ""
	case mountScript.MatchString(cmd):
		g := mountScript.FindStringSubmatch(cmd)
		if src, ok := on[g[1]]; ok {
			return 0, 93, src + " tmpfs\n"
		}
		on[g[1]] = g[3]
		return 0, 0, g[3] + " " + g[2] + "\n"
	case umountAt.MatchString(cmd):
		if m.busy {
			return 0, 32, "umount: target is busy.\n"
		}
		delete(on, umountAt.FindStringSubmatch(cmd)[1])
	}
	return 0, 0, ""
}

// at lists the hosts that have target mounted.
func (m *mountTable) at(target string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, on := range m.mounted {
		if _, ok := on[target]; ok {
			n++
		}
	}
	return n
}

const mountStep = `recipe "t" {}
variable "target" { default = "/mnt/a" }
hosts "a" { count = 2 }
step "scratch" {
  on = hosts.a
  mount {
    source = "scratch"
    target = var.target
    fstype = "tmpfs"
  }
  destroy = "echo undo-scratch"
}
`

// TestStepReplacedWhenItsKindOrMountChanges: a step instance whose
// update would leave what its kind made behind is replaced: its kind's
// own undo runs first with the arguments state recorded, then the new
// instance. A mount that moves is unmounted from its old target; a mount
// step rewritten as a run step is unmounted too, not forgotten. The
// step's destroy command is for when it leaves the recipe: a replacement
// does not run it. A run step has nothing of its kind to undo: as a file
// step it is updated in place. An undo that fails keeps the old record
// and fails the step, with nothing new done.
func TestStepReplacedWhenItsKindOrMountChanges(t *testing.T) {
	w := newWorld(t, mountStep)
	mt := &mountTable{}
	w.cloud.Behavior = mt.behave
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 || mt.at("/mnt/a") != 2 {
		t.Fatalf("first apply: failures %v, /mnt/a mounted on %d hosts", res.Failures, mt.at("/mnt/a"))
	}
	addr := `step.scratch["a[0]"]`
	wantPlan := func(action engine.Action, reason string) {
		t.Helper()
		p := w.plan()
		for _, c := range p.Changes {
			if c.Addr == addr {
				if c.Action != action || c.Reason != reason {
					t.Fatalf("plan of %s: %s (%s), want %s (%s)", addr, c.Action, c.Reason, action, reason)
				}
				return
			}
		}
		t.Fatalf("plan has no change of %s, want %s (%s)", addr, action, reason)
	}

	// The mount moves: unmounted at /mnt/a, mounted at /mnt/b.
	w.vars = []string{"target=/mnt/b"}
	wantPlan(engine.Replace, "the mount moves from /mnt/a to /mnt/b: the old one is undone first")
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("moving the mount: %v", res.Failures)
	}
	if mt.at("/mnt/a") != 0 || mt.at("/mnt/b") != 2 || w.cloud.CountMatching("undo-scratch") != 0 {
		t.Fatalf("after the move: /mnt/a on %d hosts, /mnt/b on %d, undo-scratch ran %d times; want 0, 2, 0",
			mt.at("/mnt/a"), mt.at("/mnt/b"), w.cloud.CountMatching("undo-scratch"))
	}
	cmds := strings.Join(w.cloud.Commands("a[0]"), "\n")
	if u, m := strings.Index(cmds, "umount /mnt/a"), strings.Index(cmds, "mount -t tmpfs scratch /mnt/b"); u < 0 || m < u {
		t.Errorf("on a[0] the old mount must go before the new one is made:\n%s", cmds)
	}

	// An undo that fails: the step fails, its record keeps /mnt/b, and
	// nothing is mounted at /mnt/c.
	mt.busy = true
	w.vars = []string{"target=/mnt/c"}
	res := w.apply(w.plan(), 4)
	if len(res.Failures) != 2 || !strings.Contains(res.Failures[0].Err.Error(), "undoing the mount instance as last applied (the mount moves from /mnt/b to /mnt/c") {
		t.Fatalf("a failing undo: failures %v", res.Failures)
	}
	if mt.at("/mnt/c") != 0 || mt.at("/mnt/b") != 2 || !strings.Contains(string(w.st.Steps[addr].Args), `"/mnt/b"`) || w.st.Steps[addr].Status != state.StatusApplied {
		t.Fatalf("after the failing undo: /mnt/c on %d hosts, /mnt/b on %d, record %s %s", mt.at("/mnt/c"), mt.at("/mnt/b"), w.st.Steps[addr].Status, w.st.Steps[addr].Args)
	}
	mt.busy = false
	w.vars = nil

	// A new source at the same target is an update: Apply refuses it
	// while the old one is mounted, rather than swap a disk under a
	// daemon.
	w.src = strings.Replace(mountStep, `source = "scratch"`, `source = "other"`, 1)
	w.vars = []string{"target=/mnt/b"}
	wantPlan(engine.Update, "inputs changed")
	w.vars = nil

	// The same step as a run step: the mount at /mnt/b is undone, the
	// run step runs.
	w.src = strings.Replace(mountStep, `  mount {
    source = "scratch"
    target = var.target
    fstype = "tmpfs"
  }
  destroy = "echo undo-scratch"`, `  run = "echo scratch-run"`, 1)
	wantPlan(engine.Replace, "the kind changes from mount to run: the mount instance is undone first")
	if res := w.apply(w.plan(), 4); len(res.Failures) != 0 {
		t.Fatalf("mount to run: %v", res.Failures)
	}
	if mt.at("/mnt/b") != 0 || w.cloud.CountMatching("undo-scratch") != 0 || w.cloud.CountMatching("scratch-run") != 2 || w.st.Steps[addr].Kind != "run" {
		t.Fatalf("after mount to run: /mnt/b on %d hosts, undo-scratch ran %d times, scratch-run %d, kind %s",
			mt.at("/mnt/b"), w.cloud.CountMatching("undo-scratch"), w.cloud.CountMatching("scratch-run"), w.st.Steps[addr].Kind)
	}
	if p := w.plan(); p.HasChanges() {
		t.Fatalf("plan after the replacement has changes: %+v", p.Changes)
	}

	// A run step (with a destroy command or not) leaves nothing its kind
	// undoes: as a file step it is an update.
	w.src = strings.Replace(w.src, `  run = "echo scratch-run"`, `  file {
    path    = "/etc/scratch"
    content = "x"
  }`, 1)
	wantPlan(engine.Update, "inputs changed")
}
