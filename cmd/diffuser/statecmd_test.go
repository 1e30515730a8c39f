package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/state"
)

const cliRenameV1 = `recipe "rename" {}
hosts "server" { count = 2 }
step "old" {
  on  = hosts.server
  run = "echo ${host.private_ip} > /etc/ip"
}
step "after_old" {
  on    = hosts.server[0]
  after = [step.old]
  run   = "echo done"
}
`

// cliRenameV2 renames step old to new and server[1] to storage[0].
const cliRenameV2 = `recipe "rename" {}
hosts "server" {}
hosts "storage" {}
step "new" {
  on  = concat(hosts.server, hosts.storage)
  run = "echo ${host.private_ip} > /etc/ip"
}
step "after_old" {
  on    = hosts.server[0]
  after = [step.new]
  run   = "echo done"
}
`

// An unknown subcommand of a command group is an error (status 1), not
// help with status 0; the group alone still prints its help.
func TestUnknownSubcommandFails(t *testing.T) {
	e := newSimCLI(t, nil)
	for _, args := range [][]string{{"state", "frobnicate"}, {"recipes", "lsit"}, {"image", "pull"}, {"completion", "tcsh"}, {"frobnicate"}} {
		code, out, errs := e.run(args...)
		if code != exitError || !strings.Contains(errs, `unknown command "`+args[len(args)-1]+`"`) || out != "" {
			t.Errorf("diffuser %s: exit %d\nstdout %q\nstderr %q", strings.Join(args, " "), code, out, errs)
		}
	}
	if _, _, errs := e.run("recipes", "lsit"); !strings.Contains(errs, "did you mean list?") {
		t.Errorf("no suggestion: %s", errs)
	}
	code, out, _ := e.run("state")
	if code != exitOK || !strings.Contains(out, "diffuser state [command]") || !strings.Contains(out, "mv ") || !strings.Contains(out, "rm ") {
		t.Errorf("diffuser state alone: exit %d\n%s", code, out)
	}
}

// state mv through the CLI after a recipe change: the renamed recipe
// then plans no changes (exit 0 with -detailed-exitcode), where before the
// moves it planned to destroy and redo.
func TestCLIStateMvThenPlanNoOp(t *testing.T) {
	e := newSimCLI(t, nil)
	v1, v2 := e.write("v1/main.hcl", cliRenameV1), e.write("v2/main.hcl", cliRenameV2)
	sim := []string{"-provider", "sim", "-workspace", "ws"}
	e.must(append([]string{"apply", v1, "-auto-approve", "--progress", "quiet"}, sim...)...)
	if code, out, errs := e.run(append([]string{"plan", v2, "-detailed-exitcode"}, sim...)...); code != exitChanges {
		t.Fatalf("plan of the renamed recipe before the moves: exit %d\n%s%s", code, out, errs)
	}
	out := e.must("state", "mv", "ws", "step.old", "step.new")
	for _, want := range []string{`Moved step.old["server[0]"] to step.new["server[0]"]`, `Moved step.old["server[1]"] to step.new["server[1]"]`,
		"Moved 2 step instances; no machine was touched. The previous state is in " + filepath.Join(e.data, "ws", "state.json.backup")} {
		if !strings.Contains(out, want) {
			t.Errorf("state mv step.old step.new lacks %q:\n%s", want, out)
		}
	}
	out = e.must("state", "mv", "ws", "server[1]", "storage[0]", "-lock-timeout", "5s")
	if !strings.Contains(out, "Moved server[1] to storage[0]\nMoved step.new[\"server[1]\"] to step.new[\"storage[0]\"]\n") ||
		!strings.Contains(out, "Moved 1 host and 1 step instance;") {
		t.Errorf("state mv server[1] storage[0]:\n%s", out)
	}
	code, out, errs := e.run(append([]string{"plan", v2, "-detailed-exitcode"}, sim...)...)
	if code != exitOK || !strings.Contains(out, "No changes.") {
		t.Errorf("plan after the moves: exit %d, want 0 (no changes)\n%s%s", code, out, errs)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "mv", "ws", "step.new", `step.new["server[0]"]`}, "cannot move a step (step.new) to a step instance"},
		{[]string{"state", "mv", "ws", "step.new", "step.after_old"}, "step.after_old is already in state"},
		{[]string{"state", "mv", "ws", "step.nwe", "step.x"}, "has no step.nwe in state; did you mean step.new?"},
		{[]string{"state", "mv", "ws", "server[0]"}, "accepts 3 arg(s)"},
		{[]string{"state", "mv", "nowhere", "server[0]", "server[1]"}, `no workspace "nowhere"`},
	} {
		code, _, errs := e.run(tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("diffuser %s: exit %d\n%s\nwant %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
}

// state rm through the CLI: what it removed is printed, the host comes
// back as a create in the next plan, and bad addresses change nothing.
func TestCLIStateRm(t *testing.T) {
	e := newSimCLI(t, nil)
	v1 := e.write("v1/main.hcl", cliRenameV1)
	sim := []string{"-provider", "sim", "-workspace", "ws"}
	e.must(append([]string{"apply", v1, "-auto-approve", "--progress", "quiet"}, sim...)...)
	stateFile := filepath.Join(e.data, "ws", "state.json")
	before, _ := os.ReadFile(stateFile)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "rm", "ws", `step.old["server[9]"]`}, `has no step.old["server[9]"] in state; did you mean step.old, step.old["server[0]"], step.old["server[1]"]?`},
		{[]string{"state", "rm", "ws", "server[1]", "step.nope"}, "has no step.nope in state"},
		{[]string{"state", "rm", "ws", "step.old[server[0]]"}, "is not an address"},
		{[]string{"state", "rm", "ws"}, "requires at least 2 arg(s)"},
	} {
		code, out, errs := e.run(tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("diffuser %s: exit %d\n%s%s\nwant %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	if after, _ := os.ReadFile(stateFile); string(after) != string(before) {
		t.Error("refused rm changed state.json")
	}

	out := e.must("state", "rm", "ws", "server[1]")
	want := "Removed server[1]\nRemoved step.old[\"server[1]\"]\n\nRemoved 1 host and 1 step instance from state; no machine was touched."
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "The next apply launches removed hosts again") {
		t.Errorf("state rm server[1]:\n%s\nwant it to start with\n%s", out, want)
	}
	_, out, _ = e.run(append([]string{"plan", v1}, sim...)...)
	for _, want := range []string{`# launch["server[1]"] will be created`, `# step.old["server[1]"] will be created`, "Plan: 2 to add, 0 to change, 0 to destroy."} {
		if !strings.Contains(out, want) {
			t.Errorf("plan after rm of a host lacks %q:\n%s", want, out)
		}
	}
	list := e.must("state", "list", "ws")
	if strings.Contains(list, "server[1]") {
		t.Errorf("state list after rm:\n%s", list)
	}
}

