// Package sshdtest runs real OpenSSH servers for tests: /usr/sbin/sshd on
// 127.0.0.1, with its own host keys, authorized_keys and config in a
// temporary directory. Tests that need one skip when sshd is absent. It is
// imported by tests only (remote's and the static provider's end-to-end
// ones) and must not import remote, whose own tests use it.
package sshdtest

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

const sshdPath = "/usr/sbin/sshd"

// Options change a test server.
type Options struct {
	RSAHostKey bool   // also an RSA host key (listed after ed25519)
	Extra      string // more sshd_config lines
	// Also are more addresses it listens on, at its port (127.0.0.2: the
	// same machine reached at another loopback address).
	Also []string
}

// Server is one sshd process; stop and start it again to simulate a
// reboot (same port and host keys).
type Server struct {
	t        testing.TB
	dir      string
	Port     int
	HostKeys []string // authorized_keys lines, ed25519 first
	Log      *LockedBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	// stopped are the processes of the tree sent SIGSTOP and not SIGCONT
	// since: one whose parent exits meanwhile leaves the tree, stopped, and
	// would stay so for good unless Stop kills it by this record.
	stopped map[proc]bool
}

// proc is a process told apart from a later one with the same pid by its
// start time (field 22 of /proc/PID/stat).
type proc struct {
	pid   int
	start string
}

// procOf returns pid's proc, or false when it is gone.
func procOf(pid int) (proc, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return proc{}, false
	}
	f := strings.Fields(string(stat[i+1:])) // state is f[0]: field 3
	if len(f) < 20 {
		return proc{}, false
	}
	return proc{pid: pid, start: f[19]}, true
}

// signal sends sig to p if p is still the process it was.
func (p proc) signal(sig syscall.Signal) {
	if now, ok := procOf(p.pid); ok && now == p {
		_ = syscall.Kill(p.pid, sig)
	}
}

// treeLocked lists the server and its descendants as procs. Needs s.mu.
func (s *Server) treeLocked(pid int) []proc {
	var out []proc
	for _, p := range append([]int{pid}, Descendants(pid)...) {
		if pr, ok := procOf(p); ok {
			out = append(out, pr)
		}
	}
	return out
}

// stopLocked sends SIGSTOP to the tree and records whom. Needs s.mu.
func (s *Server) stopLocked(pid int) {
	if s.stopped == nil {
		s.stopped = map[proc]bool{}
	}
	for _, p := range s.treeLocked(pid) {
		s.stopped[p] = true
		p.signal(syscall.SIGSTOP)
	}
}

// Env is what all servers of one test share: the login user and the
// client key.
type Env struct {
	User     string
	KeyPath  string
	AuthKey  string // authorized_keys line
	AuthFile string
}

func RequireSSHD(t testing.TB) {
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

func NewEnv(t testing.TB) *Env {
	t.Helper()
	RequireSSHD(t)
	dir := t.TempDir()
	keyPath, line, err := generateKey(filepath.Join(dir, "client"))
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Env{User: CurrentUser(t), KeyPath: keyPath, AuthKey: line, AuthFile: auth}
}

func CurrentUser(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatalf("id -un: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// NewServer configures and starts a server on a free port.
func (e *Env) NewServer(t testing.TB, opt Options) *Server {
	t.Helper()
	s := e.Configure(t, opt)
	s.Start()
	return s
}

// Configure writes a server's files but does not start it.
func (e *Env) Configure(t testing.TB, opt Options) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{t: t, dir: dir, Port: FreePort(t), Log: &LockedBuffer{}}
	keys := []crypto.Signer{}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, edKey)
	if opt.RSAHostKey {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rsaKey)
	}
	// sshd takes the first value of a keyword: Extra lines go first.
	var conf strings.Builder
	fmt.Fprintf(&conf, "%s\nListenAddress 127.0.0.1:%d\n", opt.Extra, s.Port)
	for _, a := range opt.Also {
		fmt.Fprintf(&conf, "ListenAddress %s\n", net.JoinHostPort(a, strconv.Itoa(s.Port)))
	}
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
		s.HostKeys = append(s.HostKeys, formatKey(pub))
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
`, e.AuthFile, filepath.Join(dir, "sshd.pid"), sftpServer)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd on port %d logged:\n%s", s.Port, s.Log.String())
		}
	})
	return s
}

func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("sshd already running")
	}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", filepath.Join(s.dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
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
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-exited:
			s.t.Fatalf("sshd exited at start:\n%s", s.Log.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sshd did not listen on %s: %v\n%s", s.Addr(), err, s.Log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.exited = exited
}

// stop kills the server and every process it started (connections and
// their sessions run in their own sessions, so not in its process group),
// as a host that loses power would.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	// Freeze the tree so nothing forks while it is listed, then kill it,
	// and whatever was stopped and has left it since (a session's shell
	// whose sshd exited on its own meanwhile: it would stay stopped).
	s.stopLocked(pid)
	for _, p := range s.treeLocked(pid) {
		s.stopped[p] = true
	}
	for p := range s.stopped {
		p.signal(syscall.SIGKILL)
	}
	s.stopped = nil
	<-s.exited
	s.cmd = nil
}

// SignalTree sends sig to the server and all its Descendants. SIGSTOP
// records whom it stopped: SIGCONT and Stop reach them even once they
// have left the tree.
func (s *Server) SignalTree(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pid := s.cmd.Process.Pid
	switch sig {
	case syscall.SIGSTOP:
		s.stopLocked(pid)
		return
	case syscall.SIGCONT:
		// Also those stopped that left the tree meanwhile.
		for p := range s.stopped {
			p.signal(sig)
		}
		s.stopped = nil
	}
	for _, p := range s.treeLocked(pid) {
		p.signal(sig)
	}
}

func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Descendants lists the processes below pid, from /proc.
func Descendants(pid int) []int {
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

// ProcessWithArg reports whether a process has arg among its arguments.
func ProcessWithArg(arg string) bool {
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

func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Listen moves the server to port, as an operator moving sshd to
// another port would: same host keys, same authorized keys. Stop the
// server first; Start listens on the new port.
func (s *Server) Listen(port int) {
	s.t.Helper()
	p := filepath.Join(s.dir, "sshd_config")
	b, err := os.ReadFile(p)
	if err != nil {
		s.t.Fatal(err)
	}
	old := fmt.Sprintf("ListenAddress 127.0.0.1:%d\n", s.Port)
	if !bytes.Contains(b, []byte(old)) {
		s.t.Fatalf("%s has no %q", p, old)
	}
	b = bytes.Replace(b, []byte(old), []byte(fmt.Sprintf("ListenAddress 127.0.0.1:%d\n", port)), 1)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.Port = port
}

// RotateHostKey replaces the server's ed25519 host key, as a rebuilt host
// would have; restart the server to use it.
func (s *Server) RotateHostKey() {
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
	s.HostKeys[0] = formatKey(pub)
}

// generateKey writes an unencrypted ed25519 client key to dir/id_ed25519
// and returns its path and authorized_keys line.
func generateKey(dir string) (string, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return "", "", err
	}
	p := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", "", err
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return "", "", err
	}
	return p, formatKey(pub), nil
}

// formatKey is a public key in authorized_keys format, no newline.
func formatKey(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }

// RequireRootSudo skips tests of the sudo path unless they can take it for
// real: as root, sudo -n needs no sudoers entry.
func RequireRootSudo(t *testing.T, env *Env) {
	t.Helper()
	if env.User != "root" {
		t.Skip("needs root to run sudo -n without a sudoers entry")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo not installed: apt-get install sudo to test the sudo path")
	}
}
