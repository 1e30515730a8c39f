package ec2test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// client is the real SDK pointed at srv, without retries, so every fault
// reaches the test.
func client(srv *Server) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func run(t *testing.T, c *ec2.Client, token string, n int32) *ec2.RunInstancesOutput {
	t.Helper()
	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0d12a00000000001"), InstanceType: "t3.micro",
		MinCount: aws.Int32(n), MaxCount: aws.Int32(n), ClientToken: aws.String(token),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"),
			Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(3), DeleteOnTermination: aws.Bool(true)}}},
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out
}

func TestRunInstancesTokensAndStates(t *testing.T) {
	srv := New(Options{PendingDescribes: 2})
	defer srv.Close()
	c := client(srv)
	ctx := context.Background()

	first := run(t, c, "tok", 3)
	if len(first.Instances) != 3 || first.Instances[2].AmiLaunchIndex == nil || *first.Instances[2].AmiLaunchIndex != 2 {
		t.Fatalf("reservation %+v", first)
	}
	again := run(t, c, "tok", 3)
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) || srv.Launches() != 1 {
		t.Errorf("token replay launched again: %s vs %s", aws.ToString(again.ReservationId), aws.ToString(first.ReservationId))
	}
	_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0d12a00000000001"), InstanceType: "t3.micro",
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("tok")})
	if code(err) != "IdempotentParameterMismatch" {
		t.Errorf("token with other parameters: %v", err)
	}

	id := aws.ToString(first.Instances[0].InstanceId)
	var states []string
	for range 3 {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, string(out.Reservations[0].Instances[0].State.Name))
	}
	if states[0] != Pending || states[1] != Pending || states[2] != Running {
		t.Errorf("states over three describes: %v", states)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:k"), Values: []string{"v"}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Errorf("filtered describe: %+v %v", out, err)
	}
	inst := out.Reservations[0].Instances[0]
	if len(inst.BlockDeviceMappings) != 2 || aws.ToString(inst.BlockDeviceMappings[1].DeviceName) != "/dev/sdf" || inst.BlockDeviceMappings[1].Ebs.VolumeId == nil {
		t.Errorf("block devices %+v", inst.BlockDeviceMappings)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("owner-id"), Values: []string{"x"}}}}); code(err) != "InvalidParameterValue" {
		t.Errorf("unknown filter: %v", err)
	}

	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	}
	in, _ := srv.Instance(id)
	if in.State != Terminated {
		t.Errorf("after terminate: %s", in.State)
	}
	if n := srv.Calls()["DescribeInstances"]; n != 8 {
		t.Errorf("DescribeInstances counted %d, want 8", n)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()

	srv := New(Options{ThrottleFirst: 2})
	c := client(srv)
	for i := range 3 {
		_, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{DebianOwner}})
		var re *awshttp.ResponseError
		throttled := code(err) == "RequestLimitExceeded" && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusServiceUnavailable
		if throttled != (i < 2) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if srv.Throttled() != 2 || srv.Calls()["DescribeImages"] != 3 {
		t.Errorf("throttled %d, calls %v", srv.Throttled(), srv.Calls())
	}
	srv.Close()

	srv = New(Options{RateLimit: 5})
	c = client(srv)
	limited := 0
	for range 12 {
		if _, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{}); code(err) == "RequestLimitExceeded" {
			limited++
		}
	}
	if limited < 5 {
		t.Errorf("12 quick calls at 5/s: %d refused", limited)
	}
	srv.Close()

	srv = New(Options{NotFoundFor: 100 * time.Millisecond})
	defer srv.Close()
	c = client(srv)
	out := run(t, c, "", 1)
	id := aws.ToString(out.Instances[0].InstanceId)
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}); code(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("new instance visible at once: %v", err)
	}
	time.Sleep(120 * time.Millisecond)
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Errorf("instance still hidden: %v", err)
	}
	srv.KillNext(1)
	dying := aws.ToString(run(t, c, "", 1).Instances[0].InstanceId)
	time.Sleep(120 * time.Millisecond)
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{dying}})
	if err != nil || d.Reservations[0].Instances[0].State.Name != types.InstanceStateNameTerminated {
		t.Errorf("dying instance: %+v %v", d, err)
	}
}

func TestSecurityGroupsAndKeys(t *testing.T) {
	srv := New(Options{})
	defer srv.Close()
	c := client(srv)
	ctx := context.Background()
	g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("d")}); code(err) != "InvalidGroup.Duplicate" {
		t.Errorf("duplicate group: %v", err)
	}
	perm := []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: g.GroupId}}}}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: perm}); code(err) != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: %v", err)
	}
	d, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"g"}})
	if err != nil || len(d.SecurityGroups) != 1 || aws.ToString(d.SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(g.GroupId) {
		t.Errorf("describe group: %+v %v", d, err)
	}
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0d12a00000000001"), InstanceType: "t3.micro",
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{aws.ToString(g.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId}); code(err) != "DependencyViolation" {
		t.Errorf("delete group in use: %v", err)
	}
	if err := srv.Kill(aws.ToString(out.Instances[0].InstanceId)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId}); err != nil {
		t.Errorf("delete unused group: %v", err)
	}

	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k"), PublicKeyMaterial: []byte("ssh-ed25519 AAAA x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k"), PublicKeyMaterial: []byte("ssh-ed25519 AAAA x")}); code(err) != "InvalidKeyPair.Duplicate" {
		t.Errorf("duplicate key: %v", err)
	}
	k, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"k"}, IncludePublicKey: aws.Bool(true)})
	if err != nil || aws.ToString(k.KeyPairs[0].PublicKey) != "ssh-ed25519 AAAA x" {
		t.Errorf("describe key: %+v %v", k, err)
	}
	if _, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nope"}}); code(err) != "InvalidKeyPair.NotFound" {
		t.Errorf("missing key: %v", err)
	}
}

func TestDescribeImagesFilters(t *testing.T) {
	srv := New(Options{})
	defer srv.Close()
	out, err := client(srv).DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Owners:  []string{CanonicalOwner},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-amd64-server-*"}}},
	})
	if err != nil || len(out.Images) != 2 {
		t.Fatalf("%+v %v", out, err)
	}
	for _, img := range out.Images {
		if aws.ToString(img.OwnerId) != CanonicalOwner || aws.ToString(img.CreationDate) == "" {
			t.Errorf("image %+v", img)
		}
	}
}
