package workspace_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"diffuser/state"
	"diffuser/workspace"
)

const importSrc = `
recipe "source" {}
hosts "node" {}
`

const importDst = `
recipe "target" {}
hosts "server" {}
step "pkgs" {
  on      = hosts.server
  package = ["tree"]
}
step "guarded" {
  on      = hosts.server
  run     = "make install"
  creates = "/etc/done"
  capture {
    ver = "cat /etc/done"
  }
}
step "bare" {
  on  = hosts.server
  run = "make install"
}
step "use" {
  on  = hosts.server
  run = "echo ${step.guarded.outputs.ver}"
}
`

// Import of a host another workspace launched, then of step instances
// found done on it: the next plan launches nothing and leaves the
// imported instances alone; an instance whose check fails, or that cannot
// be checked, records nothing.
func TestImportHostThenInstances(t *testing.T) {
	w := newSimWorld(t)
	ctx := context.Background()
	installed, done := false, false
	w.answer("for m in apt-get", func(string) (int, string) { return 0, "apt-get\n" })
	w.answer("dpkg-query", func(string) (int, string) {
		if installed {
			return 0, "tree tree install ok installed\n"
		}
		return 1, ""
	})
	w.answer("test -e", func(string) (int, string) {
		if done {
			return 0, ""
		}
		return 1, ""
	})
	w.answer("cat /etc/done", func(string) (int, string) { return 0, "v1\n" })
	src, dst := w.recipe("src", importSrc), w.recipe("dst", importDst)
	w.apply(src, "src")
	machine := w.state("src").Hosts["node[0]"]
	in := w.inputs(dst, "dst")
	imp := func(addr, id string) (*workspace.Imported, error) {
		return w.env.Import(ctx, workspace.ImportRequest{Inputs: in, Address: addr, ID: id})
	}

	// Refusals before anything exists in the target workspace.
	for _, tc := range []struct{ addr, id, want string }{
		{"server[3]", machine.ProviderID, "the recipe has no host server[3]; its hosts: server[0]"},
		{"server[0]", "", "needs the machine's id"},
		{"server[0]", "nosuch", `no simulated machine "nosuch"`},
		{"step.pkgs", "", "one step instance at a time"},
		{`step.pkgs["server[0]"]`, "x", "with no id"},
		{`step.pkgs["server[0]"]`, "", "host server[0] is not in state: import it first"},
		{"srv", "x", "is not an address"},
	} {
		if _, err := imp(tc.addr, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("import %s %s: %v\nwant %q", tc.addr, tc.id, err, tc.want)
		}
	}

	got, err := imp("server[0]", machine.ProviderID)
	if err != nil {
		t.Fatal(err)
	}
	h := w.state("dst").Hosts["server[0]"]
	if got.Addr != "server[0]" || !got.KeyPinned || h == nil || h.ProviderID != machine.ProviderID || h.PrivateIP != machine.PrivateIP ||
		h.SSH.HostKey == "" || h.Group != "server" || h.Provider != "sim" || h.Digest == "" {
		t.Fatalf("imported %+v; state has %+v", got, h)
	}
	wantLines(t, "plan after importing the host", w.plan(dst, "dst"),
		`+ step.bare["server[0]"]`, `+ step.guarded["server[0]"]`, `+ step.pkgs["server[0]"]`, `+ step.use["server[0]"]`)
	if _, err := imp("server[0]", machine.ProviderID); err == nil || !strings.Contains(err.Error(), "server[0] is already in state (machine "+machine.ProviderID) {
		t.Errorf("importing server[0] twice: %v", err)
	}

	// Checks that fail record nothing; a run step without a guard cannot
	// be checked.
	before, _ := os.ReadFile(w.env.Layout().StateFile("dst"))
	for _, tc := range []struct{ addr, want string }{
		{`step.pkgs["server[0]"]`, `step.pkgs["server[0]"] is not done on server[0]: package not installed: tree; nothing was recorded`},
		{`step.guarded["server[0]"]`, "is not done on server[0]: /etc/done does not exist; nothing was recorded"},
		{`step.bare["server[0]"]`, "a run step without creates or unless cannot be checked"},
		{`step.use["server[0]"]`, "known only at apply"},
	} {
		addr, want := tc.addr, tc.want
		_, err := imp(addr, "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("import %s: %v\nwant %q", addr, err, want)
		}
		var nd *workspace.NotDoneError
		if strings.Contains(want, "not done") && !errors.As(err, &nd) {
			t.Errorf("import %s: %T, want a *NotDoneError", addr, err)
		}
	}
	if after, _ := os.ReadFile(w.env.Layout().StateFile("dst")); string(after) != string(before) {
		t.Error("failed imports changed state.json")
	}

	// Once the work is there, the imports record it as the plan wants it.
	installed, done = true, true
	for _, addr := range []string{`step.pkgs["server[0]"]`, `step.guarded["server[0]"]`} {
		got, err := imp(addr, "")
		if err != nil {
			t.Fatalf("import %s: %v", addr, err)
		}
		if got.Instance.Status != state.StatusApplied || got.KeyPinned {
			t.Errorf("import %s: %+v", addr, got)
		}
	}
	st := w.state("dst")
	if g := st.Steps[`step.guarded["server[0]"]`]; g.Outputs["ver"] != "v1" || g.Kind != "run" || len(g.Args) == 0 {
		t.Errorf("imported run step: %+v", g)
	}
	cmds := strings.Join(w.cloud.Commands("server[0]"), "\n")
	if strings.Contains(cmds, "make install") || strings.Contains(cmds, "apt-get install") {
		t.Errorf("import ran the work itself:\n%s", cmds)
	}
	wantLines(t, "plan after the imports", w.plan(dst, "dst"), `+ step.bare["server[0]"]`, `+ step.use["server[0]"]`)
	if _, err := imp(`step.pkgs["server[0]"]`, ""); err == nil || !strings.Contains(err.Error(), "already in state as applied") {
		t.Errorf("importing an applied instance again: %v", err)
	}

	// The same machine cannot be imported as a second host.
	two := w.recipe("two", importDst+"hosts \"extra\" {}\n")
	_, err = w.env.Import(ctx, workspace.ImportRequest{Inputs: w.inputs(two, "dst"), Address: "extra[0]", ID: machine.ProviderID})
	if err == nil || !strings.Contains(err.Error(), "already in state as server[0]") {
		t.Errorf("importing one machine twice: %v", err)
	}

	// The apply runs only what is not imported, on the imported machine.
	res := w.apply(dst, "dst")
	if res.Ran != 2 {
		t.Errorf("apply after the imports ran %d instances, want 2 (bare, use)", res.Ran)
	}
	if !strings.Contains(strings.Join(w.cloud.Commands("server[0]"), "\n"), "echo v1") {
		t.Errorf("step use did not read the imported capture:\n%s", strings.Join(w.cloud.Commands("server[0]"), "\n"))
	}
	if got := w.plan(dst, "dst"); len(got) != 0 {
		t.Errorf("plan after apply: %v", got)
	}
}

