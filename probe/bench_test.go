package probe_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"diffuser/cloud/sim"
	"diffuser/engine"
	"diffuser/lang"
	"diffuser/probe"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps/builtin"
)

func benchRecipe(path string) string {
	return fmt.Sprintf(`
recipe "fs" {}
hosts "server" {}
hosts "client" { count = 2 }
step "mount" {
  on  = hosts.client
  run = "mount it"
}
verify "roundtrip" {
  on   = hosts.client
  path = %q
}
`, path)
}

func mustLoad(t *testing.T, src string) *engine.Loaded {
	t.Helper()
	fsys := fstest.MapFS{"r/main.hcl": {Data: []byte(src)}}
	l, diags := engine.Load(lang.Source{FS: fsys, Dir: "r", Display: "r"}, lang.Inputs{}, builtin.Kinds())
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return l
}

// benchState records the recipe's hosts as if applied.
func benchState(l *engine.Loaded) *state.State {
	st := state.New("bench")
	for _, h := range l.Graph.Hosts {
		st.Hosts[h.Name] = &state.Host{Name: h.Name, Group: h.Group, Index: h.Index, ProviderID: "id-" + h.Name,
			PrivateIP: "10.0.0.1", SSH: state.SSH{Address: h.Name}}
	}
	return st
}

// localRunner runs commands with sh on this machine: the bench scripts
// really run, dd and all, in a temporary directory.
type localRunner struct {
	mu   sync.Mutex
	cmds []string
}

func (r *localRunner) Runner(context.Context, state.Host, func(int, string) error) (runner.Runner, error) {
	return r, nil
}

func (r *localRunner) Run(ctx context.Context, cmd string, _ runner.Options) (runner.Result, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, cmd)
	r.mu.Unlock()
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	res := runner.Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Exit = ee.ExitCode()
		err = nil
	}
	return res, err
}

func (r *localRunner) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

// TestBenchLocal runs the scripts for real, with dd and (when installed)
// fio: two "clients" sharing one local directory, 4 MiB each in 2 threads.
func TestBenchLocal(t *testing.T) {
	for _, tool := range []string{"dd", "fio"} {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("no %s on this machine", tool)
			}
			benchLocal(t, tool)
		})
	}
}

