package main

import (
	"strings"
	"testing"
	"time"
)

// TestApplyTTLSaysDeadline: an apply given a ttl says the deadline it
// sets, and what happens then, before it asks (and when there is nothing
// else to do): --ttl 1m, typed for a month, removed the cluster and its
// volumes at the first diffuser command a minute later, and the apply
// never said so. Without a ttl nothing is said.
func TestApplyTTLSaysDeadline(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	r := e.write("t/main.hcl", `recipe "t" {}
hosts "node" {}
step "one" {
  on  = hosts.node
  run = "echo one"
}
`)
	const then = "After it the cluster is removed (docker: by the first diffuser\ncommand run on this machine; aws: the instances end themselves; docs/expiry.md). Apply with --ttl again to move it."
	code, out, errs := e.run("apply", r, "-provider", "sim", "--ttl", "1m", "--progress", "quiet") // no answer: nothing applied
	if !strings.Contains(out, "\nDeadline: now plus 1m, at ") || !strings.Contains(out, then) ||
		strings.Index(out, "Deadline:") > strings.Index(out, "Do you want to perform these actions?") || strings.Contains(out, "Apply finished") {
		t.Errorf("apply --ttl 1m, not confirmed: exit %d\n%s%s", code, out, errs)
	}
	e.must("apply", r, "-provider", "sim", "-auto-approve", "--progress", "quiet")
	if out := e.must("apply", r, "-provider", "sim", "--ttl", "7d", "--progress", "quiet"); !strings.Contains(out, "No changes.") || !strings.Contains(out, "Deadline: now plus 7d, at ") {
		t.Errorf("apply --ttl 7d with nothing else to do:\n%s", out)
	}
	if out := e.must("apply", r, "-provider", "sim", "-auto-approve", "--progress", "quiet"); strings.Contains(out, "Deadline") {
		t.Errorf("apply without a ttl speaks of a deadline:\n%s", out)
	}
}