// TestImportNotRecordedUndone: an import that is not recorded (the
// machine did not answer with its facts, or not over SSH) takes back what
// the provider did to the machine for it. The provider had already made
// it this cluster's (aws tags it for its new host, the sim likewise), so
// this workspace's destroy, whose cleanup removes every machine tagged
// with the cluster, removed a machine the import said it had not
// recorded: here the other workspace's, by a mistyped id.
func TestImportNotRecordedUndone(t *testing.T) {
	w := newSimWorld(t)
	ctx := context.Background()
	src, dst := w.recipe("src", importSrc), w.recipe("dst", importDst)
	w.apply(src, "src")
	machine := w.state("src").Hosts["node[0]"]
	w.answer("true", func(string) (int, string) { return 1, "" }) // the login works, nothing else
	_, err := w.env.Import(ctx, workspace.ImportRequest{Inputs: w.inputs(dst, "dst"), Address: "server[0]", ID: machine.ProviderID})
	if err == nil || !strings.Contains(err.Error(), "so it was not recorded") {
		t.Fatalf("import of a machine that does not answer: %v", err)
	}
	if h := w.state("dst").Hosts["server[0]"]; h != nil {
		t.Fatalf("recorded %+v", h)
	}
	w.mu.Lock()
	delete(w.answers, "true")
	w.mu.Unlock()
	before := w.cloud.Hosts()
	pl, err := w.env.Plan(ctx, workspace.PlanRequest{Inputs: w.inputs(dst, "dst"), Command: "destroy", Destroy: true, Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Apply(ctx, workspace.ApplyOptions{})
	pl.Close()
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("destroy dst: %v %+v", err, res)
	}
	if after := w.cloud.Hosts(); after != before {
		t.Errorf("destroying the workspace the import did not record into removed %d machine(s): src's %s", before-after, machine.ProviderID)
	}
	if lines := w.plan(src, "src"); len(lines) != 0 {
		t.Errorf("src after dst's destroy: %v", lines)
	}
}
