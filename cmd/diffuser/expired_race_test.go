package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/state"
	"diffuser/state/s3store/s3fake"
)

// syncBuffer is a bytes.Buffer a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// expiryCLI runs diffuser in the test's process on the data directory
// data at the clock *now, which the test moves; getenv answers from env
// (nil: nothing). Commands but workspace and state run on the simulator
// (--simulate --sim-seed 1).
type expiryCLI struct {
	data string
	now  *time.Time
	env  map[string]string
}

// exec runs args, writing stdout to out and stderr to errw, and returns
// the exit status.
func (c expiryCLI) exec(out, errw io.Writer, args ...string) int {
	a := &app{stdin: strings.NewReader(""), stdout: out, stderr: errw, getenv: func(k string) string { return c.env[k] }}
	a.env.Now = func() time.Time { return *c.now }
	args = append(args, "--data-dir", c.data)
	if args[0] != "workspace" && args[0] != "state" {
		args = append(args, "--simulate", "--sim-seed", "1")
	}
	return a.execute(context.Background(), args)
}

// run runs args and returns the exit status, stdout and stderr.
func (c expiryCLI) run(args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := c.exec(&out, &errb, args...)
	return code, out.String(), errb.String()
}

// TestDestroyExpiredRechecksUnderLock: destroy --expired lists the
// workspaces past their deadline once, then destroys them one after the
// other, each under its lock. A workspace whose deadline an apply moved
// in the meantime (here while the sweep waited for its lock, as it does
// while the workspaces before it are destroyed) is no longer due: it is
// left as it is, not destroyed on the strength of the old list.
func TestDestroyExpiredRechecksUnderLock(t *testing.T) {
	data := t.TempDir()
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	c := expiryCLI{data: data, now: &now}
	cli := func(out *syncBuffer, args ...string) int { return c.exec(out, out, args...) }
	for _, ws := range []string{"first", "renewed"} {
		var out syncBuffer
		if code := cli(&out, "apply", recipe, "-workspace", ws, "--ttl", "1h", "-auto-approve", "--progress", "quiet"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s", ws, code, out.String())
		}
	}
	now = now.Add(2 * time.Hour)

	// Another diffuser holds renewed's lock: the sweep waits for it.
	store := state.Open(filepath.Join(data, "renewed"))
	unlock, err := store.Lock(context.Background(), state.CurrentHolder("diffuser apply golden"))
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- cli(&out, "destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet", "--lock-timeout", "1m")
	}()
	for !strings.Contains(out.String(), "Workspace renewed expired at") {
		select {
		case code := <-done:
			unlock()
			t.Fatalf("the sweep ended (exit %d) before it reached renewed:\n%s", code, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // the sweep is waiting for the lock
	// The holder is an apply --ttl 4h: it moves the deadline, then lets go.
	st, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Expires = now.Add(4 * time.Hour)
	if err := store.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	code := <-done
	said := out.String()
	if code != 0 {
		t.Fatalf("destroy --expired --all-workspaces: exit %d\n%s", code, said)
	}
	if got := readState(t, filepath.Join(data, "renewed")); len(got.Hosts) == 0 {
		t.Fatalf("renewed was destroyed though its deadline had moved to %s before the sweep held its lock:\n%s", st.Expires, said)
	}
	if !strings.Contains(said, "Workspace renewed is no longer past its deadline") {
		t.Errorf("the sweep did not say it left renewed:\n%s", said)
	}
	if got := readState(t, filepath.Join(data, "first")); len(got.Hosts) != 0 {
		t.Errorf("first (due) still has %d hosts:\n%s", len(got.Hosts), said)
	}
}

func readState(t *testing.T, dir string) *state.State {
	t.Helper()
	st, err := state.Open(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDestroyExpiredUnreadableState: a workspace whose state cannot be
// read (here written by a newer diffuser) has a deadline nobody here
// knows. destroy --expired must not say it is "not past a deadline"
// (exit 0: cron is satisfied and the cluster runs on): naming it, it
// fails saying why; sweeping every workspace, it sweeps the others and
// fails naming the one it could not judge. A workspace that does not
// exist is not "not past a deadline" either.
func TestDestroyExpiredUnreadableState(t *testing.T) {
	data := t.TempDir()
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := expiryCLI{data: data, now: &now}.run
	for _, ws := range []string{"due", "newer"} {
		if code, out, errs := cli("apply", recipe, "-workspace", ws, "--ttl", "1h", "-auto-approve", "--progress", "quiet"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", ws, code, out, errs)
		}
	}
	sp := filepath.Join(data, "newer", state.StateFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"version": 2`), []byte(`"version": 9`), 1)
	if err := os.WriteFile(sp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := state.Open(filepath.Join(data, "newer")).Load(); err == nil {
		t.Fatal("the edited state still reads")
	}
	now = now.Add(2 * time.Hour)

	code, out, errs := cli("destroy", "--expired", "-workspace", "newer", "-auto-approve", "--progress", "quiet")
	if code == 0 || strings.Contains(out, "not past a deadline") || !strings.Contains(errs, "newer") || !strings.Contains(errs, "schema version 9") {
		t.Errorf("destroy --expired -workspace newer: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	code, out, errs = cli("destroy", "--expired", "-workspace", "nosuch", "-auto-approve", "--progress", "quiet")
	if code == 0 || strings.Contains(out, "not past a deadline") || !strings.Contains(errs, "nosuch") {
		t.Errorf("destroy --expired -workspace nosuch: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	code, out, errs = cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet")
	if code == 0 || !strings.Contains(out, "Workspace due expired at") || !strings.Contains(errs, "newer") || !strings.Contains(errs, "schema version 9") {
		t.Errorf("destroy --expired --all-workspaces: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if st := readState(t, filepath.Join(data, "due")); len(st.Hosts) != 0 {
		t.Errorf("due still has %d hosts", len(st.Hosts))
	}
}

// TestDestroyClearsDeadline: the deadline was the destroyed cluster's.
// A destroy that leaves nothing (destroy --expired, or a plain destroy
// before the deadline) clears it, as the docker sweep does: the workspace
// is not listed as due ever after, and the next destroy --expired (a cron
// job every 10 minutes) does not destroy it again and again, saying
// "expired at ...: destroying it" each time.
func TestDestroyClearsDeadline(t *testing.T) {
	data := t.TempDir()
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	c := expiryCLI{data: data, now: &now}
	cli := func(args ...string) string {
		t.Helper()
		var out syncBuffer
		if code := c.exec(&out, &out, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	cli("apply", recipe, "-workspace", "swept", "--ttl", "1h", "-auto-approve", "--progress", "quiet")
	cli("apply", recipe, "-workspace", "early", "--ttl", "3h", "-auto-approve", "--progress", "quiet")
	cli("destroy", recipe, "-workspace", "early", "-auto-approve", "--progress", "quiet")
	now = now.Add(2 * time.Hour)
	if out := cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet"); !strings.Contains(out, "Workspace swept expired at") {
		t.Fatalf("the first sweep:\n%s", out)
	}
	now = now.Add(2 * time.Hour) // past early's deadline too
	if out := cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet"); !strings.Contains(out, "No workspace is past its deadline") {
		t.Errorf("a sweep after everything was destroyed:\n%s", out)
	}
	if out := cli("workspace", "list"); strings.Contains(out, "(due)") || strings.Contains(out, "past its deadline") {
		t.Errorf("workspace list after the destroys:\n%s", out)
	}
	for _, ws := range []string{"swept", "early"} {
		if st := readState(t, filepath.Join(data, ws)); !st.Expires.IsZero() {
			t.Errorf("%s: state keeps the destroyed cluster's deadline %s", ws, st.Expires)
		}
	}
}

// TestDestroyExpiredJSON: destroy --expired -json prints JSON lines only
// on stdout, as destroy -json does: each workspace it destroys opens
// with a line naming it and its deadline (its plan, events and summary
// carry no workspace, so several workspaces' lines could not be told
// apart), one that was no longer due under its lock says so in a line,
// and nothing due prints no line. It used to print the text lines
// "Workspace NAME expired at ...: destroying it." among the JSON.
func TestDestroyExpiredJSON(t *testing.T) {
	data := t.TempDir()
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := expiryCLI{data: data, now: &now}.run
	for _, ws := range []string{"one", "two", "later"} {
		ttl := "1h"
		if ws == "later" {
			ttl = "5h"
		}
		if code, out, errs := cli("apply", recipe, "-workspace", ws, "--ttl", ttl, "-auto-approve", "--progress", "quiet"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", ws, code, out, errs)
		}
	}
	if code, out, errs := cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "-json"); code != 0 || out != "" {
		t.Errorf("nothing due, -json: exit %d, stdout %q (want none)\n%s", code, out, errs)
	}
	now = now.Add(2 * time.Hour)
	if code, out, errs := cli("destroy", "--expired", "--all-workspaces", "-json"); code == 0 || out != "" || !strings.Contains(errs, "auto-approve") {
		t.Errorf("-json without -auto-approve: exit %d, stdout %q\n%s", code, out, errs)
	}
	code, out, errs := cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "-json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var v struct {
			Type      string    `json:"type"`
			Workspace string    `json:"workspace"`
			Expires   time.Time `json:"expires"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("a line of destroy --expired -json is not JSON: %q (%v)\n%s", line, err, out)
		}
		switch v.Type {
		case "expired":
			if !v.Expires.Equal(time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("expired line %q: deadline %s", line, v.Expires)
			}
			kinds = append(kinds, "expired "+v.Workspace)
		case "plan", "summary":
			kinds = append(kinds, v.Type)
		}
	}
	if got, want := strings.Join(kinds, ", "), "expired one, plan, summary, expired two, plan, summary"; got != want {
		t.Errorf("lines %s, want %s\n%s", got, want, out)
	}
}

// TestDestroyExpiredBucketState: a workspace whose state is in a bucket
// (backend "s3") keeps no state file in its local directory. destroy
// --expired, which the docs give as the sweep for such workspaces (the
// automatic one leaves them alone), did not see it at all: "No workspace
// is past its deadline" with the site file given, and workspace list said
// there were no workspaces. Given the site file with that backend, it
// reads the deadline from the bucket and destroys the cluster; without
// it, it cannot know the deadline and says so, exit 1.
func TestDestroyExpiredBucketState(t *testing.T) {
	srv := s3fake.Start(t, "team-state")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	site := filepath.Join(dir, "team.hcl")
	if err := os.WriteFile(site, []byte(fmt.Sprintf("backend \"s3\" {\n  bucket = %q\n  key = %q\n  endpoint = %q\n}\n", "team-state", "d", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC)
	recipe := filepath.Join("testdata", "plan", "recipe.hcl")
	cli := expiryCLI{data: data, now: &now, env: map[string]string{"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}}.run
	if code, out, errs := cli("apply", recipe, "-workspace", "shared", "-site", site, "--ttl", "1h", "-auto-approve", "--progress", "quiet"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	now = now.Add(2 * time.Hour)
	code, out, errs := cli("workspace", "list", "-site", site, "-json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 || list[0]["hosts"] != 3.0 || list[0]["expired"] != true {
		t.Errorf("workspace list -site: exit %d, %v\n%s%s", code, err, out, errs)
	}
	code, out, errs = cli("destroy", "--expired", "--all-workspaces", "-auto-approve", "--progress", "quiet")
	if code == 0 || !strings.Contains(errs, "shared") || !strings.Contains(errs, "s3://team-state/d/shared") {
		t.Errorf("without the site file: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	// A workspace of the same data directory whose state is local, applied
	// with a site file of its own (or none): -site, given for the bucket,
	// must not be taken for its site file.
	if code, out, errs := cli("apply", recipe, "-workspace", "local", "--ttl", "1h", "-auto-approve", "--progress", "quiet"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	now = now.Add(2 * time.Hour)
	code, out, errs = cli("destroy", "--expired", "--all-workspaces", "-site", site, "-auto-approve", "--progress", "quiet")
	if code != 0 || !strings.Contains(out, "Workspace shared expired at") || !strings.Contains(out, "Workspace local expired at") {
		t.Fatalf("with the site file: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if st := readState(t, filepath.Join(data, "local")); len(st.Hosts) != 0 || !st.Expires.IsZero() {
		t.Errorf("the local workspace after destroy --expired --all-workspaces -site: %d hosts, deadline %s\n%s", len(st.Hosts), st.Expires, out)
	}
	if _, err := os.Stat(filepath.Join(data, "local", "backend")); err == nil {
		t.Errorf("the local workspace was marked as kept in the bucket")
	}
	if code, out, errs := cli("state", "list", "shared", "-site", site); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("state in the bucket after destroy --expired: exit %d\n%s%s", code, out, errs)
	}
}
