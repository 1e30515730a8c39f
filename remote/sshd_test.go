package remote

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// This file runs real OpenSSH servers for the tests: /usr/sbin/sshd on
// 127.0.0.1, with its own host keys, authorized_keys and config in a
// temporary directory. Tests that need one skip when sshd is absent.

const sshdPath = "/usr/sbin/sshd"

// sshdOptions change a test server.
type sshdOptions struct {
	rsaHostKey bool   // also an RSA host key (listed after ed25519)
	extra      string // more sshd_config lines
}

// testSSHD is one sshd process; stop and start it again to simulate a
// reboot (same port and host keys).
type testSSHD struct {
	t        testing.TB
	dir      string
	port     int
	hostKeys []string // authorized_keys lines, ed25519 first
	log      *lockedBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// testEnv is what all servers of one test share: the login user and the
// client key.
type testEnv struct {
	user     string
	keyPath  string
	authKey  string // authorized_keys line
	authFile string
}

func requireSSHD(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not found: install openssh-server to run the SSH tests", sshdPath)
	}
	if os.Geteuid() == 0 {
		// sshd running as root needs its privilege separation directory,
		// which a container without systemd-tmpfiles lacks.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Skipf("sshd needs /run/sshd: %v", err)
		}
	}
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	requireSSHD(t)
	dir := t.TempDir()
	keyPath, line, err := GenerateKey(filepath.Join(dir, "client"))
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testEnv{user: currentUser(t), keyPath: keyPath, authKey: line, authFile: auth}
}

func currentUser(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatalf("id -un: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// newSSHD configures and starts a server on a free port.
func (e *testEnv) newSSHD(t testing.TB, opt sshdOptions) *testSSHD {
	t.Helper()
	s := e.configureSSHD(t, opt)
	s.start()
	return s
}

// configureSSHD writes a server's files but does not start it.
func (e *testEnv) configureSSHD(t testing.TB, opt sshdOptions) *testSSHD {
	t.Helper()
	dir := t.TempDir()
	s := &testSSHD{t: t, dir: dir, port: freePort(t), log: &lockedBuffer{}}
	keys := []crypto.Signer{}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, edKey)
	if opt.rsaHostKey {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rsaKey)
	}
	// sshd takes the first value of a keyword: extra lines go first.
	var conf strings.Builder
	fmt.Fprintf(&conf, "%s\nListenAddress 127.0.0.1:%d\n", opt.extra, s.port)
	for i, k := range keys {
		p := filepath.Join(dir, fmt.Sprintf("host_key_%d", i))
		block, err := ssh.MarshalPrivateKey(k, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		pub, err := ssh.NewPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		s.hostKeys = append(s.hostKeys, FormatKey(pub))
		fmt.Fprintf(&conf, "HostKey %s\n", p)
	}
	sftpServer := "internal-sftp"
	if _, err := os.Stat("/usr/lib/openssh/sftp-server"); err == nil {
		sftpServer = "/usr/lib/openssh/sftp-server"
	}
	fmt.Fprintf(&conf, `AuthorizedKeysFile %s
PidFile %s
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowTcpForwarding yes
Subsystem sftp %s
LogLevel VERBOSE
# bash sources ~/.bashrc when started by sshd with SHLVL unset; this
# machine's may be slow (pyenv...) and would drown the transport's own
# cost. SHLVL=1 makes bash skip it.
SetEnv SHLVL=1
`, e.authFile, filepath.Join(dir, "sshd.pid"), sftpServer)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd on port %d logged:\n%s", s.port, s.log.String())
		}
	})
	return s
}

func (s *testSSHD) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("sshd already running")
	}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", filepath.Join(s.dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// Pdeathsig: no orphaned server when the test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting sshd: %v", err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-exited:
			s.t.Fatalf("sshd exited at start:\n%s", s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sshd did not listen on %s: %v\n%s", s.addr(), err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.exited = exited
}

// stop kills the server and every process it started (connections and
// their sessions run in their own sessions, so not in its process group),
// as a host that loses power would.
func (s *testSSHD) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	// Freeze the tree so nothing forks while it is listed, then kill it.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	for _, p := range descendants(pid) {
		_ = syscall.Kill(p, syscall.SIGSTOP)
	}
	tree := append([]int{pid}, descendants(pid)...)
	for _, p := range tree {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	<-s.exited
	s.cmd = nil
}

// signalTree sends sig to the server and all its descendants.
func (s *testSSHD) signalTree(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pid := s.cmd.Process.Pid
	for _, p := range append([]int{pid}, descendants(pid)...) {
		_ = syscall.Kill(p, sig)
	}
}

func (s *testSSHD) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// config returns a client config for this server as the test user.
func (e *testEnv) config(s *testSSHD) Config {
	return Config{
		Name:           fmt.Sprintf("host-%d", s.port),
		Address:        "127.0.0.1",
		Port:           s.port,
		User:           e.user,
		KeyFiles:       []string{e.keyPath},
		HostKey:        s.hostKeys[0],
		ConnectTimeout: 5 * time.Second,
	}
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// processWithArg reports whether a process has arg among its arguments.
func processWithArg(arg string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, a := range bytes.Split(cmdline, []byte{0}) {
			if string(a) == arg {
				return true
			}
		}
	}
	return false
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rotateHostKey replaces the server's ed25519 host key, as a rebuilt host
// would have; restart the server to use it.
func (s *testSSHD) rotateHostKey() {
	s.t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "host_key_0"), pem.EncodeToMemory(block), 0o600); err != nil {
		s.t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(k.Public())
	if err != nil {
		s.t.Fatal(err)
	}
	s.hostKeys[0] = FormatKey(pub)
}

// requireRootSudo skips tests of the sudo path unless they can take it
// for real: as root, sudo -n needs no sudoers entry.
func requireRootSudo(t *testing.T, env *testEnv) {
	t.Helper()
	if env.user != "root" {
		t.Skip("needs root to run sudo -n without a sudoers entry")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo not installed: apt-get install sudo to test the sudo path")
	}
}
