package docker

import (
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestAptProxy(t *testing.T) {
	withGW := func(gw string) container.InspectResponse {
		ep := &network.EndpointSettings{}
		if gw != "" {
			ep.Gateway = netip.MustParseAddr(gw)
		}
		return container.InspectResponse{NetworkSettings: &container.NetworkSettings{
			Networks: map[string]*network.EndpointSettings{NetworkName("c1"): ep, "bridge": {Gateway: netip.MustParseAddr("172.17.0.1")}},
		}}
	}
	for _, c := range []struct {
		cache string
		c     container.InspectResponse
		want  string
	}{
		{"controller", withGW("172.20.0.1"), "http://172.20.0.1:3142/"}, // the cluster network's gateway, not docker0's
		{"controller", withGW(""), ""},
		{"controller", container.InspectResponse{}, ""},
		{"off", withGW("172.20.0.1"), ""},
		{"http://cache.lab:8080", withGW("172.20.0.1"), "http://cache.lab:8080"},
	} {
		if got := aptProxy(Settings{PackageCache: c.cache}, c.c, "c1"); got != c.want {
			t.Errorf("aptProxy(%q) = %q, want %q", c.cache, got, c.want)
		}
	}
}
