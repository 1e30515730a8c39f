package remote

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"diffuser/remote/sshdtest"
)

// The tests run real OpenSSH servers (remote/sshdtest); these are the short
// names the tests of this package use for them.

type sshdOptions = sshdtest.Options

// testSSHD is one sshd process; stop and start it again to simulate a
// reboot (same port and host keys).
type testSSHD struct {
	*sshdtest.Server
	port     int
	hostKeys []string // shares the server's array: a rotated key shows here
	log      *sshdtest.LockedBuffer
}

// testEnv is what all servers of one test share: the login user and the
// client key.
type testEnv struct {
	*sshdtest.Env
	user    string
	keyPath string
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	e := sshdtest.NewEnv(t)
	return &testEnv{Env: e, user: e.User, keyPath: e.KeyPath}
}

func wrap(s *sshdtest.Server) *testSSHD {
	return &testSSHD{Server: s, port: s.Port, hostKeys: s.HostKeys, log: s.Log}
}

// newSSHD configures and starts a server on a free port.
func (e *testEnv) newSSHD(t testing.TB, opt sshdOptions) *testSSHD { return wrap(e.NewServer(t, opt)) }

// configureSSHD writes a server's files but does not start it.
func (e *testEnv) configureSSHD(t testing.TB, opt sshdOptions) *testSSHD {
	return wrap(e.Configure(t, opt))
}

func (s *testSSHD) start()                        { s.Start() }
func (s *testSSHD) stop()                         { s.Stop() }
func (s *testSSHD) signalTree(sig syscall.Signal) { s.SignalTree(sig) }
func (s *testSSHD) rotateHostKey()                { s.RotateHostKey() }
func (s *testSSHD) addr() string                  { return s.Addr() }
func processWithArg(arg string) bool              { return sshdtest.ProcessWithArg(arg) }
func freePort(t testing.TB) int                   { return sshdtest.FreePort(t) }
func requireRootSudo(t *testing.T, env *testEnv)  { sshdtest.RequireRootSudo(t, env.Env) }

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

// jumped starts a jump host (logging at DEBUG1, so that its log shows
// what it forwards) and a target, and returns the target's config
// reaching it through the jump host, named "bastion".
func (e *testEnv) jumped(t *testing.T) (jump, target *testSSHD, cfg Config) {
	t.Helper()
	jump = e.newSSHD(t, sshdOptions{Extra: "LogLevel DEBUG1"})
	target = e.newSSHD(t, sshdOptions{})
	cfg = e.config(target)
	jcfg := e.config(jump)
	jcfg.Name = "bastion"
	cfg.Jump = &jcfg
	return jump, target, cfg
}
