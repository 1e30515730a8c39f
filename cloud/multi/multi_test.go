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
