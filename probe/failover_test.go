package probe_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"diffuser/probe"
	"diffuser/runner"
	"diffuser/state"
)

// fakeFS is a replicated filesystem as its clients see it: servers hold
// copies of files, each client caches what it read or wrote, and a read is
// answered from the client's cache when it has the file — unless it asks
// for O_DIRECT or dropped the file's pages — else by a running server
// holding a copy, else it fails with EIO. daemonCache makes the client's
// FUSE daemon answer even O_DIRECT reads from what it cached (as mfsmount
// can). It understands exactly the commands verify sends.
type fakeFS struct {
	mu          sync.Mutex
	placement   []string // servers a written file gets a copy on
	daemonCache bool
	copies      map[string][]string        // file -> servers
	cached      map[string]map[string]bool // client -> files
	stopped     map[string]bool
	ips         map[string]string // host -> address
}

func newFakeFS(placement ...string) *fakeFS {
	return &fakeFS{placement: placement, copies: map[string][]string{}, cached: map[string]map[string]bool{},
		stopped: map[string]bool{}, ips: map[string]string{}}
}

func sumOf(file string) string {
	s := sha256.Sum256([]byte(file))
	return hex.EncodeToString(s[:])
}

var (
	reWrite = regexp.MustCompile(`> '?([^' ]+)'?\.tmp`)
	reRead  = regexp.MustCompile(`sha256sum < '?([^' ]+)'? \|`)
	reCold  = regexp.MustCompile(`^f='?([^' ;]+)'?;`)
	reLoc   = regexp.MustCompile(`pathinfo '?([^' ]+)'? 2>&1`)
)

func (f *fakeFS) serve(file string) bool {
	for _, s := range f.copies[file] {
		if !f.stopped[s] {
			return true
		}
	}
	return false
}

func (f *fakeFS) do(host, cmd string) runner.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached[host] == nil {
		f.cached[host] = map[string]bool{}
	}
	eio := runner.Result{Exit: 1, Stderr: "dd: error reading: Input/output error\n"}
	switch {
	case cmd == "stop-brick":
		f.stopped[host] = true
	case cmd == "start-brick":
		delete(f.stopped, host)
	case strings.Contains(cmd, "/dev/urandom"):
		file := reWrite.FindStringSubmatch(cmd)[1]
		for _, s := range f.placement {
			if !f.stopped[s] {
				f.copies[file] = append(f.copies[file], s)
			}
		}
		f.cached[host][file] = true
		return runner.Result{Stdout: sumOf(file) + "\n"}
	case strings.HasPrefix(cmd, "findmnt"):
		out := "fuse.glusterfs 10.0.0.10:/gv0\n"
		if m := reLoc.FindStringSubmatch(cmd); m != nil {
			out += "(<REPLICATE:gv0-replicate-0>"
			for _, s := range f.copies[m[1]] {
				out += fmt.Sprintf(" <POSIX(/data/brick/gv0):%s:/data/brick/gv0/%s>", f.ips[s], filepath.Base(m[1]))
			}
			out += ")\n"
		}
		return runner.Result{Stdout: out}
	case reCold.MatchString(cmd):
		file := reCold.FindStringSubmatch(cmd)[1]
		if strings.Contains(cmd, "iflag=nocache") && !f.daemonCache {
			delete(f.cached[host], file) // the daemon's own cache is not the page cache
		}
		if !f.serve(file) && !(f.daemonCache && f.cached[host][file]) {
			return eio
		}
		f.cached[host][file] = true
		return runner.Result{Stdout: sumOf(file) + " direct\n"}
	case reRead.MatchString(cmd):
		file := reRead.FindStringSubmatch(cmd)[1]
		if !f.cached[host][file] && !f.serve(file) {
			return eio
		}
		f.cached[host][file] = true
		return runner.Result{Stdout: sumOf(file) + "\n"}
	}
	return runner.Result{}
}

// Runner implements engine.Connector.
func (f *fakeFS) Runner(_ context.Context, h state.Host, _ func(int, string) error) (runner.Runner, error) {
	return fakeHost{f, h.Name}, nil
}

type fakeHost struct {
	f    *fakeFS
	name string
}

func (h fakeHost) Run(_ context.Context, cmd string, _ runner.Options) (runner.Result, error) {
	return h.f.do(h.name, cmd), nil
}

func (fakeHost) Upload(context.Context, io.Reader, string, os.FileMode) error { return nil }

func failoverRecipe(clients int) string {
	return fmt.Sprintf(`
recipe "fs" {}
hosts "server" { count = 2 }
hosts "client" { count = %d }
step "mount" {
  on  = hosts.client
  run = "mount it"
}
verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/fs"
  failover {
    on    = hosts.server[0]
    stop  = "stop-brick"
    start = "start-brick"
  }
}
`, clients)
}

func runFailover(t *testing.T, fs *fakeFS, clients int) map[string]probe.Check {
	t.Helper()
	l := mustLoad(t, failoverRecipe(clients))
	st := state.New("t")
	for i, h := range l.Graph.Hosts {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		st.Hosts[h.Name] = &state.Host{Name: h.Name, Group: h.Group, Index: h.Index, ProviderID: "id-" + h.Name, PrivateIP: ip}
		fs.ips[h.Name] = ip
	}
	checks, err := probe.Verify(context.Background(), l, st, probe.VerifyOptions{Connector: fs})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]probe.Check{}
	for _, c := range checks {
		t.Logf("%-26s %-10s ok=%-5v %s", c.Name, c.Host, c.OK, c.Detail)
		byName[c.Name] = c
	}
	if fs.stopped["server[0]"] {
		t.Error("server[0] was left stopped")
	}
	return byName
}

