package main

import (
	"strings"
	"testing"
	"time"
)

// TestCLIStepTimeout: -step-timeout bounds a step without its own
// `timeout` on a host where the command never ends; the failure says which
// bound fired and how to change it; a negative value is refused before
// anything runs.
func TestCLIStepTimeout(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "stuck") {
			return time.Hour, 0, ""
		}
		return 0, 0, ""
	})
	recipe := e.write("st/main.hcl", `
recipe "st" {}
hosts "node" { count = 1 }
step "hang" {
  on  = hosts.node
  run = "stuck mount"
}
`)
	if code, out := e.apply(recipe, "-step-timeout", "-1s"); code != 1 || !strings.Contains(out, "--step-timeout is -1s: give a positive duration") {
		t.Fatalf("-step-timeout -1s: exit %d\n%s", code, out)
	}
	start := time.Now()
	code, out := e.apply(recipe, "-step-timeout", "300ms")
	if code != 1 || !strings.Contains(out, "step hang timed out after 300ms (set `timeout` on the step, or -step-timeout for the apply)") {
		t.Fatalf("-step-timeout 300ms: exit %d\n%s", code, out)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("apply with -step-timeout 300ms took %s", took)
	}
}
