package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bad input beyond the corpus of badinput_test.go (issue 8): files that are
// not files (devices, named pipes) or far too large, absurd numbers, state
// files cut at every byte, random garbage, schema versions this build does
// not know. Each must fail at once with a message naming the input, and
// leave the workspace's state files exactly as they were.

const relDir = "testdata/reliability"

// badWorkspace makes a data dir whose workspace "w" holds the given files
// (name in the workspace -> content) and returns the data dir and a
// function that fails the test if any file changed or appeared. The lock
// file apply and destroy take may appear, empty once they released it, and
// so may the workspace's SSH key, which apply makes before it plans.
func badWorkspace(t *testing.T, files map[string][]byte) (data string, untouched func()) {
	t.Helper()
	data = filepath.Join(t.TempDir(), ".diffuser")
	ws := filepath.Join(data, "w")
	if err := os.MkdirAll(ws, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(ws, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return data, func() {
		t.Helper()
		ents, err := os.ReadDir(ws)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range ents {
			if _, given := files[e.Name()]; !given {
				fi, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				switch e.Name() {
				case "state.lock":
					if fi.Size() != 0 {
						t.Errorf("state.lock is not empty after the command ended")
					}
					continue
				case "id_ed25519", "id_ed25519.pub":
					if e.Name() == "id_ed25519" && fi.Mode().Perm() != 0o600 {
						t.Errorf("the workspace key has mode %v", fi.Mode().Perm())
					}
					continue
				}
			}
			n++
			want, ok := files[e.Name()]
			if !ok {
				t.Errorf("%s appeared in the workspace", e.Name())
				continue
			}
			if got, _ := os.ReadFile(filepath.Join(ws, e.Name())); !bytes.Equal(got, want) {
				t.Errorf("%s changed: %d bytes before, %d after", e.Name(), len(want), len(got))
			}
		}
		if n != len(files) {
			t.Errorf("the workspace holds %d files, want %d", n, len(files))
		}
	}
}

// quickRun is badRun with a deadline: reading a named pipe or a device
// used to block or never end.
func quickRun(t *testing.T, limit time.Duration, args ...string) badResult {
	t.Helper()
	done := make(chan badResult, 1)
	go func() { done <- badRun(t, args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(limit):
		t.Fatalf("diffuser %s still runs after %s", strings.Join(args, " "), limit)
		return badResult{}
	}
}

// TestBadInputSpecialFiles: recipe files, site files, variable files and
// files read with file() that are devices, named pipes or too large are
// refused at once, naming them. Before, a recipe directory holding a
// symlink to /dev/zero (or file() of one) ran out of memory, and a named
// pipe blocked forever.
func TestBadInputSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	okRecipe, err := os.ReadFile(filepath.Join(badDir, "ok.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero.hcl")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<30); err != nil { // sparse: costs nothing on disk
		t.Fatal(err)
	}
	// A link leading out of the recipe's directory is refused as such
	// (lang.DirFS); the special files are made inside it to be refused
	// for what they are.
	recipeDir := func(name, target string) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "main.hcl"), okRecipe, 0o600); err != nil {
			t.Fatal(err)
		}
		if target == "fifo" {
			if err := syscall.Mkfifo(filepath.Join(d, "extra.hcl"), 0o600); err != nil {
				t.Fatal(err)
			}
			return d
		}
		if err := os.Symlink(target, filepath.Join(d, "extra.hcl")); err != nil {
			t.Fatal(err)
		}
		return d
	}
	fileRecipe := func(name, arg string) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		src := strings.Replace(string(okRecipe), `run = "echo ${shellquote(var.greeting)} from ${host.name}"`,
			fmt.Sprintf("run = file(%q)", arg), 1)
		if err := os.WriteFile(filepath.Join(d, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/dev/zero", filepath.Join(d, "zero")); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(d, "pipe"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../big.bin", filepath.Join(d, "outbig")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "big"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(filepath.Join(d, "big"), 1<<30); err != nil {
			t.Fatal(err)
		}
		return d
	}
	okPath := filepath.Join(badDir, "ok.hcl")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"recipe symlink to /dev/zero", []string{"validate", recipeDir("devzero", "/dev/zero")}, []string{"extra.hcl is, or is inside, a symbolic link to outside the recipe's directory"}},
		{"recipe named pipe", []string{"validate", recipeDir("fifo", "fifo")}, []string{"extra.hcl is a named pipe"}},
		{"recipe file is a pipe", []string{"validate", fifo}, []string{"pipe.hcl is a named pipe"}},
		{"file() of /dev/zero", []string{"validate", fileRecipe("filezero", "zero")}, []string{`file("zero")`, "zero is, or is inside, a symbolic link to outside the recipe's directory"}},
		{"file() of a link out", []string{"validate", fileRecipe("fileout", "outbig")}, []string{`file("outbig")`, "outbig is, or is inside, a symbolic link to outside"}},
		{"file() of a named pipe", []string{"validate", fileRecipe("filepipe", "pipe")}, []string{"pipe is a named pipe"}},
		{"file() of 1 GiB", []string{"validate", fileRecipe("filebig", "big")}, []string{"big is 1073741824 bytes", "at most 4194304 bytes"}},
		{"site file is /dev/zero", []string{"validate", "--site", zero, okPath}, []string{"Cannot read site file", zero + " is a character device"}},
		{"site file is a pipe", []string{"validate", "--site", fifo, okPath}, []string{"Cannot read site file", fifo + " is a named pipe"}},
		{"var file is a pipe", []string{"validate", "--var-file", fifo, okPath}, []string{"Cannot read variables file", fifo + " is a named pipe"}},
		{"var file is 1 GiB", []string{"validate", "--var-file", big, okPath}, []string{"Error: File too large", big + " is 1073741824 bytes"}},
		{"site file is a directory", []string{"validate", "--site", dir, okPath}, []string{"Cannot read site file", dir + " is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := quickRun(t, 20*time.Second, tc.args...)
			checkFailed(t, res)
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
		})
	}
}

