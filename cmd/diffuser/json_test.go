package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"diffuser/views"
)

// jsonRecipe is the cluster every command's -json golden file shows.
const jsonRecipe = `recipe "demo" {
  description = "JSON examples"
}

hosts "server" {
  count = 2
  volume "data" { size_gb = 10 }
}

hosts "client" { count = 2 }

step "hello" {
  on      = hosts.server
  run     = "echo hello from ${host.name}"
  destroy = "echo bye"
}

step "mount" {
  on    = hosts.client
  after = [step.hello]
  run   = "mount -t fake ${hosts.server[0].private_ip}:/vol /mnt/fs"
}

verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/fs"
}

output "address" {
  value = "${hosts.server[0].private_ip}:/vol"
}

output "token" {
  value     = "s3cr3t"
  sensitive = true
}
`

// jsonMovedCall replaces step.mount of jsonRecipe: a module that holds
// it now, and a moved block for step.hello renamed step.greet.
const jsonMovedCall = `moved {
  from = step.hello
  to   = step.greet
}

module "kit" {
  source = "./kit"
  on     = hosts.client
  after  = [step.greet]
  server = hosts.server[0].private_ip
}
`

const jsonMovedKit = `variable "server" { type = string }

step "mount" {
  run = "mount -t fake ${var.server}:/vol /mnt/fs"
}
`

// jsonMovedKitHistory is the module's own history: callers declared
// step.mount themselves before.
const jsonMovedKitHistory = `moved {
  from = caller.step.mount
  to   = step.mount
}
`

// jsonBehavior answers what the demo's steps, verify and bench run.
func jsonBehavior(host, cmd string) (time.Duration, int, string) {
	const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	switch {
	case strings.HasPrefix(cmd, "echo hello"):
		return 0, 0, strings.TrimPrefix(cmd, "echo ") + "\n"
	case strings.Contains(cmd, "/dev/urandom"), strings.HasPrefix(cmd, "sha256sum < "):
		return 0, 0, sum + "\n"
	case strings.Contains(cmd, "command -v fio"):
		return 0, 0, "diffuser-bench fio=no fstype=fuse.fake writable=yes\n"
	case strings.Contains(cmd, "mode=write"):
		return 0, 0, "diffuser-bench ns=1000000000 mode=write\n"
	case strings.Contains(cmd, "if="):
		return 0, 0, "diffuser-bench ns=250000000 mode=dropcaches\n"
	}
	return 0, 0, ""
}

