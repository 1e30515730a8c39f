package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestHostileHostOutput: what a host prints reaches the operator and
// other hosts only as data. A step's output with terminal escapes is
// shown by diffuser logs as escapes (-json keeps the text as it is); a
// capture of bytes that are not UTF-8 fails its step naming the capture
// and records nothing, where it used to be recorded as U+FFFD (so the
// step reading it planned a change on every run).
func TestHostileHostOutput(t *testing.T) {
	const escapes = "out \x1b]0;owned\x07\x1b[2J\rhere\u202e"
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "print-escapes"):
			return 0, 0, escapes + "\n"
		case strings.Contains(cmd, "print-latin1"):
			return 0, 0, "caf\xe9\n"
		}
		return 0, 0, ""
	})
	recipe := e.write("hh/main.hcl", `
recipe "hh" {}
hosts "node" { count = 2 }
step "noisy" {
  on  = hosts.node[0]
  run = "print-escapes"
}
step "token" {
  on  = hosts.node[0]
  run = "true"
  capture { tok = "print-latin1" }
}
step "use" {
  on  = hosts.node[1]
  run = "echo ${shellquote(step.token.outputs.tok)}"
}
`)
	code, out := e.apply(recipe)
	if code == 0 || !strings.Contains(out, `capture "tok": what the host printed is not UTF-8 text (the first invalid byte at byte 3)`) {
		t.Fatalf("apply: exit %d, want the capture refused:\n%s", code, out)
	}
	if strings.Contains(out, "caf") {
		t.Errorf("the refusal quotes the capture:\n%s", out)
	}
	list := e.must("state", "list", "hh")
	if !strings.Contains(list, `step.token["node[0]"] (failed)`) || strings.Contains(list, `step.use`) {
		t.Errorf("state list after the refused capture:\n%s", list)
	}

	logs := e.must("logs", "--workspace", "hh", "noisy", "node[0]")
	if strings.ContainsAny(logs, "\x1b\x07\r\u202e") || !strings.Contains(logs, `out \x1b]0;owned\a\x1b[2J\rhere\u202e`) {
		t.Errorf("logs sent the host's escapes raw or lost them:\n%q", logs)
	}
	var js []struct{ Log string }
	if err := json.Unmarshal([]byte(e.must("logs", "--workspace", "hh", "noisy", "node[0]", "-json")), &js); err != nil || len(js) != 1 ||
		!strings.Contains(js[0].Log, escapes) {
		t.Errorf("logs -json does not hold the text as it is: %v %+v", err, js)
	}
}

// TestRefreshReasonShownAsText: a plan's reason for a change can quote
// what a host answered on refresh (here the filesystem type blkid
// reports); its escapes reached the terminal raw.
func TestRefreshReasonShownAsText(t *testing.T) {
	hostile := false
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "test -e") && strings.Contains(cmd, "blkid") { // format's probe
			if hostile {
				return 0, 0, "TYPE=ext4\x1b]0;owned\x07\x1b[2J\u202e\n"
			}
			return 0, 2, ""
		}
		return 0, 0, ""
	})
	recipe := e.write("fs/main.hcl", `
recipe "fs" {}
hosts "node" { count = 1 }
step "brick" {
  on = hosts.node
  format {
    device = "/dev/sdb"
    fstype = "xfs"
  }
}
`)
	if code, out := e.apply(recipe); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	hostile = true
	code, out, errs := e.run("plan", recipe, "-provider", "sim")
	all := out + errs
	if code != 0 || !strings.Contains(all, `step.brick["node[0]"] will be updated (drift: /dev/sdb holds ext4\x1b]0;owned\a\x1b[2J\u202e, not xfs`) {
		t.Errorf("plan: exit %d, want the drift with the host's answer escaped:\n%s", code, all)
	}
	if strings.ContainsAny(all, "\x1b\x07\u202e") {
		t.Errorf("a control character reached the terminal:\n%q", all)
	}
}
