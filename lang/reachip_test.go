package lang

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestReachIP(t *testing.T) {
	host := func(provider cty.Value, priv, pub string) cty.Value {
		return HostInfo{Name: "h[0]", Group: "h", Provider: provider, PrivateIP: cty.StringVal(priv), PublicIP: cty.StringVal(pub)}.Val(nil)
	}
	docker, static, east := cty.StringVal("docker"), cty.StringVal("static"), cty.StringVal("aws.east")
	for _, c := range []struct {
		name     string
		from, to cty.Value
		want     cty.Value
	}{
		{"same provider: private", host(docker, "172.18.0.2", "172.18.0.2"), host(docker, "172.18.0.3", "172.18.0.3"), cty.StringVal("172.18.0.3")},
		{"aws same alias: private", host(east, "10.0.0.1", "3.3.3.1"), host(east, "10.0.0.2", "3.3.3.2"), cty.StringVal("10.0.0.2")},
		{"across providers: public", host(static, "192.168.1.5", "192.168.1.5"), host(east, "10.0.0.2", "3.3.3.2"), cty.StringVal("3.3.3.2")},
		{"across, no public: private", host(static, "192.168.1.5", "192.168.1.5"), host(east, "10.0.0.2", ""), cty.StringVal("10.0.0.2")},
		{"from not launched: unknown", host(cty.NilVal, "", ""), host(east, "10.0.0.2", "3.3.3.2"), cty.UnknownVal(cty.String)},
		{"to not launched: unknown", host(east, "10.0.0.2", "3.3.3.2"), host(cty.NilVal, "", ""), cty.UnknownVal(cty.String)},
	} {
		got, err := reachIPFunc.Call([]cty.Value{c.from, c.to})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.IsKnown() != c.want.IsKnown() || got.IsKnown() && !got.RawEquals(c.want) {
			t.Errorf("%s: %#v, want %#v", c.name, got, c.want)
		}
	}
	for _, bad := range [][]cty.Value{
		{cty.StringVal("10.0.0.1"), cty.StringVal("10.0.0.2")},
		{cty.EmptyObjectVal, cty.EmptyObjectVal},
		{host(docker, "a", "b"), cty.ListValEmpty(cty.String)},
	} {
		if _, err := reachIPFunc.Call(bad); err == nil {
			t.Errorf("reach_ip(%#v) accepted", bad)
		}
	}
}