var (
	reTime     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	reSimID    = regexp.MustCompile(`sim-\d{6}`)
	reDuration = regexp.MustCompile(`"(duration_s|wall_s|step_s|parallelism)": ?[0-9.e-]+`)
	reLogAfter = regexp.MustCompile(`after [0-9.]+[µnm]?s`)
	reDigest   = regexp.MustCompile(`"digest": "[0-9a-f]+"`)
	reCluster  = regexp.MustCompile(`"cluster": "([a-z0-9-]+)-[0-9a-f]{6}"`)
	reRunID    = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{4}`)
)

// normalizeJSON replaces what differs between runs (times, durations,
// provider ids, temporary paths) with fixed values.
func normalizeJSON(s string, e *simCLI) string {
	s = strings.ReplaceAll(s, e.data, ".diffuser")
	s = strings.ReplaceAll(s, e.dir, ".")
	s = reTime.ReplaceAllString(s, "2026-01-02T03:04:05Z")
	s = reSimID.ReplaceAllString(s, "sim-000001")
	s = reRunID.ReplaceAllString(s, "20260102T030405Z-4f2a")
	s = reLogAfter.ReplaceAllString(s, "after 12ms")
	s = reCluster.ReplaceAllString(s, `"cluster": "$1-3f9a1c"`)
	s = reDigest.ReplaceAllString(s, `"digest": "3eb2a707a47dd3dbf7a0de25817cf90c"`)
	return reDuration.ReplaceAllStringFunc(s, func(m string) string {
		name, _, _ := strings.Cut(m, ":")
		if strings.Contains(m, ": ") {
			return name + ": 0.25"
		}
		return name + ":0.25"
	})
}

func jsonGolden(t *testing.T, name, got string) {
	t.Helper()
	var v any
	for i, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if filepath.Ext(name) == ".jsonl" {
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("%s line %d is not JSON: %v\n%s", name, i+1, err, line)
			}
		}
	}
	if filepath.Ext(name) == ".json" {
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", name, err, got)
		}
	}
	golden(t, filepath.Join("testdata", "json", name), got)
}

// TestJSONGolden runs every command that prints data with -json on a
// simulated cluster and compares each output with its golden file, which
// docs/json.md shows (TestJSONDocs keeps the two equal).
func TestJSONGolden(t *testing.T) {
	e := newSimCLI(t, jsonBehavior)
	recipe := e.write("demo/main.hcl", jsonRecipe)
	sim := []string{"-provider", "sim"}
	out := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := e.run(args...)
		if code != 0 {
			t.Fatalf("diffuser %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return normalizeJSON(stdout, e)
	}

	jsonGolden(t, "validate.json", out(append([]string{"validate", recipe, "-json"}, sim...)...))
	bad := e.write("bad/main.hcl", strings.Replace(jsonRecipe, "after = [step.hello]", "after = [step.nosuch]", 1))
	code, stdout, _ := e.run(append([]string{"validate", bad, "-json"}, sim...)...)
	if code != 1 {
		t.Errorf("validate -json of an invalid recipe: exit %d, want 1", code)
	}
	jsonGolden(t, "validate-invalid.json", normalizeJSON(stdout, e))
	jsonGolden(t, "plan.json", out(append([]string{"plan", recipe, "-json"}, sim...)...))
	jsonGolden(t, "apply.jsonl", out(append([]string{"apply", recipe, "-json", "-auto-approve", "-parallelism", "1"}, sim...)...))
	// The same recipe with step.hello renamed by a moved block and
	// step.mount moved into a module that carries its history.
	moved := e.write("moved/main.hcl", strings.Replace(strings.Replace(jsonRecipe, `step "hello"`, `step "greet"`, 1),
		"step \"mount\" {\n  on    = hosts.client\n  after = [step.hello]\n  run   = \"mount -t fake ${hosts.server[0].private_ip}:/vol /mnt/fs\"\n}\n",
		jsonMovedCall, 1))
	e.write("moved/kit/main.hcl", jsonMovedKit)
	e.write("moved/kit/moved.hcl", jsonMovedKitHistory)
	jsonGolden(t, "plan-moves.json", out(append([]string{"plan", moved, "-json"}, sim...)...))

	jsonGolden(t, "state-list.json", out("state", "list", "demo", "-json"))
	jsonGolden(t, "state-show-host.json", out("state", "show", "demo", "server[0]", "-json"))
	jsonGolden(t, "state-show-instance.json", out("state", "show", "demo", `step.hello["server[1]"]`))
	jsonGolden(t, "hosts.json", out("hosts", "demo", "-json"))
	jsonGolden(t, "output.json", out("output", "demo", "-json"))
	jsonGolden(t, "output-name.json", out("output", "demo", "address", "-json"))
	jsonGolden(t, "logs.json", out("logs", "hello", "-json"))
	jsonGolden(t, "verify.json", out(append([]string{"verify", recipe, "-json"}, sim...)...))
	// The aggregate phases are timed in this process (the simulated
	// clients answer at once): shown as if both clients took their time.
	var bench views.BenchJSON
	if err := json.Unmarshal([]byte(out(append([]string{"bench", recipe, "-json", "-size", "64MiB", "-threads", "2"}, sim...)...)), &bench); err != nil {
		t.Fatal(err)
	}
	bench.Write.Seconds, bench.Write.MBps, bench.Read.Seconds, bench.Read.MBps = 1, 134.2, 0.25, 536.9
	var bb strings.Builder
	if err := views.WriteJSON(&bb, bench); err != nil {
		t.Fatal(err)
	}
	jsonGolden(t, "bench.json", bb.String())
	jsonGolden(t, "workspace-list.json", out("workspace", "list", "-json"))
	jsonGolden(t, "destroy-target.jsonl", out(append([]string{"destroy", recipe, "-json", "-auto-approve", "-parallelism", "1",
		"-target", "server[1]"}, sim...)...))

	var recipes []views.RecipeJSON
	if err := json.Unmarshal([]byte(out("recipes", "list", "-json")), &recipes); err != nil || len(recipes) < 4 {
		t.Fatalf("recipes list -json: %v %v", err, recipes)
	}
	for _, r := range recipes {
		if !r.Valid || r.Description == "" {
			t.Errorf("built-in recipe %+v", r)
		}
	}
	b, _ := json.MarshalIndent(recipes[:1], "", "  ")
	jsonGolden(t, "recipes-list.json", string(b)+"\n")
	jsonGolden(t, "recipes-vars.json", out("recipes", "vars", "builtin/radosgw", "-json"))

	// The version's values depend on the build: its shape on a fixed one.
	v := buildVersion("v1.4.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "diffuser", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "4f1c2a9e07b3d5c6a8e9f0b1c2d3e4f5a6b7c8d9"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}})
	v.Platform = "linux/amd64"
	var vb strings.Builder
	if err := views.WriteJSON(&vb, v); err != nil {
		t.Fatal(err)
	}
	jsonGolden(t, "version.json", vb.String())
}

// jsonDocs is the page that shows every command's JSON.
const jsonDocs = "../../docs/json.md"

var reGoldenBlock = regexp.MustCompile("(?s)<!-- golden: ([a-z0-9.-]+) -->\n```json\n(.*?)```\n")

// TestJSONDocs: docs/json.md shows each golden file of TestJSONGolden,
// byte for byte, and every one of them; -update rewrites the examples.
func TestJSONDocs(t *testing.T) {
	page, err := os.ReadFile(jsonDocs)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join("testdata", "json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "json", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	shown := map[string]bool{}
	updated := reGoldenBlock.ReplaceAllStringFunc(string(page), func(block string) string {
		m := reGoldenBlock.FindStringSubmatch(block)
		name, body := m[1], m[2]
		shown[name] = true
		want, ok := files[name]
		switch {
		case !ok:
			t.Errorf("docs/json.md shows %s, which is not a golden file of TestJSONGolden", name)
		case body != want && !*update:
			t.Errorf("docs/json.md's %s differs from testdata/json/%s (go test ./cmd/diffuser -run TestJSONDocs -update)", name, name)
		}
		return "<!-- golden: " + name + " -->\n```json\n" + want + "```\n"
	})
	for name := range files {
		if !shown[name] {
			t.Errorf("docs/json.md does not show testdata/json/%s", name)
		}
	}
	if !strings.Contains(updated, `"format_version": "`+views.PlanFormatVersion+`"`) {
		t.Errorf("docs/json.md does not show format_version %s", views.PlanFormatVersion)
	}
	if *update && updated != string(page) {
		if err := os.WriteFile(jsonDocs, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryDataCommandHasJSON: the commands docs/json.md lists take -json.
func TestEveryDataCommandHasJSON(t *testing.T) {
	root := (&app{}).rootCmd()
	for _, path := range [][]string{{"plan"}, {"apply"}, {"destroy"}, {"validate"}, {"state", "list"}, {"state", "show"},
		{"hosts"}, {"output"}, {"logs"}, {"verify"}, {"bench"}, {"recipes", "list"}, {"recipes", "vars"}, {"workspace", "list"}, {"version"}} {
		c, _, err := root.Find(path)
		if err != nil || c.Flags().Lookup("json") == nil {
			t.Errorf("diffuser %s has no -json flag (%v)", strings.Join(path, " "), err)
		}
	}
}
