package workspace_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"diffuser/state"
	"diffuser/workspace"
)

const renameV1 = `
recipe "rename" {}
hosts "server" { count = 2 }
hosts "client" {}
step "old" {
  on      = hosts.server
  run     = "echo ${host.private_ip} > /etc/ip"
  creates = "/etc/ip"
}
step "pkgs" {
  on      = hosts.server
  package = ["tree"]
}
step "mnt" {
  on    = hosts.client
  after = [step.old]
  run   = "mount ${hosts.server[0].private_ip}:/x /mnt"
}
`

// renameV2 is renameV1 after a refactoring: step old is now new, and the
// second server is the first of a new group, storage. Nothing it asks of
// any machine differs.
const renameV2 = `
recipe "rename" {}
hosts "server" { count = 1 }
hosts "storage" { count = 1 }
hosts "client" {}
step "new" {
  on      = concat(hosts.server, hosts.storage)
  run     = "echo ${host.private_ip} > /etc/ip"
  creates = "/etc/ip"
}
step "pkgs" {
  on      = concat(hosts.server, hosts.storage)
  package = ["tree"]
}
step "mnt" {
  on    = hosts.client
  after = [step.new]
  run   = "mount ${hosts.server[0].private_ip}:/x /mnt"
}
`

// aptWorld answers the package kind as a Debian host with tree installed.
func aptWorld(t *testing.T) *simWorld {
	w := newSimWorld(t)
	w.answer("for m in apt-get", func(string) (int, string) { return 0, "apt-get\n" })
	w.answer("dpkg-query", func(string) (int, string) { return 0, "tree tree install ok installed\n" })
	return w
}

