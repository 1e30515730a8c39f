package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mistakesRecipe is a recipe written from docs/writing-recipes.md for a
// filesystem diffuser has no built-in recipe for; TestExamplesValidate
// checks that it is valid.
const mistakesRecipe = "../../examples/recipes/seaweedfs/main.hcl"

// recipeMistake breaks the good recipe one way: the one occurrence of old
// becomes new. validate must fail with exactly one error, summary, on the
// line of at in the broken file (the first line of new when at is "").
type recipeMistake struct {
	name     string
	old, new string
	summary  string
	at       string
}

var recipeMistakes = []recipeMistake{
	// Kind arguments: each kind's schema, checked at validate.
	{"service state typo", `state         = "started"`, `state         = "startd"`, "Invalid service state", ""},
	{"service name with a space", `name          = "seaweedfs-filer"`, `name          = "seaweedfs filer"`, "Invalid service name", ""},
	{"file path relative", `path    = "/etc/systemd/system/seaweedfs-volume.service"`, `path    = "etc/systemd/system/seaweedfs-volume.service"`, "Invalid file path", ""},
	{"file path a directory", `path    = "/etc/systemd/system/seaweedfs-filer.service"`, `path    = "/etc/systemd/system/"`, "Invalid file path", ""},
	{"file mode symbolic", `mode    = "0644"`, `mode    = "rw-r--r--"`, "Invalid file mode", ""},
	{"file mode not octal", `mode    = "0644"`, `mode    = "0648"`, "Invalid file mode", ""},
	{"file owner with group", `owner   = "root"`, `owner   = "root:root"`, "Invalid file owner", ""},
	{"wait port and command", "    port     = 9333\n", "    port     = 9333\n    command  = \"true\"\n", "Conflicting wait arguments", `command  = "true"`},
	{"wait neither port nor command", "    command = \"mountpoint -q ${local.mountpoint}\"\n", "", "Missing wait argument", "after = [step.mount]\n  wait {"},
	{"wait timeout in words", `timeout  = "90s"`, `timeout  = "90 seconds"`, "Invalid wait timeout", ""},
	{"wait timeout zero", `timeout = "60s"`, `timeout = "0s"`, "Invalid wait timeout", ""},
	{"wait interval in words", `interval = "2s"`, `interval = "two seconds"`, "Invalid wait interval", ""},
	{"wait port out of range", `port     = 9333`, `port     = 93330`, "Invalid wait port", ""},
	{"wait host not an address", `host     = local.master_ip`, `host     = "master server"`, "Invalid wait host", ""},
	{"wait host for a command", `command = "mountpoint -q ${local.mountpoint}"`, `command = "mountpoint -q ${local.mountpoint}"` + "\n    host    = local.master_ip", "Conflicting wait arguments", `host    = local.master_ip`},
	{"format device relative", `device = host.volume.data.device`, `device = "xvdf"`, "Invalid format device", ""},
	{"format fstype capitals", `fstype = "xfs"` + "\n    label", `fstype = "XFS"` + "\n    label", "Invalid format fstype", ""},
	{"format label too long", `label  = "swfs-data"`, `label  = "seaweedfs-data"`, "Invalid format label", ""},
	{"mount target relative", `target  = local.data_dir`, `target  = "data/seaweedfs"`, "Invalid mount target", ""},
	{"mount options with a space", `options = "noatime"`, `options = "noatime, nodiratime"`, "Invalid mount options", ""},
	{"mount fstype with a space", `fstype  = "xfs"`, `fstype  = "xfs -o"`, "Invalid mount fstype", ""},
	{"package name an option", `package = ["fuse3"]`, `package = ["fuse3", "--no-install-recommends"]`, "Invalid package names", ""},
	{"package state", `update_cache = true`, `state        = "latest"`, "Invalid package state", ""},
	{"run creates relative", `creates = "/var/lib/seaweedfs/master"`, `creates = "var/lib/seaweedfs/master"`, "Invalid run creates", ""},
	{"run env name", `env    = { LC_ALL = "C" }`, `env    = { "LC-ALL" = "C" }`, "Invalid run env", ""},
	{"run command empty", `run     = "mkdir -p /var/lib/seaweedfs/master"`, `run     = ""`, "Invalid run command", ""},
	{"distribute dest a directory", `dest   = local.tarball`, `dest   = "/opt/seaweedfs/"`, "Invalid distribute dest", ""},
	{"distribute sha256 short", `sha256 = var.weed_sha256 != "" ? var.weed_sha256 : null`, `sha256 = "9f86d081884c7d65"`, "Invalid distribute sha256", ""},
	{"distribute fanout", `fanout = 2`, `fanout = 20`, "Invalid distribute fanout", ""},
	{"distribute fanout with direct", `fanout = 2`, "fanout = 2\n    mode   = \"direct\"", "Conflicting distribute arguments", `fanout = 2`},
	{"distribute mode typo", `fanout = 2`, "fanout = 2\n    mode   = \"relais\"", "Invalid distribute mode", `mode   = "relais"`},
	{"distribute source scheme", `source = local.weed_source`, `source = "ftp://mirror.example/weed.tar.gz"`, "Invalid distribute source", ""},
	{"distribute reads host", `dest   = local.tarball`, `dest   = "/opt/seaweedfs/${host.hostname}.tar.gz"`, "Group step reads host", ""},
	// Values from variables and locals are known at validate too.
	{"relative path from a local", `data_dir     = "/data/seaweedfs"`, `data_dir     = "data/seaweedfs"`, "Invalid mount target", `target  = local.data_dir`},
	{"bad value from a variable default", "default     = \"\"\n  description = \"sha256", "default     = \"9f86d081\"\n  description = \"sha256", "Invalid distribute sha256", "sha256 = var.weed_sha256"},
	// References: volumes, host attributes, captures, indexes.
	{"volume name typo", `source  = host.volume.data.device`, `source  = host.volume.dat.device`, "Unknown volume", ""},
	{"volume of another group", `device = host.volume.data.device`, `device = hosts.master[0].volume.data.device`, "Unknown volume", ""},
	{"host attribute typo", `-ip=${host.private_ip} -port=8080`, `-ip=${host.privat_ip} -port=8080`, "Unsupported attribute", ""},
	{"capture typo", `value = step.cluster_status.outputs.leader`, `value = step.cluster_status.outputs.lead`, "Unknown step output", ""},
	{"capture of a service step", `value = step.cluster_status.outputs.leader`, `value = step.master.outputs.pid`, "Unknown step output", ""},
	{"verify failover index past count", `on    = hosts.volume[0]`, `on    = hosts.volume[var.volume_servers]`, "Invalid index", ""},
	{"output index past count", `value = "http://${local.filer}"`, `value = "http://${hosts.filer[1].private_ip}:8888"`, "Invalid index", ""},
	{"local index past count", `master_ip    = hosts.master[0].private_ip`, `master_ip    = hosts.master[1].private_ip`, "Invalid index", ""},
	{"verify path relative", `path = local.mountpoint`, `path = "mnt/seaweedfs"`, "Invalid verify path", ""},
	{"verify enabled not a bool", `path = local.mountpoint`, "path = local.mountpoint\n  enabled = \"yes\"", "Invalid verify enabled", `enabled = "yes"`},
	{"verify enabled unknown variable", `path = local.mountpoint`, "path = local.mountpoint\n  enabled = var.gateways > 0", "Unknown variable", `enabled = var.gateways > 0`},
	// What the language checked before: still one error, on its line.
	{"unknown step in after", `after = [step.weed, step.master_unit, step.master_dir]`, `after = [step.weed, step.master_unit, step.master_dri]`, "Unknown step", ""},
	{"unknown variable", `count = var.clients`, `count = var.client`, "Unknown variable", ""},
	{"unknown kind attribute", `daemon_reload = true` + "\n  }\n}\n\nstep \"master_up\"", `daemon_reloads = true` + "\n  }\n}\n\nstep \"master_up\"", "Unsupported argument", ""},
	{"missing file content", "    mode    = \"0644\"\n", "    content2 = \"x\"\n", "Unsupported argument", ""},
	{"step timeout in words", `timeout = "2m"` + "\n  retries", `timeout = "2 minutes"` + "\n  retries", "Invalid timeout", ""},
	{"retries too many", `retries = 5`, `retries = 500`, "Value out of range", ""},
	{"volume size zero", `default     = 4`, `default     = 0`, "Value out of range", "volume \"data\" { size_gb = var.volume_gb }"},
}

