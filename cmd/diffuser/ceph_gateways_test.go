package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCephGatewaysPlan: the ceph recipe's gateways option adds nothing at
// 0; at N it adds N gateway hosts with a radosgw each (ceph.conf and the
// bootstrap keyring through builtin/ceph-conf), one S3 user on the
// first, and keeps the key-carrying steps' arguments out of the plan.
func TestCephGatewaysPlan(t *testing.T) {
	instances := regexp.MustCompile(`(?m)^  # (module\.rgw\.(?:module\.files\.)?step\.[a-z_]+)\["([a-z]+\[\d+\])"\] will be created$`)
	for _, tc := range []struct {
		gateways string
		want     map[string]int // step -> instances
	}{
		{"0", map[string]int{}},
		{"1", map[string]int{"bootstrap": 1, "frontend": 1, "packages": 1, "files.conf": 1, "files.keyring": 1, "keyring": 1, "service": 1, "listening": 1, "user": 1}},
		{"3", map[string]int{"bootstrap": 1, "frontend": 1, "packages": 3, "files.conf": 3, "files.keyring": 3, "keyring": 3, "service": 3, "listening": 3, "user": 1}},
	} {
		t.Run(tc.gateways, func(t *testing.T) {
			res := badRun(t, "plan", "ceph", "--simulate", "--no-color", "-var", "s3_gateways="+tc.gateways, "--data-dir", t.TempDir())
			if res.code != 0 {
				t.Fatalf("plan: exit %d\n%s", res.code, res.stderr)
			}
			got := map[string]int{}
			hosts := map[string]string{}
			for _, m := range instances.FindAllStringSubmatch(res.stdout, -1) {
				// module.rgw.step.NAME, or module.rgw.module.files.step.NAME
				// (builtin/ceph-conf's two files) as files.NAME.
				step := strings.Replace(strings.TrimPrefix(m[1], "module.rgw."), "module.files.step.", "files.", 1)
				step = strings.TrimPrefix(step, "step.")
				got[step]++
				hosts[step] += m[2] + " "
			}
			if len(got) != len(tc.want) {
				t.Fatalf("module steps %v, want %v", got, tc.want)
			}
			for k, n := range tc.want {
				if got[k] != n {
					t.Errorf("step %s: %d instances, want %d", k, got[k], n)
				}
			}
			if tc.gateways == "0" {
				if strings.Contains(res.stdout, "rgw[") {
					t.Errorf("s3_gateways=0 launches a gateway:\n%s", res.stdout)
				}
				return
			}
			if hosts["bootstrap"] != "mon[0] " || hosts["user"] != "rgw[0] " {
				t.Errorf("bootstrap on %q, user on %q; want mon[0] and rgw[0]", hosts["bootstrap"], hosts["user"])
			}
			for _, step := range []string{"bootstrap", "user"} {
				i := strings.Index(res.stdout, "module.rgw.step."+step+"[")
				block := res.stdout[i:]
				if j := strings.Index(block[1:], "\n  # "); j > 0 {
					block = block[:j]
				}
				if !strings.Contains(block, "(sensitive") {
					t.Errorf("step %s shows its arguments:\n%s", step, block)
				}
			}
		})
	}
}
