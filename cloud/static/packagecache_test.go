package static

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"

	"github.com/zclconf/go-cty/cty"
)

// A static host gets a package cache only when the site names one; a
// changed one moves the host (launch again), never replaces it.
func TestPackageCacheSetting(t *testing.T) {
	spec := func(cache string) cloud.HostSpec {
		m := map[string]cty.Value{"addresses": strs("10.0.0.1"), "ssh_config": cty.StringVal("")}
		if cache != "" {
			m["package_cache"] = cty.StringVal(cache)
		}
		return cloud.HostSpec{Group: "server", Name: "server[0]", Settings: settings(t, m)}
	}
	ctx := context.Background()
	for _, off := range []string{"", "off"} {
		h, err := Provider{}.Launch(ctx, spec(off))
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := h.Attrs[cloud.AttrAptProxy]; ok {
			t.Errorf("package_cache %q: apt_proxy = %q, want none", off, p)
		}
	}
	h, err := Provider{}.Launch(ctx, spec("http://10.0.0.9:3142"))
	if err != nil {
		t.Fatal(err)
	}
	if p := h.Attrs[cloud.AttrAptProxy]; p != "http://10.0.0.9:3142" {
		t.Errorf("apt_proxy = %q", p)
	}
	if st, err := (Provider{}).Status(ctx, spec("http://10.0.0.9:3142"), h); err != nil || st != cloud.Running {
		t.Errorf("unchanged cache: %s %v", st, err)
	}
	if st, err := (Provider{}).Status(ctx, spec("off"), h); err != nil || st != cloud.Rerouted {
		t.Errorf("cache turned off: %s %v, want rerouted (its addresses stay)", st, err)
	}
	for bad, want := range map[string]string{
		"controller":          "no known way to the controller",
		"http://x;reboot":     "neither an IP address nor a host name",
		"10.0.0.9:3142":       `want "off" or an http URL`,
		"https://10.0.0.9":    "want an http:// URL",
		"http://10.0.0.9:0/a": "",
	} {
		_, err := Provider{}.Launch(ctx, spec(bad))
		if err == nil || (want != "" && !strings.Contains(err.Error(), want)) {
			t.Errorf("package_cache %q: %v, want an error with %q", bad, err, want)
		}
	}
	if !(Provider{}).KeepsMachines() {
		t.Error("a static machine stays when destroyed: its proxy file must be removed")
	}
}
