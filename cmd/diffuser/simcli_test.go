package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/sim"
	"diffuser/workspace"
)

// simCLI drives the real CLI with the real step kinds on simulated hosts:
// provider "sim" (extraFactories) and a connector whose runner records
// commands and answers them with Behavior, so step kinds build and "run"
// their real commands, logs are written and captures produce what the
// behavior prints. Unlike --simulate, nothing about the kinds is faked.
type simCLI struct {
	t     *testing.T
	cloud *sim.Cloud
	dir   string            // recipes and var files
	data  string            // --data-dir
	env   map[string]string // the process environment diffuser sees (nil: empty)
}

func newSimCLI(t *testing.T, behavior sim.Behavior) *simCLI {
	t.Helper()
	c := sim.New()
	c.Behavior = behavior
	dir := t.TempDir()
	return &simCLI{t: t, cloud: c, dir: dir, data: filepath.Join(dir, "data")}
}

// write puts a file under the env's directory and returns its path.
func (e *simCLI) write(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// run runs one command line; --data-dir goes first so that arguments
// after -- stay the command's.
func (e *simCLI) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb strings.Builder
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return e.env[k] },
		env: workspace.Env{Factories: map[string]cloud.Factory{"sim": e.cloud.Factory()}, Connector: e.cloud.Connector()}}
	code = a.execute(context.Background(), append([]string{"--data-dir", e.data}, args...))
	return code, out.String(), errb.String()
}

// must runs a command that has to succeed and returns stdout+stderr.
func (e *simCLI) must(args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code != 0 {
		e.t.Fatalf("diffuser %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out + errs
}
