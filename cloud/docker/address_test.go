package docker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
)

func TestSplitSubnet(t *testing.T) {
	for _, c := range []struct{ subnet, static, dynamic, err string }{
		{"172.18.0.0/16", "172.18.0.0/17", "172.18.128.0/17", ""},
		{"10.77.0.0/24", "10.77.0.0/25", "10.77.0.128/25", ""},
		{"192.168.7.8/29", "192.168.7.8/30", "192.168.7.12/30", ""},
		{"10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", ""},
		{"10.0.0.4/30", "", "", "/29 or larger"},
		{"fd00::/64", "", "", "IPv4"},
	} {
		s, d, err := splitSubnet(netip.MustParsePrefix(c.subnet))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.subnet, err, c.err)
			}
			continue
		}
		if err != nil || s.String() != c.static || d.String() != c.dynamic {
			t.Errorf("%s: %s %s %v, want %s %s", c.subnet, s, d, err, c.static, c.dynamic)
		}
	}
}

func TestPickAddress(t *testing.T) {
	plan := addressPlan{static: netip.MustParsePrefix("10.77.0.0/29"), gateway: netip.MustParseAddr("10.77.0.1")}
	a := netip.MustParseAddr
	used := func(ips ...string) map[netip.Addr]bool {
		m := map[netip.Addr]bool{}
		for _, s := range ips {
			m[a(s)] = true
		}
		return m
	}
	for _, c := range []struct {
		name      string
		used      map[netip.Addr]bool
		preferred string
		want, err string
	}{
		{"first free skips network and gateway", used(), "", "10.77.0.2", ""},
		{"lowest gap", used("10.77.0.2", "10.77.0.4"), "", "10.77.0.3", ""},
		{"recorded address back", used("10.77.0.2"), "10.77.0.6", "10.77.0.6", ""},
		{"recorded address taken", used("10.77.0.6"), "10.77.0.6", "10.77.0.2", ""},
		{"recorded address outside the pinned half", used(), "10.77.0.9", "10.77.0.2", ""},
		{"recorded gateway is never handed out", used(), "10.77.0.1", "10.77.0.2", ""},
		{"full", used("10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5", "10.77.0.6", "10.77.0.7"), "", "", "no free address"},
	} {
		var pref netip.Addr
		if c.preferred != "" {
			pref = a(c.preferred)
		}
		got, err := pickAddress(plan, c.used, pref)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v %v, want error %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%s: %v %v, want %s", c.name, got, err, c.want)
		}
	}
}

// TestPlanOf: only networks labelled fixed pin addresses; older ones keep
// the engine's dynamic addresses.
func TestPlanOf(t *testing.T) {
	cfg := network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("172.20.0.0/16"), Gateway: netip.MustParseAddr("172.20.0.1")}}}
	old := network.Inspect{Network: network.Network{Labels: map[string]string{LabelCluster: "c"}, IPAM: cfg}}
	if planOf(old).fixed() {
		t.Error("a network made before fixed addresses pins addresses")
	}
	fixed := network.Inspect{Network: network.Network{Labels: map[string]string{labelAddressing: addressingFixed}, IPAM: cfg}}
	if p := planOf(fixed); p.static.String() != "172.20.0.0/17" || p.gateway.String() != "172.20.0.1" {
		t.Errorf("fixed network plan: %+v", p)
	}
}

func netipMust(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}
