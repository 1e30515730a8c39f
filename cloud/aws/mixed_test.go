package aws

import (
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
	"diffuser/cloud/multi"
	"diffuser/cloud/sim"
)

// TestMixedProviders runs one cluster over two EC2 endpoints (aws.east,
// aws.west: two test servers, as two regions) and a non-aws provider
// through cloud/multi, as a site file with provider aliases and
// per-group providers does: each group's instances land on its own
// endpoint with the deadline's tag and terminate-on-shutdown, the other
// provider's hosts stay off both, and destroy plus cleanup leave nothing
// on either endpoint.
func TestMixedProviders(t *testing.T) {
	ctx := testContext(t)
	east, west := ec2test.New(ec2test.Options{}), ec2test.New(ec2test.Options{})
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
	deadline := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Second)
	var specs []cloud.HostSpec
	for _, g := range []struct {
		name, provider string
		n              int
	}{{"server", "aws.east", 3}, {"client", "aws.west", 2}, {"lab", "static", 2}} {
		for _, s := range specsFor("mixed", group{g.name, g.n, nil}) {
			s.Provider, s.Expires = g.provider, deadline
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
	count := func(srv *ec2test.Server, grp string) int {
		n := 0
		for _, in := range srv.Instances() {
			if in.State == ec2test.Terminated {
				continue
			}
			if in.Tags[tagGroup] == grp {
				n++
				if in.Tags[TagExpires] != deadline.Format(time.RFC3339) || in.ShutdownBehavior != "terminate" {
					t.Errorf("%s: tag %q, shutdown behaviour %q", in.ID, in.Tags[TagExpires], in.ShutdownBehavior)
				}
			}
		}
		return n
	}
	if count(east, "server") != 3 || count(east, "client") != 0 || count(west, "client") != 2 || count(west, "server") != 0 {
		t.Fatalf("east: %d servers %d clients; west: %d servers %d clients", count(east, "server"), count(east, "client"),
			count(west, "server"), count(west, "client"))
	}
	if lab.Hosts() != 2 || count(east, "lab")+count(west, "lab") != 0 {
		t.Fatalf("lab hosts: %d on their provider, %d on aws", lab.Hosts(), count(east, "lab")+count(west, "lab"))
	}
	for _, s := range specs {
		if err := m.Destroy(ctx, s, hosts[s.Name]); err != nil {
			t.Fatalf("destroy %s: %v", s.Name, err)
		}
	}
	if err := m.Cleanup(ctx, "mixed"); err != nil {
		t.Fatal(err)
	}
	for name, srv := range map[string]*ec2test.Server{"east": east, "west": west} {
		for _, in := range srv.Instances() {
			if in.State != ec2test.Terminated {
				t.Errorf("%s: instance %s is %s after destroy", name, in.ID, in.State)
			}
		}
		if len(srv.SecurityGroups()) > 1 || len(srv.KeyPairs()) != 0 {
			t.Errorf("%s: left security groups %v, key pairs %v", name, srv.SecurityGroups(), srv.KeyPairs())
		}
	}
	if lab.Hosts() != 0 {
		t.Fatalf("lab hosts left: %d", lab.Hosts())
	}
}
