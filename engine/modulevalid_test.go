package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// crossRecipe calls a module whose validations read its other inputs:
// replica comes from a capture (known at apply), addr from each host
// (known once it is launched), servers and subnet are known at plan.
const crossRecipe = `
recipe "x" {}
variable "subnet" {
  type    = string
  default = "10."
}
variable "pool" {
  type    = bool
  default = true
}
hosts "server" { count = 2 }
step "probe" {
  on  = hosts.server[0]
  run = "true"
  capture { n = "count-disks" }
}
module "pool" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 2
  replica = step.probe.hosts["server[0]"].outputs.n
  addr    = host.private_ip
  subnet  = var.subnet
  lifecycle {
    enabled = var.pool
  }
}
`

const crossModule = `
variable "servers" {
  type = number
  validation {
    condition     = var.servers % var.replica == 0
    error_message = "replica must divide servers."
  }
}
variable "replica" { type = number }
variable "addr" { type = string }
variable "subnet" {
  type = string
  validation {
    condition     = substr(var.addr, 0, length(var.subnet)) == var.subnet
    error_message = "every host's address is in subnet."
  }
}
step "pool" {
  run = "echo ${var.servers} ${var.replica} ${var.addr}"
}
`

// TestModuleCrossValidationAtApply: a module input's validation that
// reads another input known only at apply (a capture, a host's address)
// is decided then, for each step instance of the module before it runs:
// a broken rule refuses them with the validation's message; a kept one
// lets them run. The plan, with those values unknown, is not refused.
// A call turned off decides none of its validations.
func TestModuleCrossValidationAtApply(t *testing.T) {
	for _, tc := range []struct {
		name, disks, subnet, want string
		off                       bool
	}{
		{"kept", "2", "10.", "", false},
		{"capture breaks it", "3", "10.", "replica must divide servers.", false},
		{"address breaks it", "1", "192.168.", "every host's address is in subnet.", false},
		{"both broken, call off", "3", "192.168.", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, crossRecipe)
			w.extra = map[string]string{"mods/pool/main.hcl": crossModule}
			w.vars = []string{"subnet=" + tc.subnet, fmt.Sprintf("pool=%t", !tc.off)}
			w.cloud.Behavior = func(host, cmd string) (time.Duration, int, string) {
				if strings.Contains(cmd, "count-disks") {
					return 0, 0, tc.disks + "\n"
				}
				return 0, 0, ""
			}
			p := w.plan() // fails the test on errors
			res := w.apply(p, 4)
			ran := w.cloud.CountMatching("echo 2 ")
			if tc.off {
				if len(res.Failures) > 0 || ran != 0 || w.cloud.CountMatching("count-disks") != 1 {
					t.Fatalf("call off: failures %+v, %d instances of pool ran; want none and none", res.Failures, ran)
				}
				return
			}
			if tc.want == "" {
				if len(res.Failures) > 0 || ran != 2 {
					t.Fatalf("failures %+v, %d instances of pool ran; want none and 2", res.Failures, ran)
				}
				return
			}
			if ran != 0 {
				t.Errorf("%d instances of pool ran with a broken rule", ran)
			}
			if len(res.Failures) != 2 {
				t.Fatalf("want both instances of pool refused, got %+v", res.Failures)
			}
			for _, f := range res.Failures {
				msg := f.Err.Error()
				if f.Step != "module.pool.step.pool" || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "r/main.hcl:") {
					t.Errorf("failure %s: %s; want %q at the call", f.Addr, msg, tc.want)
				}
			}
		})
	}
}
