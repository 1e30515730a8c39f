package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"diffuser/cloud"
	"diffuser/engine"
	"diffuser/runner"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// fstabHosts keeps an /etc/fstab per simulated host, edited as the mount
// kind edits it: read with cat, the new content uploaded beside it, then
// swapped in by one command when the file still hashes to what was read.
// Reading fails while broken is set.
type fstabHosts struct {
	mu     sync.Mutex
	files  map[string]string // host -> content
	stages map[string]string // host + " " + stage path -> content
	broken bool
}

var fstabSwapCmd = regexp.MustCompile(`^f=(\S+) s=(\S+) want=([0-9a-f]+) `)

func (f *fstabHosts) get(host string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.files[host]
}

// fstabConnector hands out the simulated cloud's runners with fstab
// answered by fstabHosts.
type fstabConnector struct {
	sim engine.Connector
	f   *fstabHosts
}

func (c fstabConnector) Runner(ctx context.Context, h state.Host, onHostKey func(int, string) error) (runner.Runner, error) {
	r, err := c.sim.Runner(ctx, h, onHostKey)
	if err != nil {
		return nil, err
	}
	return fstabRunner{Runner: r, host: h.Name, f: c.f}, nil
}

type fstabRunner struct {
	runner.Runner
	host string
	f    *fstabHosts
}

func (r fstabRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	res, err := r.Runner.Run(ctx, cmd, opt) // recorded by the simulated cloud
	if err != nil {
		return res, err
	}
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m := fstabSwapCmd.FindStringSubmatch(cmd); {
	case cmd == "cat /etc/fstab 2>/dev/null || test ! -e /etc/fstab":
		if f.broken {
			return runner.Result{Exit: 1, Stderr: "cat: /etc/fstab: Input/output error\n"}, nil
		}
		return runner.Result{Stdout: f.files[r.host]}, nil
	case m != nil && m[1] == "/etc/fstab":
		sum := sha256.Sum256([]byte(f.files[r.host]))
		if hex.EncodeToString(sum[:]) != m[3] {
			return runner.Result{Exit: 90}, nil
		}
		f.files[r.host] = f.stages[r.host+" "+m[2]]
		delete(f.stages, r.host+" "+m[2])
		return runner.Result{}, nil
	}
	return res, nil
}

func (r fstabRunner) Upload(ctx context.Context, rd io.Reader, path string, mode os.FileMode) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if strings.HasPrefix(path, "/etc/.fstab.diffuser-") {
		r.f.mu.Lock()
		r.f.stages[r.host+" "+path] = string(b)
		r.f.mu.Unlock()
	}
	return r.Runner.Upload(ctx, bytes.NewReader(b), path, mode)
}

const fstabStep = `recipe "t" {}
variable "fstab" {
  type    = bool
  default = true
}
hosts "a" { count = 2 }
step "data" {
  on = hosts.a
  mount {
    source = "/dev/vdb"
    target = "/srv/data"
    fstype = "tmpfs"
    fstab  = var.fstab
  }
}
`

