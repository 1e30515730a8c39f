package multi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/cloud/multi"
	"diffuser/cloud/sim"
)

// TestRoutes: each call goes to the provider the spec names (the default
// for none), an unknown key is an error naming the known ones, and
// Cleanup reaches every provider.
func TestRoutes(t *testing.T) {
	ctx := context.Background()
	a, b := sim.New(), sim.New()
	pa, err := a.Factory().New(ctx, cty.EmptyObjectVal, cloud.Env{})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Factory().New(ctx, cty.EmptyObjectVal, cloud.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := multi.New("c", map[string]cloud.Provider{"a": pa}); err == nil {
		t.Fatal("a default missing from the providers was accepted")
	}
	m, err := multi.New("a", map[string]cloud.Provider{"a": pa, "b.east": pb})
	if err != nil {
		t.Fatal(err)
	}
	spec := func(group string, i int, provider string) cloud.HostSpec {
		return cloud.HostSpec{Cluster: "c1", Group: group, Index: i, Count: 2, Name: group + "[" + string(rune('0'+i)) + "]",
			Hostname: group + "-" + string(rune('0'+i)), Provider: provider, Settings: cty.EmptyObjectVal}
	}
	hosts := map[string]cloud.Host{}
	for _, s := range []cloud.HostSpec{spec("server", 0, ""), spec("server", 1, "a"), spec("client", 0, "b.east")} {
		h, err := m.Launch(ctx, s)
		if err != nil {
			t.Fatalf("launch %s: %v", s.Name, err)
		}
		hosts[s.Name] = h
	}
	if a.Hosts() != 2 || b.Hosts() != 1 {
		t.Fatalf("hosts a=%d b=%d, want 2 and 1", a.Hosts(), b.Hosts())
	}
	if st, err := m.Status(ctx, spec("client", 0, "b.east"), hosts["client[0]"]); err != nil || st != cloud.Running {
		t.Fatalf("status of client[0] through b.east: %v %v", st, err)
	}
	if _, err := m.Launch(ctx, spec("x", 0, "nowhere")); err == nil || !strings.Contains(err.Error(), "[a b.east]") {
		t.Fatalf("unknown provider: %v", err)
	}
	if err := m.Destroy(ctx, spec("client", 0, "b.east"), hosts["client[0]"]); err != nil {
		t.Fatal(err)
	}
	if a.Hosts() != 2 || b.Hosts() != 0 {
		t.Fatalf("after destroying client[0]: a=%d b=%d, want 2 and 0", a.Hosts(), b.Hosts())
	}
	for _, n := range []string{"server[0]", "server[1]"} {
		if err := m.Destroy(ctx, spec(n[:6], int(n[7]-'0'), ""), hosts[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Cleanup(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if a.Hosts() != 0 {
		t.Fatalf("a has %d hosts left", a.Hosts())
	}
	if got := m.Keys(); strings.Join(got, ",") != "a,b.east" || m.Name() != "a" {
		t.Fatalf("keys %v, name %s", got, m.Name())
	}
}

// fakeFirewall records what it is told.
type fakeFirewall struct {
	cloud.Provider
	peers  []cloud.Peer
	opened int
}

func (f *fakeFirewall) SetPeers(peers []cloud.Peer, _ []cloud.PortRange) { f.peers = peers }
func (f *fakeFirewall) OpenToPeers(context.Context, string) error        { f.opened++; return nil }

// TestPeers: a firewall provider is told the hosts of the other providers
// whose hosts connect from their public address, seeded from state and
// kept current by launch and destroy; its own hosts, hosts of providers
// without egress and hosts without a usable address are not peers; a
// launch that changes nothing opens nothing.
func TestPeers(t *testing.T) {
	ctx := context.Background()
	newSim := func() cloud.Provider {
		p, err := sim.New().Factory().New(ctx, cty.EmptyObjectVal, cloud.Env{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	fw := &fakeFirewall{Provider: newSim()}
	lab, dock := newSim(), newSim()
	m, err := multi.New("aws", map[string]cloud.Provider{"aws": fw, "static": lab, "docker": dock})
	if err != nil {
		t.Fatal(err)
	}
	m.Peers([]cloud.Peer{{Name: "client[0]", Provider: "static", Address: "198.51.100.1"}, {Name: "x[0]", Provider: "docker", Address: "172.17.0.2"},
		{Name: "client[9]", Provider: "static", Address: ""}}, nil, func(k string) bool { return k != "docker" })
	names := func() string {
		var s []string
		for _, p := range fw.peers {
			s = append(s, p.Name+"="+p.Address)
		}
		return strings.Join(s, ",")
	}
	if names() != "client[0]=198.51.100.1" || fw.opened != 0 {
		t.Fatalf("seeded: %s, opened %d", names(), fw.opened)
	}
	spec := func(name, provider string) cloud.HostSpec {
		return cloud.HostSpec{Cluster: "c", Group: "g", Name: name, Hostname: "h", Count: 1, Provider: provider, Settings: cty.EmptyObjectVal}
	}
	h1, err := m.Launch(ctx, spec("client[1]", "static"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(names(), "client[1]="+h1.PublicIP) || fw.opened != 1 {
		t.Fatalf("after a static launch: %s, opened %d", names(), fw.opened)
	}
	if _, err := m.Launch(ctx, spec("d[0]", "docker")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Launch(ctx, spec("server[0]", "aws")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(names(), "d[0]") || strings.Contains(names(), "server[0]") || fw.opened != 1 {
		t.Fatalf("docker or own hosts became peers: %s, opened %d", names(), fw.opened)
	}
	if _, err := m.Launch(ctx, spec("client[1]", "static")); err != nil { // adopted: same address
		t.Fatal(err)
	}
	if fw.opened != 1 {
		t.Fatalf("an unchanged peer opened the firewall again (%d)", fw.opened)
	}
	if err := m.Destroy(ctx, spec("client[1]", "static"), h1); err != nil {
		t.Fatal(err)
	}
	if names() != "client[0]=198.51.100.1" || fw.opened != 2 {
		t.Fatalf("after destroy: %s, opened %d", names(), fw.opened)
	}
}