func benchLocal(t *testing.T, tool string) {
	dir := t.TempDir()
	l := mustLoad(t, benchRecipe(dir))
	r := &localRunner{}
	rep, err := probe.Bench(context.Background(), l, benchState(l), probe.BenchOptions{Connector: r, Bytes: 4 << 20, Threads: 2, Tool: tool, KeepCaches: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Clients) != 2 {
		t.Fatalf("%d clients, want 2", len(rep.Clients))
	}
	for _, c := range rep.Clients {
		if c.Err != "" {
			t.Fatalf("%s: %s\ncommands:\n%s", c.Host, c.Err, strings.Join(r.cmds, "\n---\n"))
		}
		if c.Tool != tool || c.Write.Bytes != 4<<20 || c.Read.Bytes != 4<<20 || c.Write.MBps() <= 0 || c.Read.MBps() <= 0 {
			t.Errorf("%s: %+v", c.Host, c)
		}
		if !strings.Contains(c.ReadMode, "files written by client[") {
			t.Errorf("%s reads its own files: %q", c.Host, c.ReadMode)
		}
		if c.FSType == "" {
			t.Errorf("%s: no filesystem type", c.Host)
		}
	}
	if rep.Write.Bytes != 8<<20 || rep.Write.MBps() <= 0 || rep.Read.MBps() <= 0 {
		t.Errorf("aggregate: write %+v read %+v", rep.Write, rep.Read)
	}
	assertEmptyDir(t, dir, ".diffuser-bench-*", "bench files")
}

// TestBenchScripted checks the choices around the measurement on
// simulated answers: fio when present, a client that cannot write, the
// per-client and aggregate arithmetic, and cleanup on every client.
func TestBenchScripted(t *testing.T) {
	l := mustLoad(t, benchRecipe("/mnt/fs"))
	st := benchState(l)
	cl := adopted(st)
	var mu sync.Mutex
	ran := map[string][]string{}
	cl.Behavior = func(host, cmd string) (time.Duration, int, string) {
		mu.Lock()
		ran[host] = append(ran[host], cmd)
		mu.Unlock()
		switch {
		case strings.Contains(cmd, "command -v fio"):
			if host == "client[1]" {
				return 0, 0, "diffuser-bench fio=no fstype=fuse.glusterfs writable=no\n"
			}
			return 0, 0, "diffuser-bench fio=yes fstype=fuse.glusterfs writable=yes\n"
		case strings.Contains(cmd, "mode=write"):
			return 0, 0, "fio noise\ndiffuser-bench ns=2000000000 mode=write\n"
		case strings.Contains(cmd, "if=") || strings.Contains(cmd, "--rw=read"):
			return 0, 0, "diffuser-bench ns=500000000 mode=invalidate\n"
		}
		return 0, 0, ""
	}
	rep, err := probe.Bench(context.Background(), l, st, probe.BenchOptions{Connector: cl.Connector(), Bytes: 100 << 20, Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := rep.Clients[0], rep.Clients[1]
	if c0.Err != "" || c0.Tool != "fio" || c0.FSType != "fuse.glusterfs" {
		t.Fatalf("client[0]: %+v", c0)
	}
	if got := c0.Write.MBps(); got < 52.42 || got > 52.43 { // 100 MiB in 2 s
		t.Errorf("client[0] writes %.3f MB/s, want 52.43", got)
	}
	if got := c0.Read.MBps(); got < 209.7 || got > 209.8 {
		t.Errorf("client[0] reads %.3f MB/s, want 209.72", got)
	}
	if c0.ReadMode != "fio invalidate=1" {
		t.Errorf("client[0] read mode %q (its peer failed: it reads its own files)", c0.ReadMode)
	}
	if !strings.Contains(c1.Err, "not a writable directory") {
		t.Errorf("client[1]: %+v", c1)
	}
	if rep.Write.Bytes != 100<<20 {
		t.Errorf("aggregate counts %d bytes, want only client[0]'s", rep.Write.Bytes)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range []string{"client[0]", "client[1]"} {
		cmds := ran[h]
		if last := cmds[len(cmds)-1]; !strings.HasPrefix(last, "rm -rf ") {
			t.Errorf("%s: last command %q, want the cleanup", h, last)
		}
	}
	var fio bool
	for _, c := range ran["client[0]"] {
		fio = fio || strings.Contains(c, "fio --name=diffuser") && strings.Contains(c, "--numjobs=4") && strings.Contains(c, "--size=25M")
	}
	if !fio {
		t.Errorf("client[0] never ran fio with 4 jobs of 25M: %q", ran["client[0]"])
	}
	// The cache is flushed and dropped in a command of its own before the
	// timed read, which neither syncs nor drops.
	drop, read := -1, -1
	for i, c := range ran["client[0]"] {
		switch {
		case strings.Contains(c, "drop_caches"):
			drop = i
		case strings.Contains(c, "--rw=read") && !strings.Contains(c, "name=trial"):
			read = i
			if strings.Contains(c, "\nsync") || strings.Contains(c, "drop_caches") {
				t.Errorf("the timed read syncs or drops caches: %q", c)
			}
		}
	}
	if drop < 0 || read < 0 || drop > read {
		t.Errorf("client[0]: drop_caches at %d, read at %d: %q", drop, read, ran["client[0]"])
	}
}

// TestBenchFioFallback: where fio fails on the filesystem (a fio on PATH
// that fails as fio does on a FUSE filesystem without fsync), auto falls
// back to dd and says why, with fio's own error line; -tool fio fails the
// client with it instead.
func TestBenchFioFallback(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd")
	}
	bin := t.TempDir()
	fake := "#!/bin/sh\necho 'Starting 1 process'\necho 'fio: pid=42, err=38/file:filesetup.c:1, func=fsync, error=Function not implemented'\necho 'Run status group 0 (all jobs):'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "fio"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	dir := t.TempDir()
	l := mustLoad(t, benchRecipe(dir))
	rep, err := probe.Bench(context.Background(), l, benchState(l), probe.BenchOptions{Connector: &localRunner{}, Bytes: 2 << 20, Threads: 1, KeepCaches: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Clients {
		if c.Err != "" || c.Tool != "dd" || c.Write.MBps() <= 0 || !strings.Contains(c.Note, "err=38") || !strings.Contains(c.Note, "fsync") {
			t.Errorf("%s: tool %q note %q err %q", c.Host, c.Tool, c.Note, c.Err)
		}
	}
	rep, err = probe.Bench(context.Background(), l, benchState(l), probe.BenchOptions{Connector: &localRunner{}, Bytes: 2 << 20, Threads: 1, Tool: "fio", KeepCaches: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Clients {
		if !strings.Contains(c.Err, "fio does not work here") || !strings.Contains(c.Err, "Function not implemented") || strings.Contains(c.Err, "Run status") {
			t.Errorf("%s with -tool fio: %q", c.Host, c.Err)
		}
	}
	assertEmptyDir(t, dir, ".diffuser-*", "files")
}

// adopted is a simulated cloud that knows every host of st.
func adopted(st *state.State) *sim.Cloud {
	cl := sim.New()
	for _, h := range st.Hosts {
		cl.Adopt("test", h.Name, h.ProviderID, h.PrivateIP)
	}
	return cl
}

// assertEmptyDir fails when a probe left files in dir: visible ones or
// its hidden working directories (hidden, a glob such as .diffuser-*).
func assertEmptyDir(t *testing.T, dir, hidden, what string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	dot, _ := filepath.Glob(filepath.Join(dir, hidden))
	if len(left)+len(dot) > 0 {
		t.Errorf("%s left behind: %v %v", what, left, dot)
	}
}

// TestBenchFSTypeBounded: the filesystem type a host's probe answers is
// kept in reports only as one short token of visible ASCII.
func TestBenchFSTypeBounded(t *testing.T) {
	for in, want := range map[string]string{
		"ext4": "ext4", "fuse.glusterfs": "fuse.glusterfs", "": "unknown",
		"xfs\x1b[2J": "unknown", "caf\u00e9": "unknown", strings.Repeat("x", 65): "unknown",
	} {
		if got := probe.FSType(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
