package workspace

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"diffuser/cloud"
	"diffuser/cloud/multi"
	"diffuser/cloud/static"
	"diffuser/engine"
	"diffuser/facts"
	"diffuser/lang"
	"diffuser/remote"
	"diffuser/runner"
	"diffuser/state"
	"diffuser/steps"

	"github.com/zclconf/go-cty/cty"
)

// SSHConnector hands out SSH runners, one pooled connection per host. A
// replaced host (new provider id) gets a fresh client, so the old pinned
// key is not applied to the new machine.
//
// A pooled client calls the onHostKey of the first Connect only. When that
// caller did not record the key (plan's refresh), a later caller that
// records (apply) is handed the key the pool accepted, so a host with no
// pinned key in state gets one on the first apply that reaches it.
type SSHConnector struct {
	keyFile  string
	retryFor time.Duration // while a host diffuser launched boots
	// staticRetryFor is the retry window for a static host: a machine
	// that exists already is not waited for as a booting one is (an
	// address that does not answer failed only after 3 silent minutes).
	staticRetryFor time.Duration
	// maxSessions caps sessions per connection (0 = remote's default);
	// connections made before it was set keep theirs.
	maxSessions int
	// workspace names the workspace in a changed host key's message.
	workspace string

	mu      sync.Mutex
	pools   map[string]*remote.Pool // by provider id
	learned map[string]string       // learnedKey(provider id, hop) -> host key accepted on first use
}

var _ engine.Connector = (*SSHConnector)(nil)

// StaticRetryFor is how long a static host's SSH connect is retried (it
// may be rebooting) before the step fails; hosts of the docker and aws
// providers get 3 minutes, for booting.
const StaticRetryFor = 30 * time.Second

// NewSSHConnector connects with the workspace key keyFile (or a host's own).
func NewSSHConnector(keyFile string) *SSHConnector {
	return &SSHConnector{keyFile: keyFile, retryFor: 3 * time.Minute, staticRetryFor: StaticRetryFor,
		pools: map[string]*remote.Pool{}, learned: map[string]string{}}
}

// SetMaxSessions makes connections opened from now on run at most n
// sessions at once (0 = remote.DefaultMaxSessions). Apply sets it to its
// -max-sessions-per-host, which the engine enforces in front of it.
func (c *SSHConnector) SetMaxSessions(n int) {
	c.mu.Lock()
	c.maxSessions = n
	c.mu.Unlock()
}

// Close closes every pooled connection.
func (c *SSHConnector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pools {
		_ = p.Close()
	}
}

// config builds the SSH config for a recorded host. Keys are offered in
// order: the site's key_file, the usable IdentityFile entries of the ssh
// config recorded for the host, then the workspace key when the site names
// no key_file; ssh-agent's keys after them when SSH_AUTH_SOCK is set. Jump
// hosts get the same keys after their own IdentityFile entries, and the
// same trust policy as the host: the key recorded for that hop, else trust
// on first use reported through onHostKey with the hop's number.
func (c *SSHConnector) config(h state.Host, onHostKey func(hop int, key string) error) remote.Config {
	key := h.SSH.KeyFile
	if key == "" {
		key = h.Attrs["ssh_key_file"]
	}
	k := keyOrder{explicit: key != "", base: c.keyFile}
	if k.explicit {
		k.base = expandHome(key)
	}
	// Steps act as root: a non-root login (admin on Debian's cloud images,
	// ubuntu on Ubuntu's) goes through sudo unless the site says sudo = false.
	sudo := h.SSH.User != "root" && h.Attrs["sudo"] != "false"
	agent := os.Getenv("SSH_AUTH_SOCK") != ""
	retry := c.retryFor
	if lang.ProviderBase(h.Provider) == "static" {
		retry = min(retry, c.staticRetryFor)
	}
	cfg := remote.Config{Name: h.Name, Address: h.SSH.Address, Port: h.SSH.Port, User: h.SSH.User,
		KeyFiles: k.files(h.SSH.IdentityFiles), UseAgent: agent, HostKey: h.SSH.HostKey, OnHostKey: hopRecorder(onHostKey, 0),
		RetryFor: retry, Sudo: sudo, MaxSessions: c.sessionsCap(), Workspace: c.workspace}
	switch j := h.Attrs["ssh_jump"]; {
	case h.SSH.Jump != nil:
		cfg.Jump = c.jumpConfig(h.SSH.Jump, 1, k, agent, retry, onHostKey)
	case j != "":
		// Recorded before jump chains were: one hop, parsed here. Its key
		// has nowhere to be pinned (hop 1 is not in state): ConnectHost
		// ignores it.
		if user, host, port, err := static.ParseAddress(j, h.SSH.User, 22); err == nil {
			cfg.Jump = c.jumpConfig(&state.SSH{Address: host, Port: port, User: user}, 1, k, agent, retry, onHostKey)
		}
	}
	return cfg
}

