package docker

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
	"diffuser/internal/ctypath"
)

// TestSharedNetworkSettings: networks decodes as a list of names; bad
// names, host/none and repeats are each reported at their index, and
// DecodeSettings refuses what CheckSettings reports.
func TestSharedNetworkSettings(t *testing.T) {
	s, err := DecodeSettings(decodeHCL(t, `networks = ["lab", " lab-2.x_y "]`), HostApt{}, "/ws")
	if err != nil || !reflect.DeepEqual(s.Networks, []string{"lab", "lab-2.x_y"}) {
		t.Fatalf("networks: %q, %v", s.Networks, err)
	}
	for src, want := range map[string]string{
		`networks = []`:                     "",
		`networks = ["lab"]`:                "",
		`networks = ["lab", "lab"]`:         "networks[1]:named twice",
		`networks = ["host"]`:               "networks[0]:cannot be joined",
		`networks = ["none", "ok"]`:         "networks[0]:cannot be joined",
		`networks = [""]`:                   "networks[0]:not a Docker network name",
		`networks = ["-lab"]`:               "networks[0]:not a Docker network name",
		`networks = ["lab; rm -rf /"]`:      "networks[0]:not a Docker network name",
		`networks = ["ok", "$(id)", "x y"]`: "networks[1]:not a Docker network name,networks[2]:not a Docker network name",
		`networks = ["a/b"]`:                "networks[0]:not a Docker network name",
		`networks = ["lab"]
		 network_cidr = "10.1.0.1/16"`: "network_cidr:host bits set",
	} {
		v := decodeHCL(t, src)
		problems := (Factory{}).CheckSettings(v, "server", cloud.GroupNeed{})
		var wants, got []string
		if want != "" {
			wants = strings.Split(want, ",")
		}
		for i, p := range problems {
			got = append(got, ctypath.String(p.Path))
			if i < len(wants) {
				path, word, _ := strings.Cut(wants[i], ":")
				if ctypath.String(p.Path) != path || !strings.Contains(p.Error(), word) {
					t.Errorf("%s: problem %d at %s: %q, want at %s saying %q", src, i, ctypath.String(p.Path), p.Error(), path, word)
				}
			}
		}
		if len(problems) != len(wants) {
			t.Errorf("%s: problems at %q, want %q", src, got, wants)
		}
		if _, err := DecodeSettings(v, HostApt{}, "/ws"); (err != nil) != (want != "") {
			t.Errorf("%s: DecodeSettings says %v, CheckSettings %v: they must agree", src, err, got)
		}
	}
	// Not a list of strings: refused at decode, naming the setting.
	for _, v := range []cty.Value{
		cty.ObjectVal(map[string]cty.Value{"networks": cty.StringVal("lab")}),
		cty.ObjectVal(map[string]cty.Value{"networks": cty.TupleVal([]cty.Value{cty.NumberIntVal(1)})}),
		cty.ObjectVal(map[string]cty.Value{"networks": cty.ListVal([]cty.Value{cty.NullVal(cty.String)})}),
	} {
		if _, err := DecodeSettings(v, HostApt{}, "/ws"); err == nil || !strings.Contains(err.Error(), "networks") {
			t.Errorf("%#v: error %v, want one naming networks", v, err)
		}
	}
}

// TestSharedNetworkExposure: a docker group is reachable from other
// providers only when it joins a shared network.
func TestSharedNetworkExposure(t *testing.T) {
	if ok, why := (Factory{}).Exposed(decodeHCL(t, ``)); ok || !strings.Contains(why, "networks setting") {
		t.Errorf("no networks: exposed %v (%q), want not, naming the networks setting", ok, why)
	}
	if ok, why := (Factory{}).Exposed(cty.NullVal(cty.DynamicPseudoType)); ok || why == "" {
		t.Errorf("null settings: exposed %v (%q), want not", ok, why)
	}
	if ok, why := (Factory{}).Exposed(decodeHCL(t, `networks = ["lab"]`)); !ok || why != "" {
		t.Errorf("networks = [lab]: exposed %v (%q), want reachable", ok, why)
	}
}

// TestAnnounce: a host with shared networks is addressed on the first
// (private and public), lists each as an attribute, and keeps its SSH
// address on the cluster network; without them nothing changes.
func TestAnnounce(t *testing.T) {
	ep := func(ip string) *network.EndpointSettings {
		return &network.EndpointSettings{IPAddress: netip.MustParseAddr(ip)}
	}
	c := container.InspectResponse{NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
		"diffuser-c1": ep("10.5.0.2"), "lab": ep("10.9.0.7"), "lab2": ep("10.8.0.3"),
	}}}
	base := func() cloud.Host {
		return cloud.Host{PrivateIP: "10.5.0.2", PublicIP: "10.5.0.2", SSHAddress: "10.5.0.2", Attrs: map[string]string{}}
	}
	h := base()
	announce(&h, c, []string{"lab", "lab2"})
	if h.PrivateIP != "10.9.0.7" || h.PublicIP != "10.9.0.7" || h.SSHAddress != "10.5.0.2" ||
		h.Attrs["network.lab"] != "10.9.0.7" || h.Attrs["network.lab2"] != "10.8.0.3" {
		t.Errorf("announce on lab, lab2: %+v", h)
	}
	h = base()
	announce(&h, c, nil)
	if !reflect.DeepEqual(h, base()) {
		t.Errorf("announce without shared networks changed the host: %+v", h)
	}
	h = base()
	announce(&h, c, []string{"gone"})
	if h.PrivateIP != "10.5.0.2" || sharedIP(c, []string{"gone"}) != "" {
		t.Errorf("a network the container is not on moved the address: %+v", h)
	}
}