// TestFailoverReplicated: with a copy on each server the failover read
// passes and names the server that served it.
func TestFailoverReplicated(t *testing.T) {
	for _, clients := range []int{1, 2} {
		t.Run(fmt.Sprint(clients, " clients"), func(t *testing.T) {
			c := runFailover(t, newFakeFS("server[0]", "server[1]"), clients)
			r := c["read with server[0] down"]
			if !r.OK || !strings.Contains(r.Detail, "O_DIRECT") {
				t.Errorf("failover read: %+v", r)
			}
			if loc := c["locate"]; !loc.OK || !strings.HasPrefix(loc.Detail, "served by server[1] (fuse.glusterfs: copies on server[0] (stopped), server[1])") {
				t.Errorf("locate: %+v", loc)
			}
		})
	}
}

// TestFailoverCannotBeAnsweredByCache: the stopped server holds the only
// copy. A re-read of the file the reader already read is answered by its
// cache (the fake shows that first); verify's failover read is not, and
// fails — with one client too, where the writer has the file cached.
func TestFailoverCannotBeAnsweredByCache(t *testing.T) {
	for _, clients := range []int{1, 2} {
		t.Run(fmt.Sprint(clients, " clients"), func(t *testing.T) {
			fs := newFakeFS("server[0]")
			reader := "client[1]"
			if clients == 1 {
				reader = "client[0]"
			}
			// The oracle can lie: a file read before the stop reads
			// back from cache with its only server down.
			fs.do("client[0]", "set -e; head -c 1 /dev/urandom > /mnt/fs/x.tmp && mv")
			fs.do(reader, "sha256sum < /mnt/fs/x | cut -d' ' -f1")
			fs.do("server[0]", "stop-brick")
			if res := fs.do(reader, "sha256sum < /mnt/fs/x | cut -d' ' -f1"); res.Exit != 0 {
				t.Fatalf("the fake does not model the cache: %+v", res)
			}
			fs.do("server[0]", "start-brick")

			c := runFailover(t, fs, clients)
			if r := c["read"]; !r.OK {
				t.Fatalf("the read before the stop failed: %+v", r)
			}
			if r := c["read with server[0] down"]; r.OK || !strings.Contains(r.Detail, "Input/output error") {
				t.Errorf("failover read passed with the only copy on the stopped server: %+v", r)
			}
		})
	}
}

// TestFailoverDaemonCacheCaught: a FUSE daemon that answers even O_DIRECT
// reads from its own cache (one client, which wrote the file) makes the
// read pass, but the filesystem says the only copy is on the stopped
// server: verify fails.
func TestFailoverDaemonCacheCaught(t *testing.T) {
	fs := newFakeFS("server[0]")
	fs.daemonCache = true
	c := runFailover(t, fs, 1)
	loc := c["locate"]
	if loc.OK || !strings.Contains(loc.Detail, "answered by a cache") {
		t.Errorf("locate: %+v, want a failure saying the read came from a cache", loc)
	}
}

// TestColdReadCmd runs the cold read for real on a local file: the
// checksum is the file's, a short read (a missing file) fails, and the
// mode says whether O_DIRECT was taken.
func TestColdReadCmd(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "it's a file")
	data := make([]byte, 2<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	r := &localRunner{}
	res, err := r.Run(context.Background(), probe.ColdReadCmd(file), runner.Options{})
	if err != nil || res.Exit != 0 {
		t.Fatalf("cold read: %v %+v", err, res)
	}
	sum, mode, _ := strings.Cut(strings.TrimSpace(res.Stdout), " ")
	if sum != hex.EncodeToString(want[:]) || (mode != "direct" && mode != "buffered") {
		t.Fatalf("cold read printed %q, want %x and a mode", res.Stdout, want)
	}
	t.Logf("local %s: %s", dir, mode)
	res, err = r.Run(context.Background(), probe.ColdReadCmd(file+"-missing"), runner.Options{})
	if err != nil || res.Exit == 0 {
		t.Fatalf("cold read of a missing file: %v %+v", err, res)
	}
}

// TestFailoverOnNoHosts: a failover whose on names no hosts (a layout
// with nothing to stop, such as a volume without copies) stops nothing
// and adds no check; the round trip is still verified.
func TestFailoverOnNoHosts(t *testing.T) {
	fs := newFakeFS("server[0]")
	src := strings.Replace(failoverRecipe(2), "on    = hosts.server[0]", "on    = slice(hosts.server, 0, 0)", 1)
	l := mustLoad(t, src)
	st := state.New("t")
	for i, h := range l.Graph.Hosts {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		st.Hosts[h.Name] = &state.Host{Name: h.Name, Group: h.Group, Index: h.Index, ProviderID: "id-" + h.Name, PrivateIP: ip}
		fs.ips[h.Name] = ip
	}
	checks, err := probe.Verify(context.Background(), l, st, probe.VerifyOptions{Connector: fs})
	if err != nil {
		t.Fatal(err)
	}
	read := false
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
		if strings.Contains(c.Name, "down") || c.Name == "failover" || c.Name == "locate" {
			t.Errorf("a failover check with nothing to stop: %+v", c)
		}
		read = read || c.Name == "read"
	}
	if !read || len(fs.stopped) > 0 {
		t.Fatalf("checks %+v, stopped %v: want the round trip and nothing stopped", checks, fs.stopped)
	}
}
