package distribute

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/steps"
)

func TestPlanRound(t *testing.T) {
	addr := func(i int) string { return fmt.Sprintf("10.0.0.%d", i+10) }
	port := func(i int) int { return 20000 + i }
	for _, c := range []struct {
		name   string
		need   []relayNode
		source int
		fanout int
		want   string
		files  map[int][]string // plan files to check
	}{
		{
			name: "fresh chain keeps the targets' order",
			need: []relayNode{{host: 0}, {host: 1}, {host: 2}, {host: 3}}, source: -1, fanout: 1,
			want: "operator -> 0@0 -> 1@0 -> 2@0 -> 3@0",
			files: map[int][]string{
				0: {"recv 0", "10.0.0.11 20001 0"},
				3: {"recv 0"},
			},
		},
		{
			name: "resumed hosts are chained by what they have: each stream begins at the host's own offset",
			need: []relayNode{{host: 2, have: 600}, {host: 3, have: 100}, {host: 4, have: 300}}, source: -1, fanout: 1,
			want: "operator -> 3@100 -> 4@300 -> 2@600",
			files: map[int][]string{
				3: {"recv 100", "10.0.0.14 20004 200"},
				4: {"recv 300", "10.0.0.12 20002 300"},
				2: {"recv 600"},
			},
		},
		{
			name: "a complete host feeds the rest: nothing from the operator",
			need: []relayNode{{host: 2, have: 5000}, {host: 3, have: 7000}}, source: 0, fanout: 1,
			want: "src 0@5000 -> 2@5000 -> 3@7000",
			files: map[int][]string{
				0: {"send 5000", "10.0.0.12 20002 0"},
				2: {"recv 5000", "10.0.0.13 20003 2000"},
			},
		},
		{
			name: "tree of fanout 2 in heap order",
			need: []relayNode{{host: 0}, {host: 1}, {host: 2}, {host: 3}, {host: 4}, {host: 5}}, source: -1, fanout: 2,
			want: "operator -> 0@0 -> [1@0 -> [3@0, 4@0], 2@0 -> 5@0]",
			files: map[int][]string{
				0: {"recv 0", "10.0.0.11 20001 0", "10.0.0.12 20002 0"},
				1: {"recv 0", "10.0.0.13 20003 0", "10.0.0.14 20004 0"},
			},
		},
		{
			name: "tree of resumed hosts: a child's stream skips what it has beyond its parent",
			need: []relayNode{{host: 1, have: 300}, {host: 2, have: 100}, {host: 3, have: 200}}, source: 4, fanout: 2,
			want: "src 4@100 -> [2@100 -> 1@300, 3@200]",
			files: map[int][]string{
				4: {"send 100", "10.0.0.12 20002 0", "10.0.0.13 20003 100"},
				2: {"recv 100", "10.0.0.11 20001 200"},
			},
		},
		{
			name: "one host",
			need: []relayNode{{host: 7, have: 42}}, source: -1, fanout: 3,
			want: "operator -> 7@42",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := planRound(c.need, c.source, c.fanout)
			if got := p.String(); got != c.want {
				t.Errorf("plan = %s\n want %s", got, c.want)
			}
			for h, want := range c.files {
				if got := p.planFile(h, addr, port); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("plan file of %d = %q, want %q", h, got, want)
				}
			}
			// Invariants: every child's stream starts no earlier than its
			// parent's, and no receiver is asked to start beyond what it has.
			have := map[int]int64{}
			for _, n := range c.need {
				have[n.host] = n.have
			}
			for par, cs := range p.children {
				for _, ch := range cs {
					if p.start[ch] < p.start[par] {
						t.Errorf("child %d starts at %d before its parent %d (%d)", ch, p.start[ch], par, p.start[par])
					}
				}
			}
			for h, s := range p.start {
				if h != c.source && s > have[h] {
					t.Errorf("host %d starts at %d but has %d", h, s, have[h])
				}
			}
		})
	}
}

func TestDigesterAnyOrder(t *testing.T) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	want := sha256.Sum256(data)
	d := newDigester()
	d.feed(100, data[100:200]) // ahead of the hash: ignored
	d.feed(0, data[:50])
	d.feed(0, data[:120]) // overlaps: only 50..120 is new
	d.feed(120, data[120:5000])
	d.eof(4000) // a reader that is not at the hash's end cannot end it
	if _, _, ok := d.result(); ok {
		t.Fatal("digest complete too early")
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "src")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	art, err := openArtifact(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, size, err := d.complete(context.Background(), art)
	if err != nil {
		t.Fatal(err)
	}
	if sum != hex.EncodeToString(want[:]) || size != int64(len(data)) {
		t.Fatalf("digest %s size %d, want %x %d", sum, size, want, len(data))
	}
}

