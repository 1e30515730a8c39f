package workspace

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/sim"
)

// TestStepLogsBothLayouts: a run's step logs are one file, steps.log,
// read back per instance; a run written by an earlier version (a file per
// instance, <step>/<host>.log) reads the same way.
func TestStepLogsBothLayouts(t *testing.T) {
	e, dir := runsEnv(t, "")
	c := sim.New() // whose commands print, so that they log
	c.Behavior = func(host, cmd string) (time.Duration, int, string) {
		if strings.HasPrefix(cmd, "echo ") {
			return 0, 0, "ran " + cmd + " on " + host + "\n"
		}
		return 0, 0, ""
	}
	e = &Env{DataDir: e.DataDir, Factories: map[string]cloud.Factory{"sim": c.Factory()}, Connector: c.Connector()}
	apply := func(tag string) *Run {
		t.Helper()
		pl, err := e.Plan(context.Background(), PlanRequest{Inputs: Inputs{Recipe: filepath.Join(dir, "hist.hcl"),
			Vars: []string{"tag=" + tag}, Provider: "sim"}, Command: "apply", Lock: true})
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		if res, err := pl.Apply(context.Background(), ApplyOptions{}); err != nil || len(res.Failures) > 0 {
			t.Fatalf("apply tag=%s: %v %v", tag, err, res.Failures)
		}
		return pl.Run
	}
	old, cur := apply("old"), apply("new")

	ents, err := os.ReadDir(cur.LogDir())
	if err != nil || len(ents) != 1 || ents[0].Name() != "steps.log" {
		t.Fatalf("log directory of a run: %v %v, want steps.log only", ents, err)
	}
	// Make the first run's logs what an earlier version wrote.
	if err := os.RemoveAll(old.LogDir()); err != nil {
		t.Fatal(err)
	}
	oldText := map[string]string{}
	for _, h := range []string{"node[0]", "node[1]"} {
		oldText[h] = "=== 2026-01-01T00:00:00Z $ echo old\nold from " + h + "\n\n=== exit 0 after 1ms\n"
		p := filepath.Join(old.LogDir(), "hello", h+".log")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(oldText[h]), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := e.StepLogs(LogsRequest{Workspace: "hist", Step: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Run.ID != cur.ID || len(got.Files) != 2 || got.Files[0].Host != "node[0]" || got.Files[1].Host != "node[1]" {
		t.Fatalf("latest run's logs: run %s, files %+v", got.Run.ID, got.Files)
	}
	for _, f := range got.Files {
		b, err := f.Read()
		if f.Path != filepath.Join(cur.LogDir(), "steps.log") || err != nil || !strings.HasPrefix(string(b), "=== ") ||
			!strings.Contains(string(b), "$ echo new\nran echo new on "+f.Host+"\n\n=== exit 0 after ") {
			t.Errorf("%s: %s %v\n%s", f.Host, f.Path, err, b)
		}
		if strings.Contains(string(b), "@@ ") {
			t.Errorf("%s: record headers in the instance's log:\n%s", f.Host, b)
		}
	}

	got, err = e.StepLogs(LogsRequest{Workspace: "hist", Run: old.ID, Step: "hello", Host: "node[1]"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0].Path != filepath.Join(old.LogDir(), "hello", "node[1].log") {
		t.Fatalf("old run's log: %+v", got.Files)
	}
	if b, err := got.Files[0].Read(); err != nil || string(b) != oldText["node[1]"] {
		t.Errorf("old run's log reads %q %v", b, err)
	}
	if b, err := old.StepLog("hello", "node[0]"); err != nil || string(b) != oldText["node[0]"] {
		t.Errorf("StepLog of the old run: %q %v", b, err)
	}
	if b, err := cur.StepLog("hello", "node[0]"); err != nil || !strings.Contains(string(b), "$ echo new\n") {
		t.Errorf("StepLog of the new run: %q %v", b, err)
	}
	if _, err := cur.StepLog("hello", "node[7]"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("StepLog of a host that did not log: %v", err)
	}
	for _, r := range []*Run{old, cur} {
		if s := r.LoggedSteps(); !reflect.DeepEqual(s, []string{"hello"}) {
			t.Errorf("run %s logged steps %q", r.ID, s)
		}
	}
	if h := e.LoggedHosts("hist", "hello"); !reflect.DeepEqual(h, []string{"node[0]", "node[1]"}) {
		t.Errorf("logged hosts %q", h)
	}

	// A run log that is not one is an error naming the file and line.
	if err := os.WriteFile(filepath.Join(cur.LogDir(), "steps.log"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.StepLogs(LogsRequest{Workspace: "hist", Run: cur.ID, Step: "hello"}); err == nil ||
		!strings.Contains(err.Error(), "steps.log") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a damaged run log: %v", err)
	}
}

// TestStepLogsModuleStepByBaseName: logs of a step of a module asked for
// by its base name (service for module.web.step.service) suggest its
// address; a misspelt root step gets the nearest name.
func TestStepLogsModuleStepByBaseName(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.hcl":   "recipe \"modlogs\" {}\nhosts \"node\" {}\nstep \"report\" {\n  on  = hosts.node\n  run = \"echo report\"\n}\nmodule \"web\" {\n  source = \"./m\"\n  on     = hosts.node\n}\n",
		"m/main.hcl": "step \"service\" { run = \"echo service\" }\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, "r", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := sim.New()
	c.Behavior = func(host, cmd string) (time.Duration, int, string) { return 0, 0, "ran " + cmd + "\n" }
	e := &Env{DataDir: filepath.Join(dir, "data"), Factories: map[string]cloud.Factory{"sim": c.Factory()}, Connector: c.Connector()}
	pl, err := e.Plan(context.Background(), PlanRequest{Inputs: Inputs{Recipe: filepath.Join(dir, "r"), Provider: "sim"}, Command: "apply", Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pl.Apply(context.Background(), ApplyOptions{})
	pl.Close()
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %v", err, res.Failures)
	}
	if got, err := e.StepLogs(LogsRequest{Workspace: "modlogs", Step: "module.web.step.service"}); err != nil || len(got.Files) != 1 {
		t.Fatalf("logs by address: %v %v", got, err)
	}
	for step, want := range map[string]string{
		"service": "did you mean module.web.step.service? (a step of a module is named by its address)",
		"reprot":  "did you mean report?",
	} {
		if _, err := e.StepLogs(LogsRequest{Workspace: "modlogs", Step: step}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("logs %s: %v, want %q", step, err, want)
		}
	}
}
