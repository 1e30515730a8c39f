package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestVerifyNothingToVerify: verify of a recipe without a verify block
// exits 1 and says why on stderr, with -json as without (the JSON's
// empty checks alone did not say what to add).
func TestVerifyNothingToVerify(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	recipe := e.write("nv/main.hcl", `
recipe "nv" {}
hosts "node" {}
step "hello" {
  on  = hosts.node
  run = "true"
}
`)
	if code, out := e.apply(recipe); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	code, out, errs := e.run("verify", recipe, "-provider", "sim")
	if code != 1 || !strings.Contains(errs, "Nothing to verify: the recipe has no verify block") || strings.Contains(out+errs, "0 of 0") {
		t.Errorf("verify: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	code, out, errs = e.run("verify", recipe, "-provider", "sim", "-json")
	var res struct {
		Checks []any `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || len(res.Checks) != 0 ||
		!strings.Contains(errs, "Nothing to verify: the recipe has no verify block") {
		t.Errorf("verify -json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errs)
	}
}

// TestBenchEveryVerifyOff: bench measures at the verify blocks' paths; a
// recipe whose only verify block is off was told it had none.
func TestBenchEveryVerifyOff(t *testing.T) {
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) { return 0, 0, "" })
	recipe := e.write("off/main.hcl", `
recipe "off" {}
hosts "node" {}
step "hello" {
  on  = hosts.node
  run = "true"
}
verify "roundtrip" {
  on      = hosts.node
  path    = "/mnt/data"
  enabled = false
}
`)
	if code, out := e.apply(recipe); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	code, out, errs := e.run("bench", recipe, "-provider", "sim", "-size", "1MiB")
	if code != 1 || !strings.Contains(errs, "every verify block of the recipe is turned off") || strings.Contains(errs, "has no verify block") {
		t.Errorf("bench: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	code, _, errs = e.run("verify", recipe, "-provider", "sim")
	if code != 1 || !strings.Contains(errs, "every one of the recipe's 1 verify block(s) is turned off") {
		t.Errorf("verify: exit %d\nstderr:\n%s", code, errs)
	}
}
