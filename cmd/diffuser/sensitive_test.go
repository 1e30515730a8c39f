package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	secretPassword  = "PW-SECRET-1717"  // a sensitive variable's value
	secretKey       = "KEY-SECRET-4242" // what a sensitive step captures
	secretPassword2 = "PW-SECRET-2828"  // the variable's next value
)

const secretsRecipe = `recipe "secrets" {
  description = "sensitive values in variables, arguments, captures, destroy commands and outputs"
}

variable "password" {
  type      = string
  sensitive = true
}

variable "nodes" {
  type    = number
  default = 2
}

variable "pin" {
  type      = number
  sensitive = true
  default   = 0
}

variable "code" {
  type      = string
  sensitive = true
  default   = "1"
  validation {
    condition     = tonumber(var.code) >= 0
    error_message = "code must be a number."
  }
}

hosts "node" {
  count = var.nodes
}

step "setpass" {
  on      = hosts.node
  run     = "echo root:${var.password} | chpasswd"
  destroy = "echo unset ${var.password}"
  retries = 1
}

step "keygen" {
  on        = hosts.node[0]
  run       = "generate-key"
  sensitive = true
  capture {
    key = "cat /etc/cluster.key"
  }
}

step "distribute" {
  on    = hosts.node
  after = [step.keygen]
  file {
    path    = "/etc/cluster.key"
    content = "${step.keygen.outputs.key}\n"
  }
}

step "plain" {
  on  = hosts.node
  run = "echo hello"
}

output "key" {
  value = step.keygen.outputs.key
}

output "hint" {
  value = "password=${var.password}"
}

output "nodes" {
  value = join(",", [for h in hosts.node : h.name])
}
`