func (c *SSHConnector) sessionsCap() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxSessions
}

func hopRecorder(onHostKey func(int, string) error, hop int) func(string) error {
	if onHostKey == nil {
		return nil
	}
	return func(key string) error { return onHostKey(hop, key) }
}

// JumpName is how a recorded jump host is named: its address, with the
// port when it is not 22. `diffuser state forget-hostkey --jump` takes it.
func JumpName(j *state.SSH) string {
	if j.Port != 0 && j.Port != 22 {
		return net.JoinHostPort(j.Address, strconv.Itoa(j.Port))
	}
	return j.Address
}

// jumpConfig is the SSH config of a recorded jump host (hop number hop)
// and the ones before it.
func (c *SSHConnector) jumpConfig(j *state.SSH, hop int, k keyOrder, agent bool, retry time.Duration, onHostKey func(int, string) error) *remote.Config {
	jc := &remote.Config{Name: "jump " + JumpName(j), JumpAddress: JumpName(j), Address: j.Address, Port: j.Port, User: j.User,
		KeyFiles: k.files(j.IdentityFiles), UseAgent: agent, RetryFor: retry,
		HostKey: j.HostKey, OnHostKey: hopRecorder(onHostKey, hop), Workspace: c.workspace}
	if j.Jump != nil {
		jc.Jump = c.jumpConfig(j.Jump, hop+1, k, agent, retry, onHostKey)
	}
	return jc
}

// keyOrder orders the keys offered to a host.
type keyOrder struct {
	explicit bool   // the site names a key_file: it is base
	base     string // the site's key_file, else the workspace key
}

// files is the site's key_file, then the identity files that can be used
// without a passphrase (ssh skips the others; an agent may hold them),
// then the workspace key when the site names no key_file.
func (k keyOrder) files(identities []string) []string {
	var out []string
	if k.explicit {
		out = append(out, k.base)
	}
	for _, f := range identities {
		if f != k.base && remote.UsableKeyFile(f) == nil {
			out = append(out, f)
		}
	}
	if !k.explicit {
		out = append(out, k.base)
	}
	return out
}

// pool is the connection pool of the machine with provider id id.
func (c *SSHConnector) pool(id string) *remote.Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pools[id]
	if p == nil {
		p = remote.NewPool()
		c.pools[id] = p
	}
	return p
}

func (c *SSHConnector) client(ctx context.Context, h state.Host, onHostKey func(int, string) error) (*remote.Client, error) {
	p := c.pool(h.ProviderID)
	var firstUse sync.Map // hop -> true when this call met that hop's key first
	cfg := c.config(h, func(hop int, key string) error {
		firstUse.Store(hop, true)
		c.learn(h.ProviderID, hop, key)
		if onHostKey == nil {
			return nil
		}
		return onHostKey(hop, key)
	})
	cl, err := p.Connect(ctx, cfg)
	if err != nil {
		return nil, authHint(err, h, cfg)
	}
	if onHostKey == nil {
		return cl, nil
	}
	// Keys the pool accepted for an earlier caller that recorded nothing.
	hop, s := 0, &h.SSH
	for ; s != nil; hop, s = hop+1, s.Jump {
		if _, met := firstUse.Load(hop); met || s.HostKey != "" {
			continue
		}
		c.mu.Lock()
		key := c.learned[learnedKey(h.ProviderID, hop)]
		c.mu.Unlock()
		if key != "" {
			if err := onHostKey(hop, key); err != nil {
				return nil, fmt.Errorf("recording the host key of %s: %w", h.Name, err)
			}
		}
	}
	return cl, nil
}

