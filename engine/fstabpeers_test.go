package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/state"

	"github.com/zclconf/go-cty/cty"
)

// applyBuiltinSim applies a built-in recipe to simulated hosts and returns
// the state it recorded (rendered commands and destroy commands included).
func applyBuiltinSim(t *testing.T, recipe string, in lang.Inputs) *state.State {
	t.Helper()
	p, st, store := planBuiltin(t, recipe, in)
	c := sim.New()
	prov, _ := c.Factory().New(context.Background(), cty.NilVal, cloud.Env{})
	res := p.Apply(context.Background(), st, engine.ApplyOptions{Provider: prov, Cluster: "t", Connector: c.Connector(),
		Recorder: recorder{store}, LogDir: t.TempDir()})
	if len(res.Failures) > 0 {
		t.Fatalf("apply failed: %v", res.Failures[0].Err)
	}
	return st
}

// slowSedInPlace stands in for sed on PATH: `sed -i SCRIPT FILE` does what
// GNU sed -i does (read the file, write the result to a temporary file
// beside it, rename that over the file), with a pause between the read
// and the rename, so that a peer's write falls between them every time
// instead of once in many runs. Other calls run the real sed.
const slowSedInPlace = `#!/bin/sh
[ "$1" = "-i" ] || exec %[1]s "$@"
%[1]s "$2" "$3" > "$3.sedtmp" || exit
sleep 0.2
mv -f "$3.sedtmp" "$3"
`

// TestMoosefsClientFstabKeepsPeersLines: the moosefs recipe's client mount
// is a run step that edits /etc/fstab itself (sed -i, then an append). Run
// for real (sh, sed, flock; findmnt, mountpoint, mount and umount stubbed,
// paths moved into a temporary directory) while a peer appends a line
// every 20 ms under diffuser's fstab lock (as a second diffuser's mount
// step, or a tool following docs/reliability.md, does), its apply and its
// destroy must lose none of the peer's lines and leave the moosefs line
// once (apply) or not at all (destroy). With the edit outside the lock,
// each run lost the lines the peer added between sed's read and its
// rename.
func TestMoosefsClientFstabKeepsPeersLines(t *testing.T) {
	realSed, err := exec.LookPath("sed")
	if err != nil {
		t.Skip("no sed")
	}
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock (util-linux)")
	}
	st := applyBuiltinSim(t, "moosefs", lang.Inputs{})
	inst := st.Steps[`step.mount["client[0]"]`]
	if inst == nil {
		t.Fatal(`no step.mount["client[0]"] in state`)
	}
	var args struct {
		Command string `json:"command"`
	}
	if err := json.Unmarshal(inst.Args, &args); err != nil || args.Command == "" || inst.Destroy == "" {
		t.Fatalf("step.mount's recorded command %q (%v) and destroy %q", args.Command, err, inst.Destroy)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	fstab, lock, mnt := filepath.Join(dir, "fstab"), filepath.Join(dir, "diffuser-fstab.lock"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"sed":        fmt.Sprintf(slowSedInPlace, realSed),
		"findmnt":    "#!/bin/sh\nexit 1\n", // nothing mounted
		"mountpoint": "#!/bin/sh\nexit 1\n",
		"mount":      "#!/bin/sh\nexit 0\n",
		"umount":     "#!/bin/sh\nexit 0\n",
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(fstab, []byte("UUID=1234 / ext4 errors=remount-ro 0 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := strings.NewReplacer("/etc/fstab", fstab, "/run/lock/diffuser-fstab.lock", lock, "/mnt/moosefs", mnt)
	run := func(what, cmd string) {
		t.Helper()
		c := exec.Command("sh", "-c", local.Replace(cmd))
		c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s\ncommand:\n%s", what, err, out, local.Replace(cmd))
		}
	}

	// peer appends lines under diffuser's lock until stop is closed, one
	// every 20 ms, and returns how many.
	peer := func(prefix string, stop <-chan struct{}) int {
		n := 0
		for {
			select {
			case <-stop:
				return n
			default:
			}
			line := fmt.Sprintf("peer:/%s%d /srv/%s%d nfs noauto 0 0", prefix, n, prefix, n)
			c := exec.Command("flock", lock, "sh", "-c", `cp -p "$0" "$0.peer" && printf '%s\n' "$1" >> "$0.peer" && mv -f "$0.peer" "$0"`, fstab, line)
			if out, err := c.CombinedOutput(); err != nil {
				t.Errorf("peer: %v %s", err, out)
				return n
			}
			n++
			time.Sleep(20 * time.Millisecond)
		}
	}
	during := func(prefix, what, cmd string, times int) int {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var n int
		wg.Add(1)
		go func() { defer wg.Done(); n = peer(prefix, stop) }()
		for i := 0; i < times; i++ {
			run(what, cmd)
		}
		close(stop)
		wg.Wait()
		return n
	}
	fstabLines := func() []string {
		b, err := os.ReadFile(fstab)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	check := func(what, prefix string, n, wantOwn int) {
		t.Helper()
		lines := fstabLines()
		have := map[string]bool{}
		own := 0
		for _, l := range lines {
			have[l] = true
			if strings.HasPrefix(l, "mfsmount "+mnt+" ") {
				own++
			}
		}
		var lost []string
		for i := 0; i < n; i++ {
			if l := fmt.Sprintf("peer:/%s%d /srv/%s%d nfs noauto 0 0", prefix, i, prefix, i); !have[l] {
				lost = append(lost, fmt.Sprintf("%s%d", prefix, i))
			}
		}
		if len(lost) > 0 {
			t.Errorf("%s: %d of the peer's %d lines lost: %v", what, len(lost), n, lost)
		}
		if own != wantOwn {
			t.Errorf("%s: %d moosefs lines, want %d:\n%s", what, own, wantOwn, strings.Join(lines, "\n"))
		}
		if !have["UUID=1234 / ext4 errors=remount-ro 0 1"] {
			t.Errorf("%s: the root line is gone", what)
		}
	}

	n := during("a", "apply", args.Command, 4)
	check("apply", "a", n, 1)
	m := during("d", "destroy", inst.Destroy, 4)
	check("destroy", "a", n, 0)
	check("destroy", "d", m, 0)
	if left, _ := filepath.Glob(filepath.Join(dir, "fstab.*")); len(left) > 0 {
		t.Errorf("files left beside fstab: %v", left)
	}
}
