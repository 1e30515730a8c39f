package aws

import (
	"context"
	"strings"
	"testing"

	"diffuser/cloud"
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
			got = append(got, cloud.PathString(p.Path))
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