// TestNoSecretsInOutput applies a recipe with a sensitive variable, a
// sensitive step that captures a secret, a file made of it, a destroy
// command holding the variable and outputs derived from both, on simulated
// hosts with the real step kinds, and checks that neither secret appears in
// anything a person or a machine reads: plan (text and JSON, before and
// after, with an update of the variable), apply in every progress mode
// (including a failing step that echoes the secret, with the secret given
// on the command line), every run's record, step logs and timeline (through
// runs, show and logs, and on disk), state list/show, output (text and JSON), hosts, and destroy.
// State itself keeps them: that is where sensitive values live.
func TestNoSecretsInOutput(t *testing.T) {
	var failSetpass, failUnset atomic.Bool
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "echo unset") && failUnset.Load():
			return 0, 1, "cannot unset " + secretPassword2 + "\n"
		case strings.Contains(cmd, "cat /etc/cluster.key"):
			return 0, 0, secretKey + "\n"
		case strings.Contains(cmd, "chpasswd") && failSetpass.Load():
			// A command that prints its own input: the output is as secret as the command.
			return 0, 1, "chpasswd: cannot set " + secretPassword2 + "\n"
		case strings.Contains(cmd, "stat -L"), strings.HasPrefix(cmd, "if [ -L "):
			return 0, 0, "absent\n" // the file and distribute kinds' facts: not there yet
		}
		return 0, 0, ""
	})
	recipe := e.write("secrets/main.hcl", secretsRecipe)
	vars := e.write("secret.tfvars", `password = "`+secretPassword+`"`+"\n")
	base := []string{"-provider", "sim", "-var-file", vars}

	var seen []string
	check := func(what, text string) {
		t.Helper()
		seen = append(seen, what)
		for _, s := range []string{secretPassword, secretKey, secretPassword2} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %s:\n%s", what, s, text)
			}
		}
	}
	runCheck := func(what string, wantCode int, args ...string) string {
		t.Helper()
		code, out, errs := e.run(args...)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s%s", what, code, wantCode, out, errs)
		}
		check(what+" (stdout)", out)
		check(what+" (stderr)", errs)
		return out
	}

	runCheck("plan", 0, append([]string{"plan", recipe}, base...)...)
	runCheck("plan -json", 0, append([]string{"plan", recipe, "-json"}, base...)...)
	out := runCheck("apply --progress=plain", 0, append([]string{"apply", recipe, "-auto-approve", "--progress", "plain"}, base...)...)
	if !strings.Contains(out, "key = (sensitive)") || !strings.Contains(out, "hint = (sensitive)") || !strings.Contains(out, "nodes = node[0],node[1]") {
		t.Errorf("apply's outputs are not masked as expected:\n%s", out)
	}

	// State does hold the values (the only place they live).
	st, err := os.ReadFile(filepath.Join(e.data, "secrets", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(st), secretKey) {
		t.Errorf("state.json lacks the captured key: the test does not exercise captures")
	}

	// Change the variable: updates in every mode, the plan diff masks it.
	vars2 := e.write("secret2.tfvars", `password = "`+secretPassword2+`"`+"\n")
	base2 := []string{"-provider", "sim", "-var-file", vars2}
	out = runCheck("plan (update)", 0, append([]string{"plan", recipe}, base2...)...)
	if !strings.Contains(out, "will be updated") {
		t.Errorf("changing the password plans no update:\n%s", out)
	}
	runCheck("plan -json (update)", 0, append([]string{"plan", recipe, "-json"}, base2...)...)
	for _, mode := range []string{"json", "tty", "quiet"} {
		v := e.write("v-"+mode+".tfvars", `password = "`+secretPassword2+`"`+"\n"+`nodes = `+map[string]string{"json": "3", "tty": "4", "quiet": "2"}[mode]+"\n")
		runCheck("apply --progress="+mode, 0, "apply", recipe, "-auto-approve", "--progress", mode, "-provider", "sim", "-var-file", v)
	}
	// A failing sensitive step whose output repeats the secret.
	failSetpass.Store(true)
	// On the command line this time: the run records keep the command
	// line, with the value redacted.
	for _, mode := range []string{"plain", "json"} {
		runCheck("failing apply --progress="+mode, 1, "apply", recipe, "-auto-approve", "--progress", mode, "-provider", "sim",
			map[string]string{"plain": "-var", "json": "--var"}[mode], "password="+secretPassword)
	}
	runCheck("failing apply -var=", 1, "apply", recipe, "-auto-approve", "--progress", "quiet", "-provider", "sim",
		"-var=password="+secretPassword)
	failSetpass.Store(false)

	// Runs: their records, logs and timelines, through the commands and on disk.
	runs := runsOf(t, e.data, "secrets")
	if len(runs) < 7 {
		t.Fatalf("%d runs recorded, want the 7 applies", len(runs))
	}
	if cmd := strings.Join(runs[0].Command, " "); !strings.Contains(cmd, "-var=password=(sensitive)") {
		t.Errorf("the last run's command line is not redacted as expected: %s", cmd)
	}
	runCheck("runs", 0, "runs", "secrets")
	runCheck("runs -json", 0, "runs", "secrets", "-json")
	steps := map[string]bool{}
	for _, r := range runs {
		runCheck("show "+r.ID, 0, "show", r.ID)
		runCheck("show -json "+r.ID, 0, "show", r.ID, "-json")
		for _, s := range r.LoggedSteps() {
			steps[s] = true
		}
	}
	if len(steps) == 0 {
		t.Fatal("no step logs in any run")
	}
	for step := range steps {
		runCheck("logs "+step, 0, "logs", step)
	}
	files := 0
	_ = filepath.WalkDir(filepath.Join(e.data, "secrets", "runs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			check(p, string(b))
			files++
		}
		return nil
	})
	if files < 3*len(runs) {
		t.Fatalf("%d files under runs/ for %d runs", files, len(runs))
	}
	plainLog, _ := runs[len(runs)-1].StepLog("plain", "node[0]")
	if !strings.Contains(string(plainLog), "echo hello") {
		t.Errorf("the non-sensitive step's log lacks its command:\n%s", plainLog)
	}

	// The timeline, state, outputs, hosts.
	tl, err := os.ReadFile(runs[0].TimelinePath())
	if err != nil {
		t.Fatal(err)
	}
	check("timeline.html", string(tl))
	list := runCheck("state list", 0, "state", "list", "secrets")
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		addr, _, _ := strings.Cut(line, " (")
		if h, ok := strings.CutPrefix(addr, `launch["`); ok {
			addr = strings.TrimSuffix(h, `"]`) // state show takes the host's name
		}
		runCheck("state show "+addr, 0, "state", "show", "secrets", addr)
	}
	runCheck("output", 0, "output", "secrets")
	js := runCheck("output -json", 0, "output", "secrets", "-json")
	var outs map[string]struct{ Value string }
	if err := json.Unmarshal([]byte(js), &outs); err != nil || outs["key"].Value != "(sensitive)" {
		t.Errorf("output -json: %v\n%s", err, js)
	}
	runCheck("output key", 1, "output", "secrets", "key")
	runCheck("hosts", 0, "hosts", "secrets")
	if code, out, _ := e.run("output", "secrets", "key", "--show-sensitive"); code != 0 || strings.TrimSpace(out) != secretKey {
		t.Errorf("output --show-sensitive: exit %d, %q", code, out)
	}
	// A saved plan keeps a digest of a sensitive -var, not its value, and
	// apply PLANFILE needs the value again.
	planFile := filepath.Join(e.dir, "secret.plan")
	// -refresh=false: the simulated file facts always say "absent" (drift), which apply PLANFILE does not re-ask.
	runCheck("plan -out", 0, "plan", recipe, "-provider", "sim", "-refresh=false", "-var", "password="+secretPassword, "-out", planFile)
	pf, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	check("saved plan file", string(pf))
	if !strings.Contains(string(pf), `"sensitive_vars"`) {
		t.Errorf("the plan file has no digest of the sensitive variable:\n%s", pf)
	}
	if out := runCheck("show PLANFILE", 0, "show", planFile); !strings.Contains(out, "password=(sensitive)") {
		t.Errorf("show PLANFILE does not list the sensitive variable:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give it again with `diffuser apply PLANFILE -var password=VALUE`"},
		{[]string{"-var", "password=" + secretPassword2}, "not the value the plan was made with"},
		{[]string{"-var", "nodes=5"}, "inputs are fixed"},
	} {
		code, out, errs := e.run(append([]string{"apply", planFile}, c.args...)...)
		check("apply PLANFILE "+strings.Join(c.args, " "), out+errs)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("apply PLANFILE %q: exit %d, want 1 and %q:\n%s%s", c.args, code, c.want, out, errs)
		}
	}
	runCheck("apply PLANFILE -var", 0, "apply", planFile, "-var", "password="+secretPassword, "--progress", "plain")

	// Diagnostics of sensitive -var values: a wrong type, a function that
	// fails on one (plan and validate, text and -json).
	for _, args := range [][]string{
		{"plan", recipe, "-provider", "sim", "-var", "pin=" + secretPassword},
		{"plan", recipe, "-provider", "sim", "-var", "pin=" + secretPassword, "-json"},
		{"plan", recipe, "-provider", "sim", "-var", "code=" + secretPassword},
		{"plan", recipe, "-provider", "sim", "-var", "code=" + secretPassword, "-json"},
		{"validate", recipe, "-provider", "sim", "-var", "pin=" + secretPassword},
		{"validate", recipe, "-provider", "sim", "-var", "pin=" + secretPassword, "-json"},
		{"validate", recipe, "-provider", "sim", "-var", "code=" + secretPassword, "-json"},
	} {
		code, out, errs := e.run(args...)
		if code == 0 {
			t.Errorf("%q accepted", args)
		}
		check(strings.Join(args[3:], " ")+" (stdout)", out)
		check(strings.Join(args[3:], " ")+" (stderr)", errs)
		if strings.Contains(args[4], "pin=") && !strings.Contains(out+errs, "sensitive var.pin") {
			t.Errorf("%q: the diagnostic does not name <sensitive var.pin>:\n%s%s", args, out, errs)
		}
	}

	// A failing destroy command that repeats the secret, in every mode.
	failUnset.Store(true)
	for _, mode := range []string{"plain", "json"} {
		runCheck("apply before destroy", 0, append([]string{"apply", recipe, "-auto-approve", "--progress", "quiet"}, base...)...)
		runCheck("failing destroy --progress="+mode, 0, append([]string{"destroy", recipe, "-auto-approve", "--progress", mode}, base...)...)
	}
	failUnset.Store(false)
	runCheck("destroy", 0, append([]string{"destroy", recipe, "-auto-approve", "--progress", "plain"}, base...)...)
	runCheck("show (destroy)", 0, "show", latestRun(t, e.data, "secrets").ID)
	if len(seen) < 30 {
		t.Errorf("only %d outputs checked", len(seen))
	}
}
