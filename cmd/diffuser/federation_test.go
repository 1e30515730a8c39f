package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFederationValidateGolden validates the built-in glusterfs recipe
// against site files that put its groups on several providers: the
// warnings name the pair of groups (and their providers) that cannot
// reach each other, and say nothing where they can.
func TestFederationValidateGolden(t *testing.T) {
	for _, c := range []struct {
		site string
		warn bool
	}{
		{"docker-static", true},
		{"docker-static-shared", false},
		{"aws-static-bastion", true},
		{"aws-static-ok", false},
		{"aws-two-regions", false},
	} {
		t.Run(c.site, func(t *testing.T) {
			var out bytes.Buffer
			site := filepath.Join("testdata", "federation", c.site+".hcl")
			code := run(context.Background(), nil, []string{"validate", "glusterfs", "--site", site, "--var", "clients=2",
				"--data-dir", t.TempDir(), "--no-color"}, strings.NewReader(""), &out, &out)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out.String())
			}
			got := out.String()
			if has := strings.Contains(got, "cannot reach"); has != c.warn {
				t.Errorf("warning printed: %v, want %v\n%s", has, c.warn, got)
			}
			golden(t, filepath.Join("testdata", "federation", c.site+".txt"), got)
		})
	}
}

// TestDestroyExpired drives apply --ttl, workspace list and destroy
// --expired through the CLI with a simulated clock: nothing is swept
// before the deadline, the list shows it (due once passed), and the sweep
// destroys only the expired workspace of two.
func TestDestroyExpired(t *testing.T) {
	data := t.TempDir()
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		a.env.Now = func() time.Time { return now }
		args = append(args, "--data-dir", data)
		if args[0] != "workspace" {
			args = append(args, "--simulate", "--sim-seed", "1")
		}
		code := a.execute(context.Background(), args)
		return code, out.String()
	}
	must := func(args ...string) string {
		t.Helper()
		code, out := cli(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		return out
	}
	must("apply", recipe, "-workspace", "short", "--ttl", "1h", "-auto-approve", "--progress", "quiet")
	must("apply", recipe, "-workspace", "long", "--ttl", "7d", "-auto-approve", "--progress", "quiet")
	if code, out := cli("apply", recipe, "-workspace", "bad", "--ttl", "10s", "-auto-approve"); code == 0 || !strings.Contains(out, "at least 1m") {
		t.Fatalf("--ttl 10s: exit %d\n%s", code, out)
	}
	out := must("workspace", "list")
	if !strings.Contains(out, "EXPIRES") || strings.Contains(out, "(due)") {
		t.Fatalf("workspace list before any deadline:\n%s", out)
	}
	out = must("destroy", "--expired", "--all-workspaces", "-auto-approve")
	if !strings.Contains(out, "No workspace is past its deadline") {
		t.Fatalf("sweep before the deadline:\n%s", out)
	}
	now = now.Add(61 * time.Minute)
	out = must("workspace", "list")
	if !strings.Contains(out, "(due)") || !strings.Contains(out, "short is past its deadline") || strings.Contains(out, "long is past") {
		t.Fatalf("workspace list after short's deadline:\n%s", out)
	}
	if code, out := cli("destroy", "--all-workspaces"); code == 0 || !strings.Contains(out, "goes with --expired") {
		t.Fatalf("--all-workspaces alone: exit %d\n%s", code, out)
	}
	out = must("destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet")
	if !strings.Contains(out, "Workspace short expired at") || strings.Contains(out, "Workspace long") {
		t.Fatalf("sweep:\n%s", out)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(must("workspace", "list", "-json")), &list); err != nil {
		t.Fatal(err)
	}
	hosts := map[string]float64{}
	for _, w := range list {
		hosts[w["name"].(string)] = w["hosts"].(float64)
	}
	if hosts["short"] != 0 || hosts["long"] == 0 {
		t.Fatalf("hosts after the sweep: %v", hosts)
	}
	// Only the named workspace: long is not due.
	out = must("destroy", "--expired", "-workspace", "long", "-auto-approve")
	if !strings.Contains(out, "Workspace long is not past a deadline") {
		t.Fatalf("destroy --expired -workspace long:\n%s", out)
	}
}
