package probe_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/probe"
)

// TestSmallFilesLocal runs the small-file scripts for real in a local
// directory: two "clients", 3 workers of 200 files each; every phase
// counts 600 operations per client and the directory is empty after.
func TestSmallFilesLocal(t *testing.T) {
	dir := t.TempDir()
	l := mustLoad(t, benchRecipe(dir))
	r := &localRunner{}
	rep, err := probe.SmallFiles(context.Background(), l, benchState(l), probe.SmallFileOptions{Connector: r, Files: 200, Workers: 3})
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
		for name, p := range map[string]probe.SmallFilePhase{"create": c.Create, "stat": c.Stat, "delete": c.Delete} {
			if p.Ops != 600 || p.OpsPerSec() <= 0 {
				t.Errorf("%s %s: %+v", c.Host, name, p)
			}
		}
	}
	if rep.Create.Ops != 1200 || rep.Stat.Ops != 1200 || rep.Delete.Ops != 1200 || rep.Create.OpsPerSec() <= 0 {
		t.Errorf("aggregate: %+v %+v %+v", rep.Create, rep.Stat, rep.Delete)
	}
	assertEmptyDir(t, dir, ".diffuser-*", "small files")
}

// TestSmallFilesLostCreates: a client whose stat finds fewer files than
// were created fails that phase instead of reporting a fast stat, and the
// aggregate counts only the other client.
func TestSmallFilesLostCreates(t *testing.T) {
	l := mustLoad(t, benchRecipe("/mnt/fs"))
	st := benchState(l)
	cl := adopted(st)
	var mu sync.Mutex
	var cleaned []string
	cl.Behavior = func(host, cmd string) (time.Duration, int, string) {
		switch {
		case strings.Contains(cmd, "mode=create"):
			return 0, 0, "diffuser-bench ns=1000000000 mode=create found=0\n"
		case strings.Contains(cmd, "mode=stat") && host == "client[1]":
			return 0, 0, "diffuser-bench ns=10000000 mode=stat found=7\n"
		case strings.Contains(cmd, "mode=stat"):
			return 0, 0, "diffuser-bench ns=500000000 mode=stat found=40\n"
		case strings.Contains(cmd, "mode=delete"):
			return 0, 0, "diffuser-bench ns=250000000 mode=delete found=0\n"
		case strings.HasPrefix(cmd, "rm -rf "):
			mu.Lock()
			cleaned = append(cleaned, host)
			mu.Unlock()
		}
		return 0, 0, ""
	}
	rep, err := probe.SmallFiles(context.Background(), l, st, probe.SmallFileOptions{Connector: cl.Connector(), Files: 10, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := rep.Clients[0], rep.Clients[1]
	if c0.Err != "" || c0.Create.OpsPerSec() != 40 || c0.Stat.OpsPerSec() != 80 || c0.Delete.OpsPerSec() != 160 {
		t.Errorf("client[0]: %+v", c0)
	}
	if !strings.Contains(c1.Err, "found 7 of the 40 files") || c1.Stat.Ops != 0 || c1.Delete.Ops != 0 {
		t.Errorf("client[1]: %+v", c1)
	}
	if rep.Create.Ops != 80 || rep.Stat.Ops != 40 || rep.Delete.Ops != 40 {
		t.Errorf("aggregate ops: create %d stat %d delete %d", rep.Create.Ops, rep.Stat.Ops, rep.Delete.Ops)
	}
	if len(cleaned) != 2 {
		t.Errorf("cleanup ran on %v, want both clients", cleaned)
	}
}

// TestSmallFilesCreateWithoutTouch: the create phase opens and closes
// each file itself, as mdtest does; it never calls touch, whose utimes
// call GVfs's FUSE mount (the nfs recipe's libnfs clients) refuses with
// "setting times of 'f1': Resource temporarily unavailable". A touch on
// PATH that fails like that changes nothing.
func TestSmallFilesCreateWithoutTouch(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\nfor f; do echo \"touch: setting times of '$f': Resource temporarily unavailable\" >&2; done\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "touch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	dir := t.TempDir()
	l := mustLoad(t, benchRecipe(dir))
	rep, err := probe.SmallFiles(context.Background(), l, benchState(l), probe.SmallFileOptions{Connector: &localRunner{}, Files: 50, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Clients {
		if c.Err != "" || c.Create.Ops != 100 || c.Stat.Ops != 100 || c.Delete.Ops != 100 {
			t.Errorf("%s: %+v", c.Host, c)
		}
	}
}
