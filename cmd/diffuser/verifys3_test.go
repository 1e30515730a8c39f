package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// s3VerifyGood is a valid recipe with an s3 verify; each case of
// TestVerifyS3Mistakes breaks it one way.
const s3VerifyGood = `recipe "objects" {}
hosts "gateway" { count = 2 }
variable "secret" {
  default   = "s"
  sensitive = true
}
verify "objects" {
  s3 {
    endpoints  = [for h in hosts.gateway : "http://${h.private_ip}:7480"]
    access_key = "AK"
    secret_key = var.secret
    region     = "default"
  }
}
`

// TestVerifyS3Mistakes: an s3 verify block is checked at validate, with
// one error on the line of the mistake.
func TestVerifyS3Mistakes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(file, []byte(s3VerifyGood), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := badRun(t, "validate", dir); res.code != 0 {
		t.Fatalf("the good recipe does not validate: %s", res.stderr)
	}
	for _, m := range []struct{ name, old, new, summary, at string }{
		{"on with s3", `  s3 {`, "  on = hosts.gateway\n  s3 {", "s3 verify takes no on, path or failover", "on = hosts.gateway"},
		{"path with s3", `  s3 {`, "  path = \"/mnt\"\n  s3 {", "s3 verify takes no on, path or failover", `path = "/mnt"`},
		{"failover with s3", "    region     = \"default\"\n  }\n", "    region     = \"default\"\n  }\n  failover {\n    on = hosts.gateway[0]\n    stop = \"x\"\n    start = \"y\"\n  }\n", "s3 verify takes no on, path or failover", "failover {"},
		{"two s3 blocks", "    region     = \"default\"\n  }\n", "    region     = \"default\"\n  }\n  s3 {\n    endpoints = []\n    access_key = \"a\"\n    secret_key = \"b\"\n  }\n", "Duplicate s3 block", "s3 {\n    endpoints = []"},
		{"no s3 and no path", "  s3 {", "  on = hosts.gateway\n  x {", "Unsupported block type", "x {"},
		{"neither", "verify \"objects\" {\n  s3 {\n    endpoints  = [for h in hosts.gateway : \"http://${h.private_ip}:7480\"]\n    access_key = \"AK\"\n    secret_key = var.secret\n    region     = \"default\"\n  }\n}", "verify \"objects\" {\n  on = hosts.gateway\n}", "Missing required argument", `verify "objects" {`},
		{"missing secret", "    secret_key = var.secret\n", "", "Missing required argument", "  s3 {"},
		{"endpoints a string", `endpoints  = [for h in hosts.gateway : "http://${h.private_ip}:7480"]`, `endpoints  = "http://10.0.0.1:7480"`, "Invalid s3 endpoints", ""},
		{"endpoint not a URL", `endpoints  = [for h in hosts.gateway : "http://${h.private_ip}:7480"]`, `endpoints  = ["10.0.0.1:7480"]`, "Invalid s3 endpoints", ""},
		{"endpoint ftp", `endpoints  = [for h in hosts.gateway : "http://${h.private_ip}:7480"]`, `endpoints  = ["ftp://10.0.0.1"]`, "Invalid s3 endpoints", ""},
		{"access key a number list", `access_key = "AK"`, `access_key = [1]`, "Invalid s3 setting", ""},
		{"region null", `region     = "default"`, `region     = null`, "Invalid s3 setting", ""},
		{"unknown attribute", `region     = "default"`, `regoin     = "default"`, "Unsupported argument", ""},
	} {
		t.Run(m.name, func(t *testing.T) {
			if strings.Count(s3VerifyGood, m.old) != 1 {
				t.Fatalf("%q is not in the good recipe once", m.old)
			}
			bad := strings.Replace(s3VerifyGood, m.old, m.new, 1)
			at := m.at
			if at == "" {
				at = m.new
			}
			i := strings.Index(bad, at)
			if i < 0 {
				t.Fatalf("%q not in the broken recipe", at)
			}
			line := strings.Count(bad[:i], "\n") + 1
			d := t.TempDir()
			f := filepath.Join(d, "main.hcl")
			if err := os.WriteFile(f, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			checkBadDiags(t, badRun(t, "validate", d), f, []badMarker{{line: line, summary: m.summary}})
		})
	}
}
