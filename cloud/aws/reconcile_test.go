package aws

import (
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func ruleStrings(sg ec2test.SecurityGroup) string {
	var rules []string
	for _, r := range sg.Ingress {
		rules = append(rules, r.String())
	}
	return strings.Join(rules, "; ")
}

// Narrowing ssh_cidr revokes the old range instead of adding the new one
// beside it; a rule someone added by hand to diffuser's own group goes
// too; the self rule stays. A second run changes nothing.
func TestSecurityGroupReconcilesRules(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	wide, _ := newTestProvider(t, srv, "")
	wide.set.SSHCIDR = "0.0.0.0/0"
	id, err := wide.ensureSecurityGroup(ctx, "rc", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wide.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := ruleStrings(srv.SecurityGroups()[0]); !strings.Contains(got, "tcp 22-22 from 0.0.0.0/0") || !strings.Contains(got, "tcp 80-80 from 0.0.0.0/0") {
		t.Fatalf("setup: rules %s", got)
	}

	narrow, logs := newTestProvider(t, srv, "") // ssh_cidr = 203.0.113.7/32
	if _, err := narrow.ensureSecurityGroup(ctx, "rc", ""); err != nil {
		t.Fatal(err)
	}
	want := "-1 all from " + id + "; tcp 22-22 from 203.0.113.7/32"
	if got := ruleStrings(srv.SecurityGroups()[0]); got != want {
		t.Errorf("after narrowing ssh_cidr: rules %s, want %s", got, want)
	}
	if !logs.contains("revoked tcp 22-22 from 0.0.0.0/0 (no longer wanted by the settings)") || !logs.contains("revoked tcp 80-80 from 0.0.0.0/0") {
		t.Errorf("revocations not logged")
	}
	srv.ResetCalls()
	if _, err := narrow.ensureSecurityGroup(ctx, "rc", ""); err != nil {
		t.Fatal(err)
	}
	if c := srv.Calls(); c["RevokeSecurityGroupIngress"] != 0 || c["AuthorizeSecurityGroupIngress"] != 0 {
		t.Errorf("a reconciled group was changed again: %v", c)
	}
}

// Instances require IMDSv2 (no credentials for a plain GET from the host)
// and their data volumes are encrypted, whatever the account's defaults.
func TestLaunchRequiresIMDSv2AndEncryptsVolumes(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	if _, err := launchAll(ctx, p, specsFor("enc", group{"server", 2, []cloud.VolumeSpec{{Name: "brick", SizeGB: 10}}})); err != nil {
		t.Fatal(err)
	}
	ins := srv.Instances()
	if len(ins) != 2 {
		t.Fatalf("%d instances", len(ins))
	}
	for _, in := range ins {
		if in.HttpTokens != "required" {
			t.Errorf("instance %s: metadata HttpTokens %q, want required (IMDSv2)", in.ID, in.HttpTokens)
		}
	}
	data := 0
	for _, v := range srv.Volumes() {
		if v.Device == "/dev/xvda" {
			continue // the image's root volume
		}
		data++
		if !v.Encrypted {
			t.Errorf("data volume %s (%s) not encrypted", v.ID, v.Device)
		}
	}
	if data != 2 {
		t.Errorf("%d data volumes, want 2", data)
	}
}
