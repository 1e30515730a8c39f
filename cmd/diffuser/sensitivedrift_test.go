package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSensitiveDriftNotShown: a file whose path holds a sensitive
// variable, deleted on the host, was planned as "drift:
// /etc/s-TopSecret123.conf does not exist" in plan text and -json (the
// file kind's check quotes the path). The drift is still planned, without
// the host's answer.
func TestSensitiveDriftNotShown(t *testing.T) {
	const secret = "TopSecret123"
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "sha256sum --") { // the file kind's probe: the file is gone
			return 0, 0, "absent\n"
		}
		return 0, 0, ""
	})
	recipe := e.write("sd/main.hcl", `
recipe "sd" {}
variable "secret" {
  type      = string
  sensitive = true
}
hosts "node" {}
step "conf" {
  on = hosts.node
  file {
    path    = "/etc/s-${var.secret}.conf"
    content = "x"
  }
}
`)
	if code, out := e.apply(recipe, "-var", "secret="+secret); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"plan", recipe, "-provider", "sim", "-var", "secret=" + secret},
		{"plan", recipe, "-provider", "sim", "-var", "secret=" + secret, "-json"},
	} {
		code, out, errs := e.run(args...)
		all := out + errs
		if code != 0 || !strings.Contains(all, "drift: the host no longer matches (details hidden: sensitive step)") {
			t.Errorf("%v: exit %d, want the drift planned:\n%s", args, code, all)
		}
		if strings.Contains(all, secret) {
			t.Errorf("%v shows the sensitive value:\n%s", args, all)
		}
	}
	for _, progress := range []string{"plain", "json"} {
		if code, out := e.apply(recipe, "-var", "secret="+secret, "--progress", progress); code != 0 || strings.Contains(out, secret) {
			t.Errorf("apply of the drift (--progress %s): exit %d, or it shows the sensitive value:\n%s", progress, code, out)
		}
	}
	ids := regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]+`).FindAllString(e.must("runs", "sd"), -1)
	if len(ids) != 3 {
		t.Fatalf("diffuser runs lists %v, want the 3 applies", ids)
	}
	for _, id := range ids {
		if out := e.must("show", id); strings.Contains(out, secret) {
			t.Errorf("show %s shows the sensitive value:\n%s", id, out)
		}
	}
	_ = filepath.WalkDir(filepath.Join(e.data, "sd", "runs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
				t.Errorf("%s holds the sensitive value:\n%s", p, b)
			}
		}
		return nil
	})
}

// TestImportSensitiveCheckNotShown: import of an instance whose arguments
// hold a sensitive value hid what its check found, but not the error of
// a check that failed ("/etc/s-TopSecret123.conf exists and is not a
// regular file").
func TestImportSensitiveCheckNotShown(t *testing.T) {
	const secret = "TopSecret123"
	probe := 0 // the file kind's probe: exit status 0 prints absent, 3 says it is not a regular file
	e := newSimCLI(t, func(host, cmd string) (time.Duration, int, string) {
		if strings.Contains(cmd, "sha256sum --") {
			if probe == 3 {
				return 0, 3, ""
			}
			return 0, 0, "absent\n"
		}
		return 0, 0, ""
	})
	r := e.write("imp/main.hcl", `recipe "imp" {}
variable "secret" {
  type      = string
  sensitive = true
}
hosts "server" {}
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/s-${var.secret}.conf"
    content = "x"
  }
}
`)
	sim := []string{"-provider", "sim", "-workspace", "imp", "-var", "secret=" + secret}
	e.must(append([]string{"import", r, "server[0]", "sim-000007"}, sim...)...)
	for _, tc := range []struct {
		probe int
		want  string
	}{
		{0, `step.conf["server[0]"] is not done on server[0]: its check does not hold; nothing was recorded`},
		{3, `checking step.conf["server[0]"] on server[0] failed (details hidden: sensitive step)`},
	} {
		probe = tc.probe
		code, out, errs := e.run(append([]string{"import", r, `step.conf["server[0]"]`}, sim...)...)
		if code != exitError || !strings.Contains(errs, tc.want) || strings.Contains(out+errs, secret) {
			t.Errorf("import, probe exit %d: exit %d, want %q without the sensitive value:\n%s%s", tc.probe, code, tc.want, out, errs)
		}
	}
}