// authHint adds to a static host that does not answer what to check, and
// to an SSH login the host refused which keys were offered
// and how to make one of them work: the bare "unable to authenticate,
// attempted methods [none publickey]" said neither, and a static host
// refuses the workspace key until someone authorizes it.
func authHint(err error, h state.Host, cfg remote.Config) error {
	if strings.Contains(err.Error(), "gave up after") && lang.ProviderBase(h.Provider) == "static" {
		return fmt.Errorf("%w: a static machine is not waited for as a booting one is (%s); check that %s answers SSH from here (ssh -p %d %s@%s) and the address in the site file",
			err, cfg.RetryFor, cfg.Address, cfg.Port, cfg.User, cfg.Address)
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		return err
	}
	keys := append([]string(nil), cfg.KeyFiles...)
	if cfg.UseAgent {
		keys = append(keys, "ssh-agent's keys")
	}
	if len(cfg.KeyFiles) == 0 {
		return fmt.Errorf("%w (offered: %s): give the site file a key_file the machine accepts", err, strings.Join(keys, ", "))
	}
	main := cfg.KeyFiles[len(cfg.KeyFiles)-1] // the workspace key
	if h.SSH.KeyFile != "" || h.Attrs["ssh_key_file"] != "" {
		main = cfg.KeyFiles[0] // the site's key_file
	}
	// A line to paste into a shell: the key's path is the site's key_file
	// or under --data-dir, either of which may hold a space or a quote.
	fix := fmt.Sprintf("authorize one of them for %s on the machine (ssh-copy-id -i %s %s)", cfg.User, remote.ShellQuote(main+".pub"), remote.ShellQuote(cfg.User+"@"+cfg.Address))
	if lang.ProviderBase(h.Provider) == "static" {
		fix += ", or set key_file in the site file's static provider block to a key it accepts"
	}
	return fmt.Errorf("%w (offered: %s): %s", err, strings.Join(keys, ", "), fix)
}

func learnedKey(providerID string, hop int) string { return providerID + "\x00" + strconv.Itoa(hop) }

// Runner connects (retrying while the host boots) and returns the client.
func (c *SSHConnector) Runner(ctx context.Context, h state.Host, onHostKey func(int, string) error) (runner.Runner, error) {
	cl, err := c.client(ctx, h, onHostKey)
	if err != nil {
		return nil, err // not a nil *remote.Client in a non-nil interface
	}
	return cl, nil
}

// HostKey is the host key the machine answering where h says (its
// address and port, through its jump hosts) shows, read in the handshake
// without logging in to it (remote.Pool.HostKey). One attempt: a machine
// that does not answer is an error, not waited for.
// A jump host's key accepted on first use on the way is kept as a
// connection's is, for the apply that records it.
func (c *SSHConnector) HostKey(ctx context.Context, h state.Host) (string, error) {
	return c.pool(h.ProviderID).HostKey(ctx, c.config(h, func(hop int, key string) error {
		c.learn(h.ProviderID, hop, key)
		return nil
	}))
}

// learn keeps the host key of hop of the machine with provider id id,
// accepted on first use, for a later caller that records it.
func (c *SSHConnector) learn(id string, hop int, key string) {
	c.mu.Lock()
	c.learned[learnedKey(id, hop)] = key
	c.mu.Unlock()
}

// hostKeyReader reads the host key a machine answers with (SSHConnector).
type hostKeyReader interface {
	HostKey(ctx context.Context, h state.Host) (string, error)
}

// refresher answers plan -refresh from the provider and the hosts.
type refresher struct {
	provider cloud.Provider
	conn     engine.Connector
}

var _ engine.Refresher = refresher{}

