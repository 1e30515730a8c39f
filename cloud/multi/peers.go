package multi

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"diffuser/cloud"
)

// peerBook is the cluster's hosts that other providers' firewalls admit:
// by host name, the peer (its provider key and address). A provider's
// firewall admits every peer of another key. Filled from state when the
// workspace opens (Peers), then kept current by Launch, Start and Destroy,
// each of which tells every firewall of another key before it returns:
// a host's steps run only after its launch returned, so by then the
// firewalls it needs admit it.
type peerBook struct {
	mu     sync.Mutex
	peers  map[string]cloud.Peer
	ports  []cloud.PortRange
	egress func(key string) bool // nil: no peers are tracked
}

// Peers starts tracking peers: egress says which provider keys' hosts
// connect from their public address (cloud.Egress), seed are the peers
// known already (hosts recorded in state), ports the recipe's. Every
// firewall provider is told its peers (no API call until a host of
// another key launches, starts or is destroyed).
func (m *Providers) Peers(seed []cloud.Peer, ports []cloud.PortRange, egress func(key string) bool) {
	m.fw.mu.Lock()
	defer m.fw.mu.Unlock()
	m.fw.peers, m.fw.ports, m.fw.egress = map[string]cloud.Peer{}, ports, egress
	for _, p := range seed {
		if egress(p.Provider) && p.Address != "" {
			m.fw.peers[p.Name] = p
		}
	}
	for key, p := range m.by {
		if f, ok := p.(cloud.Firewall); ok {
			f.SetPeers(m.fw.peersFor(key), ports)
		}
	}
}

// peersFor are the peers of providers other than key, by name (caller
// holds mu).
func (b *peerBook) peersFor(key string) []cloud.Peer {
	var out []cloud.Peer
	for _, p := range b.peers {
		if p.Provider != key {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// admit records h (launched or started on spec's provider) as a peer and
// opens the other providers' firewalls to it when that changes them.
func (m *Providers) admit(ctx context.Context, spec cloud.HostSpec, h cloud.Host) error {
	key := m.key(spec)
	m.fw.mu.Lock()
	if m.fw.egress == nil || !m.fw.egress(key) {
		m.fw.mu.Unlock()
		return nil
	}
	p := cloud.Peer{Name: spec.Name, Provider: key, Address: cloud.PeerAddress(h)}
	if old, ok := m.fw.peers[spec.Name]; ok && old == p || p.Address == "" {
		m.fw.mu.Unlock()
		return nil
	}
	m.fw.peers[spec.Name] = p
	m.fw.mu.Unlock()
	if err := m.reopen(ctx, spec.Cluster, key); err != nil {
		return fmt.Errorf("%s is up, but the firewalls of the cluster's other providers could not be opened to it: %w", spec.Name, err)
	}
	return nil
}

// dismiss forgets a destroyed host and revokes what other providers'
// firewalls admitted for it.
func (m *Providers) dismiss(ctx context.Context, spec cloud.HostSpec) error {
	m.fw.mu.Lock()
	_, ok := m.fw.peers[spec.Name]
	delete(m.fw.peers, spec.Name)
	m.fw.mu.Unlock()
	if !ok {
		return nil
	}
	return m.reopen(ctx, spec.Cluster, m.key(spec))
}

// reopen hands every firewall provider other than key its current peers
// and applies them.
func (m *Providers) reopen(ctx context.Context, cluster, key string) error {
	for _, k := range keys(m.by) {
		f, ok := m.by[k].(cloud.Firewall)
		if !ok || k == key {
			continue
		}
		m.fw.mu.Lock()
		f.SetPeers(m.fw.peersFor(k), m.fw.ports)
		m.fw.mu.Unlock()
		if err := f.OpenToPeers(ctx, cluster); err != nil {
			return fmt.Errorf("provider %s: %w", k, err)
		}
	}
	return nil
}

// key is the provider key of spec.
func (m *Providers) key(spec cloud.HostSpec) string {
	if spec.Provider == "" {
		return m.def
	}
	return spec.Provider
}