// TestRecipeMistakesCaughtAtValidate: every single-mistake variant of a
// good recipe is refused by validate with exit status 1 and exactly one
// error, located on the offending line.
func TestRecipeMistakesCaughtAtValidate(t *testing.T) {
	good, err := os.ReadFile(mistakesRecipe)
	if err != nil {
		t.Fatal(err)
	}
	if len(recipeMistakes) < 40 {
		t.Fatalf("only %d mistakes; the issue asks for at least 40", len(recipeMistakes))
	}
	seen := map[string]bool{}
	for _, m := range recipeMistakes {
		t.Run(m.name, func(t *testing.T) {
			if seen[m.name] {
				t.Fatalf("duplicate case name")
			}
			seen[m.name] = true
			if n := strings.Count(string(good), m.old); n != 1 {
				t.Fatalf("%q occurs %d times in %s, want once", m.old, n, mistakesRecipe)
			}
			bad := strings.Replace(string(good), m.old, m.new, 1)
			at := m.at
			if at == "" {
				at, _, _ = strings.Cut(strings.TrimSpace(m.new), "\n")
			}
			i := strings.Index(bad, at)
			if i < 0 || strings.Count(bad, at) != 1 {
				t.Fatalf("%q does not occur exactly once in the broken recipe", at)
			}
			line := strings.Count(bad[:i+len(at)], "\n") + 1 // at's last line
			dir := t.TempDir()
			file := filepath.Join(dir, "main.hcl")
			if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			checkBadDiags(t, badRun(t, "validate", dir), file, []badMarker{{line: line, summary: m.summary}})
		})
	}
}