func (r refresher) HostStatus(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Status, error) {
	return r.provider.Status(ctx, spec, engine.CloudHost(h))
}

var _ engine.ReachRefresher = refresher{}

// Reaches says whether the provider of key provider ("" for the
// workspace's) is a cloud.Reacher.
func (r refresher) Reaches(provider string) bool {
	p := r.provider
	if m, ok := p.(*multi.Providers); ok {
		var err error
		if p, err = m.Get(provider); err != nil {
			return false
		}
	}
	_, ok := p.(cloud.Reacher)
	return ok
}

// Reach is how the provider reaches h now (cloud.Reacher), else h as
// recorded.
func (r refresher) Reach(ctx context.Context, spec cloud.HostSpec, h *state.Host) (cloud.Host, error) {
	if rp, ok := r.provider.(cloud.Reacher); ok {
		return rp.Reach(ctx, spec, engine.CloudHost(h))
	}
	return engine.CloudHost(h), nil
}

var _ engine.Identifier = refresher{}

// Identify reads the host key answering where now says (a static host the
// site file names at another address, port or user) and compares it with
// the key state pins for old: the same machine, or another one, or none.
func (r refresher) Identify(ctx context.Context, old, now *state.Host) (bool, string) {
	at := now.SSH.Target()
	if hops := now.SSH.Hops(); len(hops) > 0 {
		at += " through " + strings.Join(hops, ",")
	}
	kr, ok := r.conn.(hostKeyReader)
	if !ok {
		return false, fmt.Sprintf("named at %s now, and no host key can be read here to tell whether the machine answering there is the same", at)
	}
	if old.SSH.HostKey == "" {
		return false, fmt.Sprintf("named at %s now, and state pins no host key to tell whether the machine answering there is the same", at)
	}
	pinned, err := remote.Fingerprint(old.SSH.HostKey)
	if err != nil {
		return false, fmt.Sprintf("named at %s now, and the host key state pins does not parse (%v)", at, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	key, err := kr.HostKey(cctx, *now)
	if err != nil {
		return false, err.Error()
	}
	offered, err := remote.Fingerprint(key)
	if err != nil {
		return false, fmt.Sprintf("the machine answering at %s shows a host key that does not parse (%v)", at, err)
	}
	if offered == pinned {
		return true, fmt.Sprintf("the machine with the pinned host key %s answers at %s", pinned, at)
	}
	return false, fmt.Sprintf("another machine answers at %s (host key %s, state pins %s)", at, offered, pinned)
}

func (r refresher) Check(ctx context.Context, h *state.Host, kind steps.Kind, args cty.Value) (steps.Check, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run, err := engine.ConnectHost(cctx, r.conn, h, nil) // plan records nothing; apply records a key first seen here
	if err != nil {
		return steps.Check{}, err
	}
	return kind.Check(cctx, run, args)
}

var _ engine.FactRefresher = refresher{}

// Facts asks a recorded host for its facts (plan -refresh), its devices
// only when asked to.
func (r refresher) Facts(ctx context.Context, h *state.Host, devices bool) (facts.Facts, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run, err := engine.ConnectHost(cctx, r.conn, h, nil)
	if err != nil {
		return facts.Facts{}, err
	}
	if !devices {
		return facts.GatherStable(cctx, run)
	}
	return facts.Gather(cctx, run)
}

// storeRecorder records engine changes in the state journal.
type storeRecorder struct{ s Backend }

func (r storeRecorder) PutHost(h state.Host) error               { return r.s.Record(state.PutHost(&h)) }
func (r storeRecorder) DeleteHost(name string) error             { return r.s.Record(state.DeleteHost(name)) }
func (r storeRecorder) DeleteInstance(a string) error            { return r.s.Record(state.DeleteInstance(a)) }
func (r storeRecorder) SetOutputs(map[string]state.Output) error { return nil } // saved by the final compaction
func (r storeRecorder) PutInstance(addr string, i state.Instance) error {
	return r.s.Record(state.PutInstance(addr, &i))
}

// expandHome turns a leading ~/ into the user's home directory, as a shell
// would for the key_file paths people write in site files.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
