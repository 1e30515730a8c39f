package static_test

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/static"

	"github.com/zclconf/go-cty/cty"
)

// Import takes only the machine the site file lists for the host, named
// any of the ways an operator writes it.
func TestImportListedMachineOnly(t *testing.T) {
	settings := cty.ObjectVal(map[string]cty.Value{
		"addresses": cty.ListVal([]cty.Value{cty.StringVal("10.0.0.11"), cty.StringVal("admin@10.0.0.12:2222")}),
	})
	spec := cloud.HostSpec{Cluster: "c", Group: "server", Index: 1, Count: 2, Name: "server[1]", Settings: settings}
	for _, id := range []string{"10.0.0.12", "admin@10.0.0.12", "10.0.0.12:2222", "admin@10.0.0.12:2222", "static:admin@10.0.0.12:2222"} {
		h, err := static.Provider{}.Import(context.Background(), spec, id)
		if err != nil || h.ProviderID != "static:admin@10.0.0.12:2222" || h.SSHPort != 2222 || h.SSHUser != "admin" {
			t.Errorf("Import(%q) = %+v, %v", id, h, err)
		}
	}
	for _, id := range []string{"10.0.0.11", "root@10.0.0.12:2222", "10.0.0.12:22", "", "i-0abc"} {
		_, err := static.Provider{}.Import(context.Background(), spec, id)
		if err == nil || !strings.Contains(err.Error(), "the site file lists admin@10.0.0.12:2222 for server[1]") {
			t.Errorf("Import(%q): %v", id, err)
		}
	}
	// The provider id of an IPv6 host holds the address without brackets,
	// as Launch writes it.
	v6 := cloud.HostSpec{Cluster: "c", Group: "server", Index: 0, Count: 1, Name: "server[0]", Settings: cty.ObjectVal(map[string]cty.Value{
		"addresses": cty.ListVal([]cty.Value{cty.StringVal("[fd00::5]:2222")}),
	})}
	want, err := static.Provider{}.Launch(context.Background(), v6)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{want.ProviderID, "[fd00::5]:2222", "root@[fd00::5]:2222"} {
		if h, err := (static.Provider{}).Import(context.Background(), v6, id); err != nil || h.ProviderID != want.ProviderID {
			t.Errorf("Import(%q) = %+v, %v", id, h, err)
		}
	}
	spec.Index, spec.Name = 2, "server[2]"
	if _, err := (static.Provider{}).Import(context.Background(), spec, "10.0.0.13"); err == nil || !strings.Contains(err.Error(), "lists 2 address(es)") {
		t.Errorf("Import of a host the site file does not list: %v", err)
	}
}
