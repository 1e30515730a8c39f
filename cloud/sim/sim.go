// Package sim is a simulated provider and transport: hosts that exist only
// in memory and run commands by drawing a duration (and maybe a failure)
// instead of executing them. The real engine, graph, state and progress run
// unchanged on top of it (tests, benchmarks, `--simulate`).
package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"diffuser/cloud"
	"diffuser/facts"
	"diffuser/runner"
	"diffuser/state"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Behavior decides what a simulated command does: how long it takes, its
// exit status and its stdout. It must be safe for concurrent use.
type Behavior func(host, cmd string) (d time.Duration, exit int, stdout string)

// Cloud is the simulated world: hosts by name, and every command each ran.
type Cloud struct {
	Behavior    Behavior
	LaunchDelay time.Duration
	// Profile, when it has a "launch" distribution, draws each launch's
	// duration (per host, reproducibly) instead of LaunchDelay.
	Profile Profile

	mu       sync.Mutex
	hosts    map[string]*simHost // by cluster/name
	byID     map[string]*simHost
	next     int
	launches int
	commands map[string][]string // by host name
	sessions map[string]int      // open sessions by host name
	// connected: provider ids with a connection; handshakes: in progress.
	connected  map[string]bool
	handshakes int
	open       int // sessions open on all hosts
	peak       Peaks
	facts      map[string]string // facts command output by host name (SetFacts)
	factsRuns  int
	deviceRuns int // facts commands asking for devices
	// imported: the cluster/name an Import claimed a machine for, which
	// UndoImport gives back.
	imported map[string]bool
}

// Peaks are the most of each thing at once the simulated world saw.
type Peaks struct {
	Handshakes      int // connections being made at once
	SessionsPerHost int // commands and uploads at once on one host
	Sessions        int // commands and uploads at once on all hosts
	Refused         int // sessions refused (over MaxSessions)
}