// --simulate: import a host and a step instance into a fresh workspace,
// then plan only what was not imported.
func TestCLIImportSimulated(t *testing.T) {
	e := newSimCLI(t, nil)
	r := e.write("imp/main.hcl", `recipe "imp" {}
hosts "server" {}
step "pkgs" {
  on      = hosts.server
  package = ["tree"]
}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/x.conf"
    content = "x"
  }
}
step "bare" {
  on  = hosts.server
  run = "true"
}
`)
	args := func(a ...string) []string { return append(a, "--simulate", "-workspace", "imp") }
	out := e.must(args("import", r, "server[0]", "sim-000042")...)
	for _, want := range []string{"Imported server[0]: machine sim-000042 (sim)", "Pinned its SSH host key: ssh-ed25519 SIMsim-000042", "The next plan launches nothing for server[0]"} {
		if !strings.Contains(out, want) {
			t.Errorf("import of a host lacks %q:\n%s", want, out)
		}
	}
	out = e.must(args("import", r, `step.pkgs["server[0]"]`)...)
	if !strings.Contains(out, `Imported step.pkgs["server[0]"]: its check holds on server[0], recorded as applied.`) {
		t.Errorf("import of an instance:\n%s", out)
	}
	code, _, errs := e.run(args("import", r, `step.bare["server[0]"]`)...)
	if code != exitError || !strings.Contains(errs, "a run step without creates or unless cannot be checked") {
		t.Errorf("import of an unguarded run step: exit %d %s", code, errs)
	}
	_, out, _ = e.run(args("plan", r)...)
	if !strings.Contains(out, `# step.conf["server[0]"] will be created`) || !strings.Contains(out, `# step.bare["server[0]"] will be created`) ||
		strings.Contains(out, "launch") || strings.Contains(out, "pkgs") || !strings.Contains(out, "Plan: 2 to add") {
		t.Errorf("plan after the imports:\n%s", out)
	}
}