// TestMountFstabTurnedOff: a mount step applied with fstab = true, then
// edited to fstab = false (same source, same target), is an update in
// place, not a replacement: apply removes the fstab line the first apply
// wrote (the kind's Leave, with the arguments state recorded) and does not
// unmount, and the plan after is empty. A person's own fstab lines stay.
// When removing the line fails, the step fails with nothing new done and
// state keeps the fstab = true instance, so the next apply removes it.
// Destroy after it unmounts and leaves fstab alone. With the old code the
// line stayed for good: the host mounted the filesystem at every boot,
// and destroy (with fstab = false recorded) did not remove it either.
func TestMountFstabTurnedOff(t *testing.T) {
	w := newWorld(t, fstabStep)
	mt := &mountTable{}
	w.cloud.Behavior = mt.behave
	own := "UUID=1234 / ext4 errors=remount-ro 0 1\nnas:/export /mnt/other nfs _netdev 0 0\n"
	fs := &fstabHosts{files: map[string]string{"a[0]": own, "a[1]": own}, stages: map[string]string{}}
	apply := func() *engine.Result {
		t.Helper()
		prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
		return w.applyVia(w.plan(), 4, prov, fstabConnector{sim: w.cloud.Connector(), f: fs})
	}
	line := "/dev/vdb /srv/data tmpfs defaults 0 0\n"
	addr := `step.data["a[0]"]`

	if res := apply(); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	if got := fs.get("a[0]"); got != own+line || mt.at("/srv/data") != 2 {
		t.Fatalf("after the first apply: /srv/data mounted on %d hosts, fstab\n%s", mt.at("/srv/data"), got)
	}

	w.vars = []string{"fstab=false"}
	p := w.plan()
	var change *engine.Change
	for _, c := range p.Changes {
		if c.Addr == addr {
			change = c
		}
	}
	if change == nil || change.Action != engine.Update || change.Reason != "inputs changed" {
		t.Fatalf("plan of fstab = false: %+v, want an update in place (inputs changed)", change)
	}

	// Removing the line fails: nothing new is done, state keeps fstab = true.
	fs.broken = true
	res := apply()
	if len(res.Failures) != 2 || !strings.Contains(res.Failures[0].Err.Error(), "removing what the mount instance as last applied made and its new arguments no longer keep failed, so nothing new was done: removing the fstab line of /srv/data (fstab is now false)") {
		t.Fatalf("a failing removal: failures %v", res.Failures)
	}
	if inst := w.st.Steps[addr]; inst.Status != state.StatusApplied || !strings.Contains(strings.Join(strings.Fields(string(inst.Args)), ""), `"fstab":true`) {
		t.Fatalf("after the failing removal, the record is %s %s; want the applied fstab = true one", inst.Status, inst.Args)
	}
	fs.broken = false

	before := len(w.cloud.Commands("a[0]"))
	if res := apply(); len(res.Failures) != 0 {
		t.Fatalf("apply of fstab = false: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if got := fs.get(h); got != own {
			t.Errorf("after fstab = false, %s's fstab is\n%s\nwant\n%s", h, got, own)
		}
	}
	if mt.at("/srv/data") != 2 {
		t.Errorf("after fstab = false, /srv/data is mounted on %d hosts, want 2: an fstab change must not unmount", mt.at("/srv/data"))
	}
	for _, cmd := range w.cloud.Commands("a[0]")[before:] {
		if strings.HasPrefix(cmd, "umount") {
			t.Errorf("the update ran %q", cmd)
		}
	}
	if inst := w.st.Steps[addr]; inst.Status != state.StatusApplied || !strings.Contains(strings.Join(strings.Fields(string(inst.Args)), ""), `"fstab":false`) {
		t.Errorf("after fstab = false, the record is %s %s", inst.Status, inst.Args)
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("plan after fstab = false has changes:\n%s", summary(p))
	}
	if p := w.plan(w.refresh); p.HasChanges() {
		t.Errorf("refreshed plan after fstab = false has changes:\n%s", summary(p))
	}

	// Destroy unmounts; fstab keeps the person's lines.
	prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	if res := w.applyVia(w.plan(func(o *engine.PlanOptions) { o.Destroy = true }), 4, prov, fstabConnector{sim: w.cloud.Connector(), f: fs}); len(res.Failures) != 0 {
		t.Fatalf("destroy: %v", res.Failures)
	}
	if mt.at("/srv/data") != 0 || fs.get("a[0]") != own {
		t.Errorf("after destroy: /srv/data mounted on %d hosts, fstab\n%s", mt.at("/srv/data"), fs.get("a[0]"))
	}
}

// TestMountRenamedFstabOffHandedOver: a mount step renamed without a
// moved block and given fstab = false in the same edit is handed over
// (the new instance has the target: no unmount), and what only the old
// one kept goes as an update would remove it: its fstab line. It stayed
// for good (destroy of the new one, fstab = false, does not know it).
func TestMountRenamedFstabOffHandedOver(t *testing.T) {
	w := newWorld(t, fstabStep)
	mt := &mountTable{}
	w.cloud.Behavior = mt.behave
	own := "UUID=1234 / ext4 errors=remount-ro 0 1\n"
	fs := &fstabHosts{files: map[string]string{"a[0]": own, "a[1]": own}, stages: map[string]string{}}
	apply := func() *engine.Result {
		t.Helper()
		prov, _ := w.cloud.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
		return w.applyVia(w.plan(), 4, prov, fstabConnector{sim: w.cloud.Connector(), f: fs})
	}
	if res := apply(); len(res.Failures) != 0 {
		t.Fatalf("first apply: %v", res.Failures)
	}
	if got := fs.get("a[0]"); got != own+"/dev/vdb /srv/data tmpfs defaults 0 0\n" {
		t.Fatalf("after the first apply, fstab is\n%s", got)
	}
	w.src = strings.Replace(fstabStep, `step "data"`, `step "data2"`, 1)
	w.vars = []string{"fstab=false"}
	before := len(w.cloud.Commands("a[0]"))
	res := apply()
	if len(res.Failures) != 0 {
		t.Fatalf("apply of the rename: %v", res.Failures)
	}
	for _, h := range []string{"a[0]", "a[1]"} {
		if got := fs.get(h); got != own {
			t.Errorf("after the rename with fstab = false, %s's fstab is\n%s\nwant\n%s", h, got, own)
		}
	}
	if mt.at("/srv/data") != 2 {
		t.Errorf("/srv/data is mounted on %d hosts after the rename, want 2", mt.at("/srv/data"))
	}
	for _, cmd := range w.cloud.Commands("a[0]")[before:] {
		if strings.HasPrefix(cmd, "umount") {
			t.Errorf("the rename ran %q", cmd)
		}
	}
	if n := countWarnings(res, `not undone: step.data2["a[0]"] has the same target /srv/data now`); n != 1 {
		t.Errorf("warnings %q, want the hand-over of a[0]'s mount", res.Warnings)
	}
	if p := w.plan(); p.HasChanges() {
		t.Errorf("plan after the rename has changes:\n%s", summary(p))
	}
}
