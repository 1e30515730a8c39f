package docker

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"diffuser/cloud"
)

// testEnv is what container tests share: a provider on a fresh cluster
// name, the test's SSH key, and cleanup of everything of that cluster.
type testEnv struct {
	p       *Provider
	cluster string
	signer  ssh.Signer
}

// needDocker skips slow tests under -short, and every container test when
// the engine is unreachable or this is not root (loop devices need it).
func needDocker(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("container test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("container test: needs root for loop devices and debootstrap")
	}
}

// newTestEnv makes a provider with settings (a cty object; attributes may be
// left out) on a new cluster name and registers cleanup of that cluster:
// containers, network, loop devices and volume files, also when the test
// fails. The node image is ensured (built the first time, minutes).
func newTestEnv(t testing.TB, settings map[string]cty.Value) *testEnv {
	t.Helper()
	e := newTestEnvNoImage(t, settings)
	ictx, icancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer icancel()
	start := time.Now()
	tag, err := e.p.EnsureImage(ictx, NewBuildSummary(func(format string, args ...any) { e.p.env.Log("image: "+format, args...) }))
	if err != nil {
		t.Fatalf("ensure node image: %v", err)
	}
	t.Logf("node image %s ready after %s", tag, time.Since(start).Round(time.Millisecond))
	return e
}

// newTestEnvNoImage is newTestEnv without ensuring the node image.
func newTestEnvNoImage(t testing.TB, settings map[string]cty.Value) *testEnv {
	t.Helper()
	needDocker(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var sv cty.Value = cty.NullVal(cty.DynamicPseudoType)
	if len(settings) > 0 {
		sv = cty.ObjectVal(settings)
	}
	var logMu sync.Mutex
	env := cloud.Env{
		Keys:    cloud.Keys{PublicKey: string(ssh.MarshalAuthorizedKey(signer.PublicKey()))},
		WorkDir: t.TempDir(),
		Log: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			t.Logf(format, args...)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := New(ctx, sv, env)
	if err != nil {
		t.Skipf("container test: Docker Engine not usable: %v", err)
	}
	b := make([]byte, 3)
	rand.Read(b)
	e := &testEnv{p: p, cluster: "dt" + hex.EncodeToString(b), signer: signer}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := p.Cleanup(ctx, e.cluster); err != nil {
			t.Errorf("cleanup of cluster %s: %v", e.cluster, err)
		}
		p.Close()
	})
	return e
}

// spec is host index i of group in the test's cluster.
func (e *testEnv) spec(group string, i int, vols ...cloud.VolumeSpec) cloud.HostSpec {
	return cloud.HostSpec{
		Cluster: e.cluster, Group: group, Index: i, Count: i + 1,
		Name: group + "[" + strconv.Itoa(i) + "]", Hostname: group + "-" + strconv.Itoa(i),
		Volumes: vols,
	}
}

// sshHost is an SSH connection to a test host and the host key it showed.
type sshHost struct {
	c   *ssh.Client
	key ssh.PublicKey
}

// dialSSH connects as h.SSHUser with the test key, retrying while the host
// boots, until ctx ends.
func (e *testEnv) dialSSH(ctx context.Context, h cloud.Host) (*sshHost, error) {
	var hostKey ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User: h.SSHUser,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(e.signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			hostKey = key
			return nil
		},
		// The node image makes only an ed25519 host key; asking for
		// nothing else proves it.
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           3 * time.Second,
	}
	addr := net.JoinHostPort(h.SSHAddress, strconv.Itoa(h.SSHPort))
	var lastErr error
	for {
		c, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			return &sshHost{c: c, key: hostKey}, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ssh %s: %w (last error: %v)", addr, ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run runs cmd over s and returns its trimmed stdout; stderr is in the error.
func (s *sshHost) run(cmd string) (string, error) {
	sess, err := s.c.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	err = sess.Run(cmd)
	if err != nil {
		return strings.TrimSpace(out.String()), fmt.Errorf("%q: %w: %s", cmd, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// destroyAll destroys hosts (registered as cleanup by callers that launch).
func (e *testEnv) destroyAll(t testing.TB, specs []cloud.HostSpec, hosts []cloud.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, s := range specs {
		var h cloud.Host
		if i < len(hosts) {
			h = hosts[i]
		}
		if err := e.p.Destroy(ctx, s, h); err != nil {
			t.Errorf("destroy %s: %v", s.Name, err)
		}
	}
}
