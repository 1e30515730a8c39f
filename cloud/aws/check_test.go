package aws

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/internal/ctypath"
)

// TestCheckSettings: every mistake New would refuse is reported offline,
// each at its setting, all at once; New refuses the first of them.
func TestCheckSettings(t *testing.T) {
	f := testFactory()
	for src, want := range map[string][]string{
		`instance_type = "t3.medium"`: nil,
		`instance_type = 42`:          {"instance_type"},
		`ssh_cidr = "0.0.0.0/33"`:     {"ssh_cidr"},
		`ssh_cidr = "1.2.3.4"`:        {"ssh_cidr"},
		`endpoint = "ec2.local"`:      {"endpoint"},
		`image = "centos-7"
		 device_naming = "scsi"`: {"device_naming", "image"},
		`groups = { server = { instance_type = "big", use_private_ip = "maybe", region = "x" } }`: {
			`groups["server"]["instance_type"]`, `groups["server"]["region"]`, `groups["server"]["use_private_ip"]`},
		`tags = { "aws:x" = "y" }`: {`tags["aws:x"]`},
		// The user reaches ssh's command line: no option, no second word.
		`ssh_user = "admin"`:                         nil,
		`ssh_user = "-oProxyCommand=id"`:             {"ssh_user"},
		`ssh_user = "admin $(reboot)"`:               {"ssh_user"},
		`ssh_user = "admin\nroot"`:                   {"ssh_user"},
		`groups = { server = { ssh_user = "a;b" } }`: {`groups["server"]["ssh_user"]`},
		// The region is part of the API's host name: nothing else may ride along.
		`region = "evil.example/x#"`: {"region"},
		`region = "eu-west-1\n"`:     {"region"},
		`region = "-x"`:              {"region"},
		`region = "RegionOne"`:       nil,
		// ports are the recipe's format, checked entry by entry.
		`ports = ["6789/tcp ceph-mon", "3300/tcp+udp", "6800-7300/tcp osd"]`: nil,
		`ports = ["6789 ceph-mon", "6789/tcp", "0/tcp", "7300-6800/tcp", "6789/sctp", ""]`: {
			"ports[0]", "ports[2]", "ports[3]", "ports[4]", "ports[5]"},
		`ports = [null]`: {""},
		// An EC2-compatible cloud names its flavours as it likes; a number is still no name.
		`endpoint = "https://ec2.example.org:8773"
		 instance_type = "4cpu-8gb"`: nil,
		`endpoint = "https://ec2.example.org:8773"
		 instance_type = "42"`: {"instance_type"},
	} {
		base := "region = \"eu-west-1\"\n"
		if strings.HasPrefix(src, "region") {
			base = ""
		}
		v := decodeSite(t, f, base+src)
		var got []string
		for _, p := range f.CheckSettings(v, "server", cloud.GroupNeed{Count: 1}) {
			got = append(got, ctypath.String(p.Path))
		}
		if strings.Join(sortStrings(got), ",") != strings.Join(want, ",") {
			t.Errorf("%s: problems at %v, want %v", src, got, want)
		}
		_, err := f.New(context.Background(), v, cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}})
		if (err != nil) != (len(want) > 0) {
			t.Errorf("%s: New says %v, CheckSettings %v: they must agree", src, err, got)
		}
	}
}

func sortStrings(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return sortedKeys(m)
}

// TestCheckSettingsPortsMessage: a bad ports entry is named with what to
// write instead.
func TestCheckSettingsPortsMessage(t *testing.T) {
	f := testFactory()
	v := decodeSite(t, f, "region = \"eu-west-1\"\nports = [\"6789/tcp ceph-mon\", \"6789 ceph-mon\"]\n")
	ps := f.CheckSettings(v, "server", cloud.GroupNeed{Count: 1})
	if len(ps) != 1 {
		t.Fatalf("problems: %v", ps)
	}
	want := `ports: "6789 ceph-mon": want "PORT[-PORT]/tcp|udp [what]", such as "24007-24008/tcp glusterd"`
	if got := ps[0].Detail; !strings.Contains(got, want) {
		t.Errorf("detail %q, want it to contain %q", got, want)
	}
}
