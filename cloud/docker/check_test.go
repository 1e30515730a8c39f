package docker

import (
	"strings"
	"testing"

	"diffuser/cloud"
)

// TestCheckSettings: each mistake is reported at its setting, all at
// once, and DecodeSettings (New's path) refuses the same values.
func TestCheckSettings(t *testing.T) {
	for src, want := range map[string]string{
		``:                                 "",
		`network_cidr = "10.1.0.0/16"`:     "",
		`network_cidr = "10.1.0.1/16"`:     "network_cidr",
		`network_cidr = "10.1.0.0/33"`:     "network_cidr",
		`extra_hosts = ["a:1.2.3.4", "b"]`: "extra_hosts[1]",
		`volume_dir = "rel"
		 build = "magic"`: "build,volume_dir",
		`memory = "lots"`:                 "memory",
		`cpus = -1`:                       "cpus",
		`mirror = "ftp://deb.debian.org"`: "mirror",
	} {
		v := decodeHCL(t, src)
		var got []string
		for _, p := range (Factory{}).CheckSettings(v, "server", cloud.GroupNeed{}) {
			got = append(got, cloud.PathString(p.Path))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: problems at %q, want %q", src, strings.Join(got, ","), want)
		}
		_, err := DecodeSettings(v, HostApt{}, "/ws")
		if (err != nil) != (want != "") {
			t.Errorf("%s: DecodeSettings says %v, CheckSettings %v: they must agree", src, err, got)
		}
	}
}