func TestURLArtifactRanges(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	var served int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{w: w}
		http.ServeContent(cw, r, "a.bin", time.Unix(1e9, 0), bytes.NewReader(data))
		served += cw.n
	}))
	defer srv.Close()
	art, err := openArtifact(context.Background(), srv.URL+"/a.bin", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if art.size() != int64(len(data)) {
		t.Fatalf("size %d", art.size())
	}
	rc, err := art.open(context.Background(), 9000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	_ = rc.Close()
	if !bytes.Equal(b, data[9000:]) || served != 1000 {
		t.Fatalf("range read %d bytes (served %d), want the last 1000", len(b), served)
	}
	if rc, err = art.open(context.Background(), int64(len(data))); err != nil {
		t.Fatalf("open at the end: %v", err)
	}
	_ = rc.Close()
	if err := art.changed(); err != nil {
		t.Fatal(err)
	}
}

type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Header() http.Header { return c.w.Header() }
func (c *countingWriter) WriteHeader(s int)   { c.w.WriteHeader(s) }
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// hopHosts is a directory per fake host with the hop installed; "ssh"
// is a script that runs the addressed host's hop locally, as the relay's
// sshd would (ForceCommand, SSH_ORIGINAL_COMMAND).
type hopHosts struct {
	root string
}

func newHopHosts(t *testing.T, names ...string) *hopHosts {
	t.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no coreutils")
	}
	hh := &hopHosts{root: t.TempDir()}
	fake := filepath.Join(hh.root, "fakessh")
	// The last two arguments are root@ADDR and the round, as the hop passes them.
	script := `#!/bin/sh
for a; do prev=$addr; addr=$a; done
host=${prev#root@}
[ "$host" = dead ] && { echo "ssh: connect to host dead port 1: Connection refused" >&2; exit 255; }
SSH_ORIGINAL_COMMAND=$addr exec sh "` + hh.root + `/$host/d/hop"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		d := filepath.Join(hh.root, n, "d")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		env := hopEnv(hh.dest(n), hh.part(n), fake)
		if err := os.WriteFile(filepath.Join(d, "env"), []byte(env), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hop"), []byte(hopProgram()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return hh
}

func (hh *hopHosts) part(n string) string { return filepath.Join(hh.root, n, "file.part") }
func (hh *hopHosts) dest(n string) string { return filepath.Join(hh.root, n, "file") }

func (hh *hopHosts) plan(t *testing.T, n string, round int, lines ...string) {
	t.Helper()
	p := filepath.Join(hh.root, n, "d", fmt.Sprintf("plan.%d", round))
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs host n's hop for round with stdin.
func (hh *hopHosts) run(t *testing.T, n string, round int, stdin []byte) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join(hh.root, n, "d", "hop"), fmt.Sprint(round))
	cmd.Stdin = bytes.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hop on %s: %v\n%s", n, err, out)
	}
}

func (hh *hopHosts) file(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hh.root, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestHopScript runs relay/hop.sh for real (coreutils, sh) with a fake ssh
// that hands the stream to the next local "host": chains, resumption,
// sending from a complete copy, a dead child.
func TestHopScript(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	t.Run("chain from the operator, hashed on the way in", func(t *testing.T) {
		hh := newHopHosts(t, "a", "b", "c")
		hh.plan(t, "a", 1, "recv 0", "b 1 0")
		hh.plan(t, "b", 1, "recv 0", "c 1 0")
		hh.plan(t, "c", 1, "recv 0")
		hh.run(t, "a", 1, data)
		for _, n := range []string{"a", "b", "c"} {
			if got := hh.file(t, n+"/file.part"); !bytes.Equal(got, data) {
				t.Fatalf("%s: part has %d bytes, want the %d sent", n, len(got), len(data))
			}
			if sum := strings.Fields(string(hh.file(t, n+"/d/sum.1"))); len(sum) == 0 || sum[0] != sumOf(data) {
				t.Fatalf("%s: stream sum %v, want %s", n, sum, sumOf(data))
			}
		}
	})
	t.Run("resume: each host appends only what it lacks", func(t *testing.T) {
		hh := newHopHosts(t, "b", "c")
		if err := os.WriteFile(hh.part("b"), data[:1000], 0o600); err != nil {
			t.Fatal(err)
		}
		// c holds more than the stream will start at: it keeps what it has.
		if err := os.WriteFile(hh.part("c"), data[:500000], 0o600); err != nil {
			t.Fatal(err)
		}
		hh.plan(t, "b", 2, "recv 1000", "c 1 499000")
		hh.plan(t, "c", 2, "recv 500000")
		hh.run(t, "b", 2, data[1000:])
		for _, n := range []string{"b", "c"} {
			if got := hh.file(t, n+"/file.part"); !bytes.Equal(got, data) {
				t.Fatalf("%s: part differs from the source (%d bytes)", n, len(got))
			}
		}
		if _, err := os.Stat(filepath.Join(hh.root, "c/d/sum.2")); err == nil {
			t.Fatal("a stream that did not start at 0 left a sum")
		}
	})
	t.Run("a part longer than the stream's start is cut there", func(t *testing.T) {
		hh := newHopHosts(t, "a")
		garbage := bytes.Repeat([]byte{'x'}, 4096)
		if err := os.WriteFile(hh.part("a"), append(append([]byte{}, data[:100]...), garbage...), 0o600); err != nil {
			t.Fatal(err)
		}
		hh.plan(t, "a", 3, "recv 100")
		hh.run(t, "a", 3, data[100:])
		if got := hh.file(t, "a/file.part"); !bytes.Equal(got, data) {
			t.Fatal("part differs from the source")
		}
	})
	t.Run("send from a complete copy, skipping per child", func(t *testing.T) {
		hh := newHopHosts(t, "src", "x", "y")
		if err := os.WriteFile(hh.dest("src"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hh.part("y"), data[:2<<20], 0o600); err != nil {
			t.Fatal(err)
		}
		hh.plan(t, "src", 4, "send 0", "x 1 0", "y 1 2097152")
		hh.plan(t, "x", 4, "recv 0")
		hh.plan(t, "y", 4, fmt.Sprintf("recv %d", 2<<20))
		hh.run(t, "src", 4, nil)
		for _, n := range []string{"x", "y"} {
			if got := hh.file(t, n+"/file.part"); !bytes.Equal(got, data) {
				t.Fatalf("%s: part differs from the source (%d bytes)", n, len(got))
			}
		}
		if _, err := os.Stat(hh.part("src")); err == nil {
			t.Fatal("the sender wrote a part file")
		}
	})
	t.Run("a dead child is dropped, the others go on", func(t *testing.T) {
		hh := newHopHosts(t, "a", "b")
		hh.plan(t, "a", 5, "recv 0", "dead 1 0", "b 1 0")
		hh.plan(t, "b", 5, "recv 0")
		hh.run(t, "a", 5, data)
		for _, n := range []string{"a", "b"} {
			if got := hh.file(t, n+"/file.part"); !bytes.Equal(got, data) {
				t.Fatalf("%s: part differs from the source (%d bytes)", n, len(got))
			}
		}
		if log := string(hh.file(t, "a/d/ssh.5.1.log")); !strings.Contains(log, "Connection refused") {
			t.Fatalf("dead child's ssh log: %q", log)
		}
	})
	t.Run("no plan, bad round", func(t *testing.T) {
		hh := newHopHosts(t, "a")
		for _, arg := range []string{"9", "1;rm"} {
			cmd := exec.Command("sh", filepath.Join(hh.root, "a", "d", "hop"), arg)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "hop:") {
				t.Fatalf("hop %q: err %v, output %q", arg, err, out)
			}
		}
	})
}

// TestRelayScriptsParse checks the generated shell with sh -n.
func TestRelayScriptsParse(t *testing.T) {
	a := distArgs{dest: "/opt/my app/x.tar", fileMode: 0o644, fanout: 1}
	art := &fileArtifact{path: "/dev/null"}
	fi, err := os.Stat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	art.fi = fi
	tr := newTransfer(a, art, []steps.Target{{Host: "h[0]", Address: "10.1.2.3"}, {Host: "h[1]", Address: "fe80::1"}})
	r, err := newRelay(tr)
	if err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{
		"setup":   r.setupScript(tr.hosts[0], []string{"10.1.2.3", "fe80::1"}),
		"setup6":  r.setupScript(tr.hosts[1], []string{"10.1.2.3"}),
		"hop":     hopProgram(),
		"probe":   tr.probeCmd(),
		"receive": tr.receiveCmd(0) + "\n" + tr.receiveCmd(77),
	} {
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s\n%s", name, err, out, script)
		}
	}
	s := r.setupScript(tr.hosts[0], []string{"10.1.2.3", "fe80::1"})
	for _, want := range []string{
		"ListenAddress 10.1.2.3\n", `from="10.1.2.3,fe80::1",restrict ssh-ed25519 `,
		"ForceCommand /bin/sh " + r.dir + "/hop", "d='/opt/my app' s=",
		r.alias + " ssh-ed25519 ", "BEGIN OPENSSH PRIVATE KEY",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("setup script lacks %q", want)
		}
	}
	if c := r.sshdConfig(""); strings.Contains(c, "`") || strings.Count(c, "$") != 2 || !strings.Contains(c, "Port $port\n") || !strings.Contains(c, "UsePAM $pam\n") {
		t.Error("the sshd config must expand nothing but $port and $pam in its here-document")
	}
}