// With the real kinds on simulated hosts: a check that fails records
// nothing and exits 1 saying what is missing; once it holds, the import
// records it and the next plan leaves it alone.
func TestCLIImportCheckFails(t *testing.T) {
	installed := false
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.HasPrefix(cmd, "for m in apt-get"):
			return 0, 0, "apt-get\n"
		case strings.HasPrefix(cmd, "dpkg-query"):
			if installed {
				return 0, 0, "tree tree install ok installed\n"
			}
			return 0, 1, ""
		}
		return 0, 0, ""
	})
	r := e.write("imp/main.hcl", "recipe \"imp\" {}\nhosts \"server\" {}\nstep \"pkgs\" {\n  on = hosts.server\n  package = [\"tree\"]\n}\n")
	sim := []string{"-provider", "sim", "-workspace", "imp"}
	e.must(append([]string{"import", r, "server[0]", "sim-000007"}, sim...)...)
	stateFile := filepath.Join(e.data, "imp", "state.json")
	before, _ := os.ReadFile(stateFile)
	code, out, errs := e.run(append([]string{"import", r, `step.pkgs["server[0]"]`}, sim...)...)
	if code != exitError || !strings.Contains(errs, `step.pkgs["server[0]"] is not done on server[0]: package not installed: tree; nothing was recorded`) {
		t.Errorf("import of a step whose check fails: exit %d\n%s%s", code, out, errs)
	}
	if after, _ := os.ReadFile(stateFile); string(after) != string(before) {
		t.Error("a failed import changed state.json")
	}
	installed = true
	e.must(append([]string{"import", r, `step.pkgs["server[0]"]`}, sim...)...)
	if code, out, errs := e.run(append([]string{"plan", r, "-detailed-exitcode"}, sim...)...); code != exitOK {
		t.Errorf("plan after the import: exit %d\n%s%s", code, out, errs)
	}
	if cmds := strings.Join(e.cloud.Commands("server[0]"), "\n"); strings.Contains(cmds, "apt-get install") {
		t.Errorf("import installed the package itself:\n%s", cmds)
	}
}

// -lock-timeout through the CLI: state rm waits for a holder that lets go
// in time; state mv and apply give up naming the holder and how long they
// waited; without the flag the lock fails at once.
func TestCLILockTimeout(t *testing.T) {
	e := newSimCLI(t, nil)
	v1 := e.write("v1/main.hcl", cliRenameV1)
	sim := []string{"-provider", "sim", "-workspace", "ws"}
	e.must(append([]string{"apply", v1, "-auto-approve", "--progress", "quiet"}, sim...)...)
	hold := func() func() error {
		unlock, err := state.Open(filepath.Join(e.data, "ws")).Lock(context.Background(), state.CurrentHolder("diffuser apply held-by-test"))
		if err != nil {
			t.Fatal(err)
		}
		return unlock
	}

	unlock := hold()
	start := time.Now()
	code, _, errs := e.run("state", "rm", "ws", "step.after_old")
	if code != exitError || !strings.Contains(errs, `running "diffuser apply held-by-test"`) || strings.Contains(errs, "after waiting") || time.Since(start) > 3*time.Second {
		t.Errorf("rm without -lock-timeout against a holder: exit %d after %v\n%s", code, time.Since(start), errs)
	}
	first := unlock
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = first()
	}()
	start = time.Now()
	if out := e.must("state", "rm", "ws", "step.after_old", "-lock-timeout", "20s"); !strings.Contains(out, `Removed step.after_old["server[0]"]`) {
		t.Errorf("rm that waited:\n%s", out)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("rm got the lock after %v, before the holder let go", took)
	}

	unlock = hold()
	defer unlock()
	host, _ := os.Hostname()
	for _, args := range [][]string{
		{"state", "mv", "ws", "step.old", "step.new", "-lock-timeout", "400ms"},
		append([]string{"apply", v1, "-auto-approve", "-lock-timeout", "400ms"}, sim...),
		append([]string{"destroy", v1, "-auto-approve", "-lock-timeout=400ms"}, sim...),
		{"state", "forget-hostkey", "ws", "server[0]", "-lock-timeout", "400ms"},
		append([]string{"import", v1, `step.old["server[0]"]`, "-lock-timeout", "400ms"}, sim...),
	} {
		start := time.Now()
		code, _, errs := e.run(args...)
		took := time.Since(start)
		if code != exitError || took < 400*time.Millisecond {
			t.Errorf("diffuser %s: exit %d after %v", strings.Join(args, " "), code, took)
		}
		for _, want := range []string{"still locked after waiting 400ms", "pid ", "@" + host, `"diffuser apply held-by-test"`, " ago)"} {
			if !strings.Contains(errs, want) {
				t.Errorf("diffuser %s: error lacks %q:\n%s", strings.Join(args, " "), want, errs)
			}
		}
	}
	if code, _, errs := e.run("state", "rm", "ws", "step.old", "-lock-timeout", "-1s"); code != exitError || !strings.Contains(errs, "--lock-timeout is -1s") {
		t.Errorf("a negative -lock-timeout: exit %d %s", code, errs)
	}
}