// state mv of a step and of a host after a recipe change: the next plan
// is a no-op, where without the moves it destroys and redoes everything
// renamed. The host keeps its machine, address and pinned key.
func TestStateMvThenPlanIsNoOp(t *testing.T) {
	w := aptWorld(t)
	v1, v2 := w.recipe("v1", renameV1), w.recipe("v2", renameV2)
	w.apply(v1, "ws")
	before := w.state("ws")
	if got := w.plan(v1, "ws"); len(got) != 0 {
		t.Fatalf("plan after apply: %v", got)
	}
	if got := w.plan(v2, "ws"); len(got) < 6 {
		t.Fatalf("without moves the renamed recipe should destroy and redo; plan: %v", got)
	}

	ed, err := w.env.StateMv(context.Background(), "ws", "step.old", "step.new")
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Instances) != 2 || ed.Instances[0] != (workspace.Move{From: `step.old["server[0]"]`, To: `step.new["server[0]"]`}) || len(ed.Redo) != 0 {
		t.Errorf("mv step.old step.new: %+v", ed)
	}
	ed, err = w.env.StateMv(context.Background(), "ws", "server[1]", `launch["storage[0]"]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Hosts) != 1 || ed.Hosts[0] != (workspace.Move{From: "server[1]", To: "storage[0]"}) || len(ed.Instances) != 2 || len(ed.Redo) != 0 {
		t.Errorf("mv server[1] storage[0]: %+v", ed)
	}
	if got := w.plan(v2, "ws"); len(got) != 0 {
		t.Errorf("plan of the renamed recipe after state mv: %v; want no changes", got)
	}
	after := w.state("ws")
	wantLines(t, "state after the moves", sortedAddrs(after), "client[0]", "server[0]",
		`step.mnt["client[0]"]`, `step.new["server[0]"]`, `step.new["storage[0]"]`, `step.pkgs["server[0]"]`, `step.pkgs["storage[0]"]`, "storage[0]")
	old, moved := before.Hosts["server[1]"], after.Hosts["storage[0]"]
	if moved.ProviderID != old.ProviderID || moved.PrivateIP != old.PrivateIP || moved.SSH.HostKey != old.SSH.HostKey || moved.SSH.HostKey == "" ||
		moved.Group != "storage" || moved.Index != 0 || moved.Name != "storage[0]" {
		t.Errorf("moved host %+v\nwas %+v", moved, old)
	}
	if after.Steps[`step.new["storage[0]"]`].Step != "new" || after.Steps[`step.new["storage[0]"]`].Host != "storage[0]" {
		t.Errorf("moved instance %+v", after.Steps[`step.new["storage[0]"]`])
	}
	// The edit kept the state before it.
	if b := w.backup("ws"); b.Hosts["storage[0]"] != nil || b.Hosts["server[1]"] == nil {
		t.Errorf("backup after the second mv holds %v", sortedAddrs(b))
	}

	// An apply of the renamed recipe does nothing; the old name comes back
	// in the old recipe only as a create.
	if res := w.apply(v2, "ws"); res.Ran != 0 {
		t.Errorf("apply after the moves ran %d things", res.Ran)
	}
	if got := w.plan(v1, "ws"); !contains(got, `+ launch["server[1]"]`) {
		t.Errorf("the old recipe after the moves: %v", got)
	}
}

// A host's machine is still found under its old name by providers that
// name machines after hosts (docker, and the sim cloud): a recipe that
// brings the old name back must not record that machine twice.
func TestStateMvOldNameLaunchedAgainIsRefused(t *testing.T) {
	w := aptWorld(t)
	v1 := w.recipe("v1", renameV1)
	w.apply(v1, "ws")
	if _, err := w.env.StateMv(context.Background(), "ws", "server[1]", "storage[0]"); err != nil {
		t.Fatal(err)
	}
	both := w.recipe("both", renameV1+"hosts \"storage\" {}\n")
	pl, err := w.env.Plan(context.Background(), workspace.PlanRequest{Inputs: w.inputs(both, "ws"), Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Apply(context.Background(), workspace.ApplyOptions{})
	pl.Close()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Failures {
		if f.Addr == `launch["server[1]"]` && strings.Contains(f.Err.Error(), "which state records as storage[0]") {
			found = true
		}
	}
	if !found {
		t.Errorf("launching server[1] again, whose machine state records as storage[0]: failures %+v", res.Failures)
	}
	if st := w.state("ws"); st.Hosts["server[1]"] != nil {
		t.Errorf("server[1] recorded with storage[0]'s machine: %+v", st.Hosts["server[1]"])
	}
}

// A sensitive step records no arguments: its digest cannot follow its
// host's new name, the edit says so, and the next plan updates it.
func TestStateMvSensitiveInstanceIsRedone(t *testing.T) {
	w := aptWorld(t)
	src := "recipe \"s\" {}\nhosts \"server\" {}\nstep \"tok\" {\n  on = hosts.server\n  run = \"echo hi\"\n  sensitive = true\n}\n"
	w.apply(w.recipe("s1", src), "ws")
	ed, err := w.env.StateMv(context.Background(), "ws", "server[0]", "node[0]")
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Redo) != 1 || ed.Redo[0] != `step.tok["node[0]"]` {
		t.Errorf("Redo = %v", ed.Redo)
	}
	got := w.plan(w.recipe("s2", strings.ReplaceAll(src, "server", "node")), "ws")
	wantLines(t, "plan", got, `~ step.tok["node[0]"] (inputs changed)`)
}

func TestStateMvRefusals(t *testing.T) {
	w := aptWorld(t)
	w.apply(w.recipe("v1", renameV1), "ws")
	before, _ := os.ReadFile(w.env.Layout().StateFile("ws"))
	for _, tc := range []struct{ src, dst, want string }{
		{"step.old", `step.old["server[0]"]`, "cannot move a step (step.old) to a step instance"},
		{"server[0]", "step.x", "cannot move a host (server[0]) to a step"},
		{"step.old", "step.pkgs", "step.pkgs is already in state: remove it first"},
		{"server[0]", "client[0]", "client[0] is already in state"},
		{`step.old["server[0]"]`, `step.pkgs["server[0]"]`, `step.pkgs["server[0]"] is already in state`},
		{`step.old["server[0]"]`, `step.old["server[1]"]`, "cannot move to another host (server[0] to server[1]); to rename the host, move the host: diffuser state mv ws 'server[0]' 'server[1]'"},
		{"step.olb", "step.x", "workspace ws has no step.olb in state; did you mean step.old?"},
		{"server[5]", "storage[0]", "workspace ws has no server[5] in state; did you mean server[0], server[1]?"},
		{"step.old", "step.old", "the same address"},
		{"step.old", "step", "is not an address"},
	} {
		_, err := w.env.StateMv(context.Background(), "ws", tc.src, tc.dst)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("state mv %s %s: %v\nwant %q", tc.src, tc.dst, err, tc.want)
		}
	}
	if after, _ := os.ReadFile(w.env.Layout().StateFile("ws")); string(after) != string(before) {
		t.Error("a refused move changed state.json")
	}
}

func TestStateRm(t *testing.T) {
	w := aptWorld(t)
	v1 := w.recipe("v1", renameV1)
	w.apply(v1, "ws")
	ctx := context.Background()

	ed, err := w.env.StateRm(ctx, "ws", []string{`step.pkgs["server[0]"]`})
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.Instances) != 1 || len(ed.Hosts) != 0 || !strings.HasSuffix(ed.Backup, "state.json.backup") {
		t.Errorf("rm of one instance: %+v", ed)
	}
	if b := w.backup("ws"); b.Steps[`step.pkgs["server[0]"]`] == nil {
		t.Error("the backup lacks the removed instance")
	}
	wantLines(t, "plan after rm of an instance", w.plan(v1, "ws"), `+ step.pkgs["server[0]"]`)

	// A host goes with its instances; the plan launches it again.
	ed, err = w.env.StateRm(ctx, "ws", []string{`launch["server[1]"]`, `step.old["server[1]"]`})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, m := range append(ed.Hosts, ed.Instances...) {
		removed = append(removed, m.From)
	}
	wantLines(t, "removed", removed, "server[1]", `step.old["server[1]"]`, `step.pkgs["server[1]"]`)
	wantLines(t, "plan after rm of a host", w.plan(v1, "ws"),
		`+ launch["server[1]"]`, `+ step.old["server[1]"]`, `+ step.pkgs["server[0]"]`, `+ step.pkgs["server[1]"]`)

	// A whole step.
	if ed, err = w.env.StateRm(ctx, "ws", []string{"step.old"}); err != nil || len(ed.Instances) != 1 {
		t.Errorf("rm step.old: %+v, %v", ed, err)
	}
	w.apply(v1, "ws")
	if got := w.plan(v1, "ws"); len(got) != 0 {
		t.Errorf("plan after re-applying: %v", got)
	}

	// Unknown addresses: nothing is removed, near matches are named.
	before, _ := os.ReadFile(w.env.Layout().StateFile("ws"))
	for _, tc := range []struct {
		addrs []string
		want  string
	}{
		{[]string{`step.old["server[0]"]`, `step.olb["server[0]"]`}, `has no step.olb["server[0]"] in state; did you mean step.old["server[0]"]`},
		{[]string{`step.old["server[7]"]`}, `did you mean step.old, step.old["server[0]"], step.old["server[1]"]?`},
		{[]string{"step.mount"}, "did you mean step.mnt?"},
		{[]string{"nothing[3]"}, "workspace ws has no nothing[3] in state (diffuser state list ws lists every address)"},
		{[]string{"step.old[server[0]]"}, "is not an address"},
		{nil, "give at least one address"},
	} {
		_, err := w.env.StateRm(ctx, "ws", tc.addrs)
		var ue *workspace.UnknownAddressError
		if err == nil || !strings.Contains(err.Error(), tc.want) || (strings.Contains(tc.want, "has no") && !errors.As(err, &ue)) {
			t.Errorf("state rm %q: %v\nwant %q", tc.addrs, err, tc.want)
		}
	}
	if after, _ := os.ReadFile(w.env.Layout().StateFile("ws")); string(after) != string(before) {
		t.Error("a refused rm changed state.json")
	}

	// A workspace that does not exist is an error, and is not made.
	if _, err := w.env.StateRm(ctx, "nowhere", []string{"server[0]"}); !errors.Is(err, workspace.ErrNoState) {
		t.Errorf("rm in a missing workspace: %v", err)
	}
	if _, err := os.Stat(w.env.Layout().Workspace("nowhere")); err == nil {
		t.Error("rm made the missing workspace's directory")
	}
}

// -lock-timeout: a state edit waits for a holder that lets go in time,
// and gives up naming the holder (pid, user@host, command, age) and how
// long it waited when it does not.
func TestStateEditLockTimeout(t *testing.T) {
	w := aptWorld(t)
	w.apply(w.recipe("v1", renameV1), "ws")
	hold := func() func() error {
		unlock, err := state.Open(w.env.Layout().Workspace("ws")).Lock(context.Background(), state.CurrentHolder("diffuser apply other-checkout"))
		if err != nil {
			t.Fatal(err)
		}
		return unlock
	}
	ctx := context.Background()

	unlock := hold()
	if _, err := w.env.StateRm(ctx, "ws", []string{"step.old"}); !errors.Is(err, state.ErrLocked) || strings.Contains(err.Error(), "after waiting") {
		t.Errorf("rm with no lock timeout while locked: %v", err)
	}
	w.env.LockTimeout = 10 * time.Second
	first := unlock
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = first()
	}()
	start := time.Now()
	if _, err := w.env.StateRm(ctx, "ws", []string{"step.old"}); err != nil {
		t.Fatalf("rm waiting for a holder that lets go: %v", err)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("rm took the lock after %v, before it was released", took)
	}

	unlock = hold()
	defer unlock()
	w.env.LockTimeout = 300 * time.Millisecond
	host, _ := os.Hostname()
	_, err := w.env.StateMv(ctx, "ws", "step.pkgs", "step.packages")
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("mv against a holder that keeps the lock: %v", err)
	}
	for _, want := range []string{"still locked after waiting 300ms", "pid " + strconv.Itoa(os.Getpid()), "@" + host, `"diffuser apply other-checkout"`, " ago)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q lacks %q", err, want)
		}
	}
	// Apply and import wait the same way.
	pl, err := w.env.Plan(ctx, workspace.PlanRequest{Inputs: w.inputs(w.recipe("v1", renameV1), "ws"), Command: "apply", Lock: true})
	if err == nil {
		pl.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "still locked after waiting 300ms") {
		t.Errorf("apply against a holder: %v", err)
	}
	_, err = w.env.Import(ctx, workspace.ImportRequest{Inputs: w.inputs(w.recipe("v1", renameV1), "ws"), Address: `step.old["server[0]"]`})
	if err == nil || !strings.Contains(err.Error(), "still locked after waiting 300ms") {
		t.Errorf("import against a holder: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
