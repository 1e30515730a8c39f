package state

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests that need a second process run this test binary again with
// helperEnv naming what to do (see runHelper).
const (
	helperEnv    = "DIFFUSER_STATE_TEST_HELPER"
	helperDirEnv = "DIFFUSER_STATE_TEST_DIR"
	helperCmd    = "diffuser apply glusterfs"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Getenv(helperDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the body of a helper process.
//
//	lock    take the lock, print "locked", hold it until stdin closes
//	writer  take the lock and record and save in a loop forever, printing
//	        "r <i>" once record i is durable and "s <serial>" once saved
//	exit    exit at once (its pid is then a dead one)
func runHelper(mode, dir string) error {
	switch mode {
	case "exit":
		return nil
	case "lock":
		s := Open(dir)
		unlock, err := s.Lock(context.Background(), CurrentHolder(helperCmd))
		if err != nil {
			return err
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return unlock()
	case "writer":
		return helperWriter(dir)
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

func helperWriter(dir string) error {
	s := Open(dir, WithCompactMin(1<<30)) // compaction only where asked
	unlock, err := s.Lock(context.Background(), CurrentHolder("writer"))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.Load()
	if err != nil {
		return err
	}
	r := NewRecorder(s, st)
	next := 0
	r.View(func(st *State) { next = len(st.Steps) })
	fmt.Println("ready")
	for i := next; ; i++ {
		if err := r.Record(PutInstance(addr(i), testInstance(i))); err != nil {
			return err
		}
		fmt.Printf("r %d\n", i)
		if i%25 == 0 {
			if err := r.Compact(); err != nil {
				return err
			}
			r.View(func(st *State) { fmt.Printf("s %d\n", st.Serial) })
		}
	}
}

// helperProc is a running helper process.
type helperProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its stdout, line by line; closed at EOF
}

func startHelper(t *testing.T, mode, dir string) *helperProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperProc{cmd: cmd, stdin: stdin, lines: make(chan string, 1<<16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return h
}

// expect waits for the helper to print want.
func (h *helperProc) expect(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				t.Fatalf("helper exited before printing %q", want)
			}
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("helper did not print %q in 30s", want)
		}
	}
}

// kill SIGKILLs the helper and waits for it.
func (h *helperProc) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=exit")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func addr(i int) string { return `step.glusterd["server[` + strconv.Itoa(i) + `]"]` }

func testInstance(i int) *Instance {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &Instance{
		Step:     "glusterd",
		Host:     "server[" + strconv.Itoa(i) + "]",
		Kind:     "service",
		Digest:   fmt.Sprintf("sha256:%064x", i),
		Status:   StatusApplied,
		Outputs:  map[string]string{"pid": strconv.Itoa(1000 + i)},
		Started:  t0,
		Finished: t0.Add(1500 * time.Millisecond),
	}
}

func testHost(i int) *Host {
	name := "server[" + strconv.Itoa(i) + "]"
	return &Host{
		Name: name, Group: "server", Index: i, Provider: "docker",
		ProviderID: "c0ffee" + strconv.Itoa(i), PrivateIP: "10.0.0." + strconv.Itoa(10+i),
		SSH:      SSH{Address: "10.0.0." + strconv.Itoa(10+i), Port: 22, User: "root", HostKey: "ssh-ed25519 AAAA" + strconv.Itoa(i)},
		Volumes:  map[string]Volume{"brick": {Device: "/dev/loop" + strconv.Itoa(i), SizeGB: 10}},
		Digest:   "sha256:launch",
		Launched: time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC),
	}
}

// lockedStore opens dir, takes the lock (released at cleanup) and loads.
func lockedStore(t *testing.T, dir string, opts ...Option) (*Store, *State) {
	t.Helper()
	s, st, _ := lockAndLoad(t, dir, opts...)
	return s, st
}

// lockAndLoad is lockedStore also returning the unlock function, which
// cleanup calls too (a second call does nothing).
func lockAndLoad(t *testing.T, dir string, opts ...Option) (*Store, *State, func() error) {
	t.Helper()
	s := Open(dir, opts...)
	unlock, err := s.Lock(context.Background(), CurrentHolder("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unlock(); err != nil {
			t.Error(err)
		}
	})
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s, st, unlock
}

// mustLoad loads dir with a fresh Store.
func mustLoad(t *testing.T, dir string) *State {
	t.Helper()
	st, err := Open(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\ndoes not contain %q", s, sub)
		}
	}
}
