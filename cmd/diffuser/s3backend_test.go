package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"diffuser/state"
	"diffuser/state/s3store"
	"diffuser/state/s3store/s3fake"
)

const s3ResumeRecipe = `recipe "shared" {
  description = "a fast step, then a slow one after it"
}

hosts "node" { count = 2 }

step "tools" {
  on      = hosts.node
  package = ["curl"]
}

step "hello" {
  on    = hosts.node
  after = [step.tools]
  run   = "echo hello from ${host.name}"
}
`

// s3Target is where s3Scenario keeps state.
type s3Target struct {
	endpoint, bucket, region, key string
}

// TestS3KillResumeContendFake runs the kill/resume/contention scenario on
// the in-process S3 fake; the e2e build runs it on a real server.
func TestS3KillResumeContendFake(t *testing.T) {
	srv := s3fake.Start(t, "team-state")
	s3Scenario(t, s3Target{endpoint: srv.URL, bucket: "team-state", key: "diffuser/fake"})
}

// s3Scenario: a simulated apply with its state in the bucket is killed
// (SIGKILL) while its slow step runs, after its fast step's instances were
// recorded; a second apply meanwhile fails naming the first's pid; after
// the kill the stale lock is refused, state unlock breaks it, and the next
// apply resumes from the bucket, running only what did not finish.
func s3Scenario(t *testing.T, tg s3Target) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	recipe := filepath.Join(dir, "shared.hcl")
	slow := filepath.Join(dir, "slow.json")
	site := filepath.Join(dir, "team.hcl")
	siteText := fmt.Sprintf("backend \"s3\" {\n  bucket = %q\n  key = %q\n", tg.bucket, tg.key)
	if tg.endpoint != "" {
		siteText += fmt.Sprintf("  endpoint = %q\n", tg.endpoint)
	}
	if tg.region != "" {
		siteText += fmt.Sprintf("  region = %q\n", tg.region)
	}
	siteText += "}\n"
	for p, content := range map[string]string{recipe: s3ResumeRecipe, site: siteText,
		slow: `{"kinds": {"run": {"mean": "60s"}, "package": {"mean": "10ms"}}, "scale": 1}`} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	client, err := s3store.NewClient(ctx, s3store.Config{Bucket: tg.bucket, Endpoint: tg.endpoint, Region: tg.region})
	if err != nil {
		t.Fatal(err)
	}
	store := s3store.New(client, tg.bucket, tg.key+"/shared", s3store.Options{})

	// The first apply, in its own process.
	args, _ := json.Marshal([]string{"apply", recipe, "-site", site, "--simulate", "--sim-profile", slow, "-auto-approve", "--progress", "plain", "--data-dir", data})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDiffuser$")
	cmd.Env = append(os.Environ(), "DIFFUSER_HELPER_ARGS="+string(args))
	outFile := filepath.Join(dir, "apply.out")
	f, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(readFile(t, outFile), "hello: started") {
		if time.Now().After(deadline) {
			t.Fatalf("the apply started no slow step in 60s:\n%s", readFile(t, outFile))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A second apply contends: it waits a second, then names the holder.
	e := newSimCLI(t, nil)
	e.data = data
	code, out, errs := e.run("apply", recipe, "-site", site, "--simulate", "-auto-approve", "--progress", "plain", "-lock-timeout", "1s")
	msg := out + errs
	if code == 0 || !strings.Contains(msg, "still locked after waiting") || !strings.Contains(msg, fmt.Sprintf("pid %d", cmd.Process.Pid)) ||
		!strings.Contains(msg, "diffuser apply") || !strings.Contains(msg, "state.lock") {
		t.Fatalf("a second apply while the first holds the lock: exit %d\n%s", code, msg)
	}

	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	killed, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	tools := 0
	for addr, in := range killed.Steps {
		if strings.HasPrefix(addr, "step.tools[") && in.Status == state.StatusApplied {
			tools++
		}
		if strings.HasPrefix(addr, "step.hello[") && in.Status == state.StatusApplied {
			t.Fatalf("a slow step was recorded done though the apply was killed mid-way: %s", addr)
		}
	}
	if tools != 2 || len(killed.Hosts) != 2 {
		t.Fatalf("after the kill the bucket holds %d done tools instances and %d hosts, want 2 and 2:\n%s", tools, len(killed.Hosts), readFile(t, outFile))
	}

	// The killed holder's lock object stays: refused as stale, broken by unlock.
	code, out, errs = e.run("apply", recipe, "-site", site, "--simulate", "-auto-approve", "--progress", "plain")
	if code == 0 || !strings.Contains(out+errs, "no longer running") {
		t.Fatalf("apply over the killed holder's lock: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = e.run("state", "unlock", "shared", "-site", site)
	if code != 0 || !strings.Contains(out, "Broke the stale lock") || !strings.Contains(out, fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Fatalf("state unlock: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = e.run("apply", recipe, "-site", site, "--simulate", "-auto-approve", "--progress", "plain")
	if code != 0 {
		t.Fatalf("resumed apply: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, "tools: started") || !strings.Contains(out+errs, "hello: started") {
		t.Fatalf("the resumed apply did not run exactly what was left:\n%s%s", out, errs)
	}
	final, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if final.Lineage != killed.Lineage || final.Serial <= killed.Serial || len(final.Steps) != 4 {
		t.Fatalf("after resuming: lineage %s serial %d, %d instances; killed at %s serial %d", final.Lineage, final.Serial, len(final.Steps), killed.Lineage, killed.Serial)
	}
	if h, _ := store.LockInfo(); h != nil {
		t.Fatalf("the resumed apply left the lock held by %s", h)
	}
	if _, err := os.Stat(filepath.Join(data, "shared", "state.json")); err == nil {
		t.Fatal("state was written to the local data directory")
	}
}