// Peaks returns the most at once seen so far.
func (c *Cloud) Peaks() Peaks {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

type simHost struct {
	id      string
	ip      string
	running bool
}

// New returns an empty simulated cloud.
func New() *Cloud {
	return &Cloud{hosts: map[string]*simHost{}, byID: map[string]*simHost{}, commands: map[string][]string{},
		sessions: map[string]int{}, connected: map[string]bool{}}
}

// Factory returns a cloud.Factory whose providers share this cloud.
func (c *Cloud) Factory() cloud.Factory { return factory{c} }

type factory struct{ c *Cloud }

func (f factory) Spec() hcldec.ObjectSpec {
	return hcldec.ObjectSpec{"image": &hcldec.AttrSpec{Name: "image", Type: cty.String}}
}

func (f factory) New(context.Context, cty.Value, cloud.Env) (cloud.Provider, error) {
	return provider(f), nil
}

type provider factory

func (p provider) Name() string { return "sim" }

func key(spec cloud.HostSpec) string { return spec.Cluster + "/" + spec.Name }

func (p provider) Launch(ctx context.Context, spec cloud.HostSpec) (cloud.Host, error) {
	delay := p.c.LaunchDelay
	if d, fail := p.c.Profile.Draw("launch", key(spec)); d > 0 || fail {
		delay = d
		if fail {
			return cloud.Host{}, fmt.Errorf("simulated launch failure of %s", spec.Name)
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return cloud.Host{}, ctx.Err()
		}
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	h := p.c.hosts[key(spec)]
	if h == nil {
		p.c.next++
		p.c.launches++
		h = &simHost{id: fmt.Sprintf("sim-%06d", p.c.next), ip: simIP(spec.Name)}
		p.c.hosts[key(spec)] = h
		p.c.byID[h.id] = h
	}
	h.running = true
	out := cloud.Host{ProviderID: h.id, PrivateIP: h.ip, PublicIP: h.ip, SSHAddress: spec.Name, SSHPort: 22, SSHUser: "root",
		Volumes: map[string]cloud.Volume{}}
	for i, v := range spec.Volumes {
		out.Volumes[v.Name] = cloud.Volume{Device: fmt.Sprintf("/dev/sim%c", 'b'+i), SizeGB: v.SizeGB}
	}
	return out, nil
}

// Status finds a recorded host by its id, as clouds do: a host renamed in
// state (state mv) or imported is still the same machine.
func (p provider) Status(_ context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Status, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	sh := p.c.byID[h.ProviderID]
	switch {
	case sh == nil:
		return cloud.Missing, nil
	case !sh.running:
		return cloud.Stopped, nil
	}
	return cloud.Running, nil
}

func (p provider) Start(_ context.Context, spec cloud.HostSpec, h cloud.Host) (cloud.Host, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if sh := p.c.byID[h.ProviderID]; sh != nil {
		sh.running = true
	}
	return h, nil
}

// Destroy removes the recorded machine, or, for a host recorded without an
// id (a launch that did not finish), whatever runs under its name.
func (p provider) Destroy(_ context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	id := h.ProviderID
	if id == "" {
		if sh := p.c.hosts[key(spec)]; sh != nil {
			id = sh.id
		}
	}
	p.c.removeID(id)
	return nil
}

// removeID deletes the machine id under every name. Needs mu.
func (c *Cloud) removeID(id string) {
	delete(c.byID, id)
	for k, sh := range c.hosts {
		if sh.id == id {
			delete(c.hosts, k)
		}
	}
}

var (
	_ cloud.Importer     = provider{}
	_ cloud.ImportUndoer = provider{}
)

// Import takes the machine id into the cluster as spec's host. In a
// simulation every id of the form sim-NNNNNN names a machine (one that
// does not exist yet is made, so a separate --simulate process can import
// too); any other id names none.
func (p provider) Import(_ context.Context, spec cloud.HostSpec, id string) (cloud.Host, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	sh := p.c.byID[id]
	if sh == nil {
		var n int
		if _, err := fmt.Sscanf(id, "sim-%d", &n); err != nil || fmt.Sprintf("sim-%06d", n) != id {
			return cloud.Host{}, fmt.Errorf("no simulated machine %q (simulated ids look like sim-000042)", id)
		}
		sh = &simHost{id: id, ip: simIP(id), running: true}
		p.c.byID[id] = sh
		p.c.next = max(p.c.next, n)
	}
	if !sh.running {
		return cloud.Host{}, fmt.Errorf("simulated machine %s is stopped: start it first", id)
	}
	if other := p.c.hosts[key(spec)]; other != nil && other != sh {
		return cloud.Host{}, fmt.Errorf("cluster %s already has a machine (%s) for %s", spec.Cluster, other.id, spec.Name)
	}
	if p.c.hosts[key(spec)] == nil {
		if p.c.imported == nil {
			p.c.imported = map[string]bool{}
		}
		p.c.imported[key(spec)] = true
	}
	p.c.hosts[key(spec)] = sh
	out := cloud.Host{ProviderID: sh.id, PrivateIP: sh.ip, PublicIP: sh.ip, SSHAddress: spec.Name, SSHPort: 22, SSHUser: "root",
		Volumes: map[string]cloud.Volume{}}
	for i, v := range spec.Volumes {
		out.Volumes[v.Name] = cloud.Volume{Device: fmt.Sprintf("/dev/sim%c", 'b'+i), SizeGB: v.SizeGB}
	}
	return out, nil
}

// UndoImport gives back the cluster/name an Import claimed the machine
// for, as aws takes back the tags it set.
func (p provider) UndoImport(_ context.Context, spec cloud.HostSpec, h cloud.Host) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	k := key(spec)
	if p.c.imported[k] && p.c.hosts[k] != nil && p.c.hosts[k].id == h.ProviderID {
		delete(p.c.hosts, k)
	}
	delete(p.c.imported, k)
	return nil
}

// Cleanup removes every host still tagged with the cluster, as the real
// providers do: hosts a killed launch made but state never recorded.
func (p provider) Cleanup(_ context.Context, cluster string) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	for k, sh := range p.c.hosts {
		if strings.HasPrefix(k, cluster+"/") {
			p.c.removeID(sh.id)
		}
	}
	return nil
}

// Remove deletes a host behind diffuser's back (as if someone removed it).
func (c *Cloud) Remove(cluster, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.hosts[cluster+"/"+name]; h != nil {
		c.removeID(h.id)
	}
}

// Stop marks a host stopped behind diffuser's back.
func (c *Cloud) Stop(cluster, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.hosts[cluster+"/"+name]; h != nil {
		h.running = false
	}
}

// Hosts is the number of hosts that exist.
func (c *Cloud) Hosts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hosts)
}

// Launches is how many hosts were ever created (adoptions do not count).
func (c *Cloud) Launches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.launches
}

// Commands returns the commands run on a host, in order.
func (c *Cloud) Commands(host string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.commands[host]...)
}

// CountMatching counts commands containing substr on every host.
func (c *Cloud) CountMatching(substr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cmds := range c.commands {
		for _, cmd := range cmds {
			if strings.Contains(cmd, substr) {
				n++
			}
		}
	}
	return n
}

// Runner is a runner.Runner on a simulated host.
func (c *Cloud) Runner(host string) runner.Runner { return hostRunner{c: c, host: host} }

// hostRunner runs commands on one simulated host: it records them and answers
// with the Behavior.
type hostRunner struct {
	c    *Cloud
	host string
}

