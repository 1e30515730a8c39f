package aws

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
	"diffuser/cloud/multi"
	"diffuser/cloud/sim"
)

// sgRules lists the ingress rules of the cluster's security group on srv
// as "proto from-to source", sorted.
func sgRules(t *testing.T, srv *ec2test.Server, cluster string) []string {
	t.Helper()
	var out []string
	found := false
	for _, g := range srv.SecurityGroups() {
		if g.Name != resourceName(cluster) {
			continue
		}
		found = true
		for _, r := range g.Ingress {
			src := r.CIDR
			if r.SourceGroup != "" {
				src = "self"
			}
			out = append(out, fmt.Sprintf("%s %d-%d %s", r.Protocol, r.FromPort, r.ToPort, src))
		}
	}
	if !found {
		t.Fatalf("no security group %s", resourceName(cluster))
	}
	sort.Strings(out)
	return out
}

// TestFirewallPeers runs aws servers and static lab clients (the simulated
// provider standing in) through cloud/multi as the workspace does, with
// the GlusterFS recipe's declared ports: the servers' security group
// admits, besides its own members and the operator's SSH, exactly the
// declared ports from exactly the clients' addresses; a client destroyed
// is revoked, one launched later admitted; the servers' own addresses are
// never listed (members reach each other through the group); a second
// aws endpoint's instances are admitted by the first's group and the other
// way round.
func TestFirewallPeers(t *testing.T) {
	ctx := testContext(t)
	east, west := ec2test.New(ec2test.Options{}), ec2test.New(ec2test.Options{PublicNet: 52})
	defer east.Close()
	defer west.Close()
	pe, _ := newTestProvider(t, east, "")
	pw, _ := newTestProvider(t, west, "")
	lab := sim.New()
	pl, err := lab.Factory().New(ctx, cty.EmptyObjectVal, cloud.Env{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := multi.New("aws.east", map[string]cloud.Provider{"aws.east": pe, "aws.west": pw, "static": pl})
	if err != nil {
		t.Fatal(err)
	}
	ports, err := cloud.ParsePorts([]string{"22/tcp ssh", "111/tcp+udp portmapper", "24007-24008/tcp glusterd", "49152-60999/tcp bricks"})
	if err != nil {
		t.Fatal(err)
	}
	m.Peers(nil, ports, func(string) bool { return true })

	var specs []cloud.HostSpec
	for _, g := range []struct {
		name, provider string
		n              int
	}{{"server", "aws.east", 2}, {"client", "static", 2}} {
		for _, s := range specsFor("fw", group{g.name, g.n, nil}) {
			s.Provider = g.provider
			if g.provider == "static" {
				s.Settings = cty.EmptyObjectVal
			}
			specs = append(specs, s)
		}
	}
	hosts, err := launchAll(ctx, m, specs)
	if err != nil {
		t.Fatal(err)
	}
	want := func(clients ...string) []string {
		out := []string{"-1 -1--1 self", "tcp 22-22 " + pe.set.SSHCIDR}
		for _, c := range clients {
			ip := hosts[c].PublicIP + "/32"
			out = append(out, "tcp 22-22 "+ip, "tcp 111-111 "+ip, "udp 111-111 "+ip, "tcp 24007-24008 "+ip, "tcp 49152-60999 "+ip)
		}
		sort.Strings(out)
		return out
	}
	if got, w := sgRules(t, east, "fw"), want("client[0]", "client[1]"); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Fatalf("rules after launch:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
	for _, g := range east.SecurityGroups() {
		for _, r := range g.Ingress {
			if r.CIDR != "" && r.FromPort == 24007 && !strings.Contains(r.Description, "client[") {
				t.Errorf("rule %+v: description does not name the peer", r)
			}
		}
	}

	// client[1] leaves: its rules go; a third client comes: its rules come.
	if err := m.Destroy(ctx, specs[3], hosts["client[1]"]); err != nil {
		t.Fatal(err)
	}
	c2 := specsFor("fw", group{"client", 3, nil})[2]
	c2.Provider, c2.Settings = "static", cty.EmptyObjectVal
	if hosts["client[2]"], err = m.Launch(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if got, w := sgRules(t, east, "fw"), want("client[0]", "client[2]"); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Fatalf("rules after a client left and another came:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}

	// A second region: its instance is admitted by east, and west's group
	// admits east's servers (with their public addresses) and the clients.
	w0 := specsFor("fw", group{"burst", 1, nil})[0]
	w0.Provider = "aws.west"
	if hosts["burst[0]"], err = m.Launch(ctx, w0); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sgRules(t, east, "fw"), "\n"); !strings.Contains(got, "tcp 24007-24008 "+hosts["burst[0]"].PublicIP+"/32") {
		t.Errorf("east does not admit west's instance %s:\n%s", hosts["burst[0]"].PublicIP, got)
	}
	westRules := strings.Join(sgRules(t, west, "fw"), "\n")
	for _, n := range []string{"server[0]", "server[1]", "client[0]", "client[2]"} {
		if !strings.Contains(westRules, "tcp 24007-24008 "+hosts[n].PublicIP+"/32") {
			t.Errorf("west does not admit %s (%s):\n%s", n, hosts[n].PublicIP, westRules)
		}
	}
	if strings.Contains(westRules, hosts["burst[0]"].PublicIP) {
		t.Errorf("west admits its own member by address:\n%s", westRules)
	}
	// Nothing wider than a host was opened anywhere but the operator's SSH.
	for _, srv := range []*ec2test.Server{east, west} {
		for _, r := range sgRules(t, srv, "fw") {
			if !strings.HasSuffix(r, "/32") && r != "-1 -1--1 self" {
				t.Errorf("rule %s opens to more than one address", r)
			}
		}
	}
}

// TestFirewallNoPortsNoPeers: without peers the group is as before (its
// own members, SSH); with peers but a recipe that declares no ports,
// nothing is opened to them and the log says so.
func TestFirewallNoPortsNoPeers(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, logs := newTestProvider(t, srv, "")
	specs := specsFor("fw2", group{"server", 1, nil})
	if _, err := launchAll(ctx, p, specs); err != nil {
		t.Fatal(err)
	}
	base := "-1 -1--1 self,tcp 22-22 " + p.set.SSHCIDR
	if got := strings.Join(sgRules(t, srv, "fw2"), ","); got != base {
		t.Fatalf("rules without peers: %s", got)
	}
	p.SetPeers([]cloud.Peer{{Name: "client[0]", Provider: "static", Address: "198.51.100.7"}}, nil)
	if err := p.OpenToPeers(ctx, "fw2"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sgRules(t, srv, "fw2"), ","); got != base {
		t.Fatalf("rules with peers but no ports: %s", got)
	}
	if !logs.contains("declares no ports") {
		t.Error("the log does not say that nothing was opened")
	}
	// IPv6 peers get /128.
	p.SetPeers([]cloud.Peer{{Name: "client[0]", Provider: "static", Address: "2001:db8::7"}}, []cloud.PortRange{{Protocol: "tcp", From: 2049, To: 2049, What: "nfs"}})
	rules := p.fw.rules()
	if len(rules) != 1 || len(rules[0].IpRanges) != 0 || len(rules[0].Ipv6Ranges) != 1 || *rules[0].Ipv6Ranges[0].CidrIpv6 != "2001:db8::7/128" {
		t.Fatalf("ipv6 peer rules: %+v", rules)
	}
}