// TestBadInputAbsurdNumbers: counts, sizes, timeouts and flags far out of
// range are refused before anything is planned, naming where they come
// from, and the state is untouched.
func TestBadInputAbsurdNumbers(t *testing.T) {
	stateOK, err := os.ReadFile(filepath.Join(badDir, "state_ok.json"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(badDir, "ok.hcl")
	sized := filepath.Join(t.TempDir(), "sized.hcl")
	src := `recipe "badinput" {}
variable "size" {
  type    = number
  default = 1
}
variable "wait" {
  type    = string
  default = "10s"
}
hosts "server" {
  count = 1
  volume "data" { size_gb = var.size }
}
step "hello" {
  on      = hosts.server
  run     = "true"
  timeout = var.wait
}
`
	if err := os.WriteFile(sized, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		recipe string
		args   []string
		want   string
	}{
		{"a billion hosts", recipe, []string{"--var", "servers=1000000000"}, "The count of hosts server is 1000000000; it must be between 0 and 100000."},
		{"1e400 hosts", recipe, []string{"--var", "servers=1e400"}, "var.servers: the number (about 1e400) is outside the numbers a recipe computes with"},
		{"a count of 23 digits", recipe, []string{"--var", "servers=99999999999999999999999"}, "it must be between 0 and 100000"},
		{"half a host", recipe, []string{"--var", "servers=1.5"}, "must be a whole number, not 1.5"},
		{"negative hosts", recipe, []string{"--var", "servers=-3"}, "At least one server is needed."},
		{"an exabyte volume", sized, []string{"--var", "size=1000000000"}, "it must be between 1 and 65536"},
		{"a negative volume", sized, []string{"--var", "size=-1"}, "it must be between 1 and 65536"},
		{"a timeout of 11,000 years", sized, []string{"--var", "wait=100000000h"}, `"100000000h" is not a duration`},
		{"a negative timeout", sized, []string{"--var", "wait=-5s"}, `"-5s" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range []string{"plan", "apply"} {
				data, untouched := badWorkspace(t, map[string][]byte{"state.json": stateOK})
				args := append([]string{cmd, "--provider", "static", "--site", badStaticSite, "--data-dir", data, "--workspace", "w", tc.recipe}, tc.args...)
				if cmd == "apply" {
					args = append(args, "-auto-approve")
				}
				res := quickRun(t, 30*time.Second, args...)
				checkFailed(t, res)
				if !strings.Contains(res.stderr, tc.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", cmd, tc.want, res.stderr)
				}
				if !regexp.MustCompile(`on .+ line \d+`).MatchString(res.stderr) {
					t.Errorf("%s: the error does not point at a line:\n%s", cmd, res.stderr)
				}
				untouched()
			}
		})
	}
}

// TestBadStateEveryTruncation cuts a state file with hosts, instances,
// outputs and escapes after every byte, and its journal after every byte.
// A cut state.json fails with its line and column (a cut that keeps the
// closing brace loads); a journal cut mid-line loses that line only, as
// after a crash mid-write. No cut panics, and none changes a file.
func TestBadStateEveryTruncation(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(relDir, "state_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(filepath.Join(relDir, "state_full.journal"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(badDir, "ok.hcl")
	plan := func(data string) badResult {
		return badRun(t, "plan", "--provider", "static", "--site", badStaticSite, "--refresh=false", "--data-dir", data, "--workspace", "w", recipe)
	}
	lineCol := regexp.MustCompile(`state\.json:\d+:\d+: `)
	closing := bytes.LastIndexByte(full, '}')
	failures := 0
	step := 1
	if testing.Short() {
		step = 17 // every byte takes seconds; -short samples
	}
	for n := 0; n < len(full); n += step {
		data, untouched := badWorkspace(t, map[string][]byte{"state.json": full[:n]})
		res := plan(data)
		if n > closing {
			if res.code != exitOK {
				t.Errorf("state.json cut after its closing brace (%d of %d bytes): exit %d\n%s", n, len(full), res.code, res.stderr)
			}
		} else {
			failures++
			checkFailed(t, res)
			if !lineCol.MatchString(res.stderr) && !strings.Contains(res.stderr, "state.json: no schema version") {
				t.Errorf("state.json cut to %d bytes: the error has no line and column:\n%s", n, res.stderr)
			}
		}
		untouched()
		if t.Failed() {
			t.Fatalf("stopping at the first cut that fails (%d bytes)", n)
		}
	}
	// Records replayed: line 2 marks server[1]'s instance applied, line 3
	// removes server[1], line 4 its instance. A torn line, the header's
	// included, is dropped as a crash mid-write leaves it.
	want := map[int]string{
		0: "launch[\"server[0]\"]\nlaunch[\"server[1]\"]\nstep.hello[\"server[0]\"] (applied)\nstep.hello[\"server[1]\"] (failed)\n",
		2: "launch[\"server[0]\"]\nlaunch[\"server[1]\"]\nstep.hello[\"server[0]\"] (applied)\nstep.hello[\"server[1]\"] (applied)\n",
		3: "launch[\"server[0]\"]\nstep.hello[\"server[0]\"] (applied)\nstep.hello[\"server[1]\"] (applied)\n",
		4: "launch[\"server[0]\"]\nstep.hello[\"server[0]\"] (applied)\n",
	}
	want[1] = want[0] // the header alone changes nothing
	for n := 0; n <= len(journal); n += step {
		data, untouched := badWorkspace(t, map[string][]byte{"state.json": full, "state.journal": journal[:n]})
		res := badRun(t, "state", "list", "w", "--data-dir", data)
		complete := bytes.Count(journal[:n], []byte("\n"))
		if res.code != exitOK {
			t.Errorf("journal cut to %d bytes (%d complete lines): exit %d\n%s", n, complete, res.code, res.stderr)
		} else if res.stdout != want[complete] {
			t.Errorf("journal cut to %d bytes (%d complete lines) lists:\n%s\nwant:\n%s", n, complete, res.stdout, want[complete])
		}
		untouched()
		if t.Failed() {
			t.Fatalf("stopping at the first cut that fails (%d bytes)", n)
		}
	}
	t.Logf("state.json: %d cuts refused with a position; journal: %d cuts", failures, len(journal)/step+1)
}

// TestBadStateGarbage: random bytes as state.json or journal, a 64 MiB
// state.json of NUL bytes (a sparse file, as a crashed filesystem leaves
// them), schema versions from the future or the past, and a saved plan
// file of garbage are refused, naming the file, and change nothing.
func TestBadStateGarbage(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(relDir, "state_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(badDir, "ok.hcl")
	rng := rand.New(rand.NewPCG(8, 8))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	version := func(v string) []byte {
		return bytes.Replace(full, []byte(`"version": 1,`), []byte(`"version": `+v+`,`), 1)
	}
	header := `{"journal":1,"lineage":"9d3f7c2a-1b4e-4f60-8a2d-5e6c7b8a9f01","serial":7}` + "\n"
	cases := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"next schema version", map[string][]byte{"state.json": version("3")}, "state.json has schema version 3, written by a newer diffuser"},
		{"huge schema version", map[string][]byte{"state.json": version("4294967296")}, "schema version 4294967296, written by a newer diffuser"},
		{"schema version beyond int64", map[string][]byte{"state.json": version("1e30")}, "state.json:2:"},
		{"negative schema version", map[string][]byte{"state.json": version("-1")}, "no schema version"},
		{"schema version as text", map[string][]byte{"state.json": version(`"1"`)}, "state.json:2:14"},
		{"journal of a newer version", map[string][]byte{"state.json": full, "state.journal": []byte(strings.Replace(header, `"journal":1`, `"journal":7`, 1))}, "state.journal has schema version 7"},
		{"huge state.json of NUL bytes", map[string][]byte{"state.json": make([]byte, 64<<20)}, `state.json:1:1: invalid character '\x00'`},
	}
	for i := 0; i < 8; i++ {
		cases = append(cases, struct {
			name  string
			files map[string][]byte
			want  string
		}{fmt.Sprintf("random state.json %d", i), map[string][]byte{"state.json": garbage(1 + rng.IntN(4096))}, "state.json"})
		cases = append(cases, struct {
			name  string
			files map[string][]byte
			want  string
		}{fmt.Sprintf("random journal %d", i), map[string][]byte{"state.json": full, "state.journal": append([]byte(header), append(garbage(1+rng.IntN(512)), '\n')...)}, "state.journal:2"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"plan", "--provider", "static", "--site", badStaticSite, "--refresh=false", recipe},
				{"apply", "--provider", "static", "--site", badStaticSite, "-auto-approve", recipe},
				{"destroy", "--provider", "static", "--site", badStaticSite, "-auto-approve", recipe},
			} {
				data, untouched := badWorkspace(t, tc.files)
				start := time.Now()
				res := quickRun(t, 30*time.Second, append(args, "--data-dir", data, "--workspace", "w")...)
				checkFailed(t, res)
				if !strings.Contains(res.stderr, tc.want) {
					t.Errorf("%s: stderr lacks %q:\n%.2000s", args[0], tc.want, res.stderr)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("%s took %s to refuse the state", args[0], d)
				}
				untouched()
			}
		})
	}

	// A saved plan file that is not one: apply refuses it before reading state.
	data, untouched := badWorkspace(t, map[string][]byte{"state.json": full})
	for i, b := range [][]byte{garbage(2048), []byte(`{"version": 9, "actions": {}}`), []byte(`{"version": 1`), nil} {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("plan%d.json", i))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		res := quickRun(t, 30*time.Second, "apply", p, "--data-dir", data)
		checkFailed(t, res)
		if !strings.Contains(res.stderr, "is not a diffuser plan file") {
			t.Errorf("apply of a garbage plan file:\n%s", res.stderr)
		}
	}
	untouched()
}