// open takes one of the host's sessions, refusing one over MaxSessions
// as sshd does; the returned func gives it back.
func (r hostRunner) open(what string) (func(), error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.commands[r.host] = append(r.c.commands[r.host], what)
	n := r.c.sessions[r.host] + 1
	if max := r.c.Profile.Connect.MaxSessions; max > 0 && n > max {
		r.c.peak.Refused++
		return nil, fmt.Errorf("host %s: opening ssh session: ssh: rejected: administratively prohibited (open failed): %d sessions open, sshd's MaxSessions is %d", r.host, n-1, max)
	}
	r.c.sessions[r.host] = n
	r.c.open++
	r.c.peak.SessionsPerHost = max(r.c.peak.SessionsPerHost, n)
	r.c.peak.Sessions = max(r.c.peak.Sessions, r.c.open)
	return func() {
		r.c.mu.Lock()
		r.c.sessions[r.host]--
		r.c.open--
		r.c.mu.Unlock()
	}, nil
}

func (r hostRunner) Run(ctx context.Context, cmd string, opt runner.Options) (runner.Result, error) {
	if cmd == facts.Command || cmd == facts.StableCommand {
		return r.answerFacts(opt, cmd == facts.Command)
	}
	closeSession, err := r.open(cmd)
	if err != nil {
		return runner.Result{Exit: -1}, err
	}
	defer closeSession()
	var d time.Duration
	exit, out := 0, ""
	if r.c.Behavior != nil {
		d, exit, out = r.c.Behavior(r.host, cmd)
	}
	if h, ok := ctx.Value(holdKey{}).(*hold); ok {
		d, h.held = max(d, h.d), true
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return runner.Result{Exit: -1}, ctx.Err()
		}
	}
	if opt.Output != nil && out != "" {
		_, _ = io.WriteString(opt.Output, out)
	}
	return runner.Result{Exit: exit, Stdout: out}, nil
}

func (r hostRunner) Upload(_ context.Context, rd io.Reader, path string, _ os.FileMode) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	closeSession, err := r.open(fmt.Sprintf("upload %s (%d bytes)", path, len(b)))
	if err != nil {
		return err
	}
	closeSession()
	return nil
}

// Connector hands out runners for recorded hosts, pinning a fake host key
// on first use as SSH would.
func (c *Cloud) Connector() Connector { return Connector{c} }

// Connector implements the engine's Connector on the simulated cloud.
type Connector struct{ c *Cloud }

// Runner returns the host's runner; a host that no longer exists fails to connect.
func (k Connector) Runner(ctx context.Context, h state.Host, onHostKey func(int, string) error) (runner.Runner, error) {
	k.c.mu.Lock()
	sh := k.c.byID[h.ProviderID]
	found := sh != nil && sh.running
	k.c.mu.Unlock()
	if !found {
		return nil, fmt.Errorf("connecting to %s: host unreachable", h.Name)
	}
	if err := k.c.handshake(ctx, h); err != nil {
		return nil, err
	}
	if h.SSH.HostKey == "" && onHostKey != nil {
		if err := onHostKey(0, "ssh-ed25519 SIM"+h.ProviderID); err != nil {
			return nil, err
		}
	}
	return k.c.Runner(h.Name), nil
}

// Adopt makes a recorded host exist in this (new) simulated cloud, so a
// later process sees what an earlier one launched.
func (c *Cloud) Adopt(cluster, name, id, ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := &simHost{id: id, ip: ip, running: true}
	c.hosts[cluster+"/"+name] = h
	c.byID[id] = h
	var n int
	if _, err := fmt.Sscanf(id, "sim-%d", &n); err == nil && n > c.next {
		c.next = n
	}
}

// simIP derives a host's address from its name, so simulated runs print
// the same addresses whatever order hosts launch in (golden files).
func simIP(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	x := h.Sum32() & 0x3fffff // 10.64.0.0/10
	return fmt.Sprintf("10.%d.%d.%d", 64+(x>>16), (x>>8)&0xff, x&0xff)
}

// handshake costs what the profile's ConnectModel says the first time a
// host (by provider id) is reached; later calls reuse the connection.
func (c *Cloud) handshake(ctx context.Context, h state.Host) error {
	m := c.Profile.Connect
	if m.Handshake <= 0 {
		return nil
	}
	c.mu.Lock()
	if c.connected[h.ProviderID] {
		c.mu.Unlock()
		return nil
	}
	c.handshakes++
	k := c.handshakes
	c.peak.Handshakes = max(c.peak.Handshakes, k)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.handshakes--
		c.mu.Unlock()
	}()
	cores := m.Cores
	if cores <= 0 {
		cores = 2
	}
	d := c.Profile.scaled(m.Handshake)
	if k > cores {
		cpu := c.Profile.scaled(m.CPU)
		d += time.Duration(float64(cpu) * (float64(k)/float64(cores) - 1))
	}
	if to := c.Profile.scaled(m.Timeout); to > 0 && d > to {
		if err := sleepCtx(ctx, to); err != nil {
			return err
		}
		return fmt.Errorf("connecting to %s: ssh handshake: timed out after %s (%d handshakes at once on %d cores)", h.Name, to, k, cores)
	}
	if err := sleepCtx(ctx, d); err != nil {
		return err
	}
	c.mu.Lock()
	c.connected[h.ProviderID] = true
	c.mu.Unlock()
	return nil
}
