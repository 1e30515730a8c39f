package docker

import (
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/internal/ctypath"
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
		`memory = "lots"`: "memory",
		// Below Docker's minimum (6MB) every container create fails at
		// apply: "Minimum memory limit allowed is 6MB". A bare number is
		// bytes.
		`memory = "4m"`:                   "memory",
		`memory = 2`:                      "memory",
		`memory = "6m"`:                   "",
		`memory = "512m"`:                 "",
		`cpus = -1`:                       "cpus",
		`cpus = 1e400`:                    "cpus", // +Inf: the nano-CPU count overflowed at launch
		`cpus = 1e30`:                     "cpus",
		`cpus = 0.001`:                    "cpus",
		`cpus = 0`:                        "",
		`cpus = 0.5`:                      "",
		`cpus = 4096`:                     "",
		`mirror = "ftp://deb.debian.org"`: "mirror",
		// Hostile strings: each would end a line of the image's apt
		// sources or its Dockerfile, or read as an option of debootstrap.
		`mirror = "http://deb.debian.org/debian\nTypes: deb\nURIs: http://evil.example"`: "mirror",
		`mirror = "http://deb.debian.org/debian $(reboot)"`:                              "mirror",
		`mirror = "http://"`:                                          "mirror",
		`mirror = "https://deb.debian.org/debian"`:                    "",
		`security_mirror = "none"`:                                    "",
		`security_mirror = "http://security.debian.org\rx"`:           "security_mirror",
		`suite = "bookworm\nRUN touch /pwned"`:                        "suite",
		`suite = "--no-check-gpg"`:                                    "suite",
		`suite = "bookworm;id"`:                                       "suite",
		`suite = "Bookworm"`:                                          "suite",
		`suite = "trixie"`:                                            "",
		`base_image = "debian:bookworm\nRUN touch /pwned"`:            "base_image",
		`base_image = "debian:bookworm AS x"`:                         "base_image",
		`base_image = "--privileged"`:                                 "base_image",
		`base_image = "registry.example.org:5000/debian:bookworm"`:    "",
		`image = "diffuser-node:mine"`:                                "",
		`image = "node:$(id)"`:                                        "image",
		`image = "Node:1"`:                                            "image",
		`extra_hosts = ["deb.debian.org:203.0.113.80", "mirror:::1"]`: "",
		`extra_hosts = ["evil\n10.0.0.1 deb.debian.org:1.2.3.4"]`:     "extra_hosts[0]",
		`extra_hosts = ["-x:1.2.3.4", "a b:1.2.3.4"]`:                 "extra_hosts[0],extra_hosts[1]",
		// An IPv6 zone is an interface name: netip takes any text after %,
		// a line of /etc/hosts among it.
		`extra_hosts = ["a:fe80::1%x\n10.6.6.6 deb.debian.org", "b:fe80::1%$(id)", "c:fe80::1%eth0"]`: "extra_hosts[0],extra_hosts[1]",
		// A value read while decoding (memory, cpus) does not hide the
		// others' mistakes: every one is reported in one validate.
		`memory = "lots"
		 cpus = -1
		 extra_hosts = ["deb.debian.org"]
		 packages = ["jq", "Bad Name"]
		 network_cidr = "10.0.0.0/30"
		 package_cache = "ftp://x"`: "memory,cpus,extra_hosts[0],network_cidr,package_cache,packages[1]",
	} {
		v := decodeHCL(t, src)
		var got []string
		for _, p := range (Factory{}).CheckSettings(v, "server", cloud.GroupNeed{}) {
			got = append(got, ctypath.String(p.Path))
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
