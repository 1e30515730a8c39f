package aws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"diffuser/cloud"
)

func TestSettingsDecodeAndOverrides(t *testing.T) {
	f := testFactory()
	for name, s := range f.Spec() {
		a, ok := s.(*hcldec.AttrSpec)
		if !ok || a.Required {
			t.Errorf("setting %s: %T, required %v; want an optional attribute", name, s, ok && a.Required)
		}
	}
	v := decodeSite(t, f, `
region        = "eu-west-1"
image         = "ubuntu-24.04"
instance_type = "c5.xlarge"
volume_type   = "gp2"
tags          = { owner = "ops" }
groups = {
  server = { instance_type = "m5.large", associate_public_ip = false, image = "ami-0123" }
}`)
	s, err := decodeSettings(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.validate(func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	p := &Provider{set: s}
	server, err := p.hostConfig(cloud.HostSpec{Name: "server[0]", Group: "server"})
	if err != nil {
		t.Fatal(err)
	}
	if server.InstanceType != "m5.large" || server.Image != "ami-0123" || server.AssociatePublicIP == nil || *server.AssociatePublicIP || server.VolumeType != "gp2" || server.Tags["owner"] != "ops" {
		t.Errorf("server config %+v", server)
	}
	client, err := p.hostConfig(cloud.HostSpec{Name: "client[0]", Group: "client"})
	if err != nil {
		t.Fatal(err)
	}
	if client.InstanceType != "c5.xlarge" || client.Image != "ubuntu-24.04" || client.AssociatePublicIP != nil {
		t.Errorf("client config %+v", client)
	}
	// HostSpec.Settings (the engine's merge) is overlaid too.
	withHost, err := p.hostConfig(cloud.HostSpec{Name: "client[0]", Group: "client",
		Settings: cty.ObjectVal(map[string]cty.Value{"instance_type": cty.StringVal("t3.micro")})})
	if err != nil || withHost.InstanceType != "t3.micro" {
		t.Errorf("host settings overlay: %+v %v", withHost, err)
	}

	defaults, err := (&Provider{}).hostConfig(cloud.HostSpec{Name: "x[0]", Group: "x"})
	if err != nil || defaults.Image != DefaultImage || defaults.InstanceType != DefaultInstanceType || defaults.VolumeType != DefaultVolumeType {
		t.Errorf("defaults %+v %v", defaults, err)
	}
}

func TestSettingsRejectBadValues(t *testing.T) {
	f := testFactory()
	for src, want := range map[string]string{
		`image = "centos-7"`:                                 "want an AMI id",
		`ssh_cidr = "1.2.3.4"`:                               "ssh_cidr",
		`tags = { "diffuser:cluster" = "x" }`:                "reserved",
		`groups = { server = { region = "x" } }`:             "not a per-group setting",
		`groups = { server = { use_private_ip = "maybe" } }`: "want true or false",
		`device_naming = "scsi"`:                             "device_naming",
	} {
		_, err := f.New(context.Background(), decodeSite(t, f, `region = "us-east-1"`+"\n"+src), cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %q", src, err, want)
		}
	}
	if _, err := f.New(context.Background(), decodeSite(t, f, `region = "us-east-1"`), cloud.Env{}); err == nil {
		t.Error("no key_name and no workspace key accepted")
	}
}

func TestRegionComesFromSettingsEnvOrEndpoint(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	f := testFactory()
	env := cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}}
	if _, err := f.New(context.Background(), decodeSite(t, f, ``), env); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region anywhere: %v", err)
	}
	p, err := f.New(context.Background(), decodeSite(t, f, `endpoint = "https://ec2.example.org:8773/"`), env)
	if err != nil || p.(*Provider).region != DefaultRegion {
		t.Errorf("endpoint without region: %v", err)
	}
	t.Setenv("AWS_REGION", "ap-southeast-2")
	p, err = f.New(context.Background(), decodeSite(t, f, ``), env)
	if err != nil || p.(*Provider).region != "ap-southeast-2" {
		t.Errorf("AWS_REGION: %v", err)
	}
	p, err = f.New(context.Background(), decodeSite(t, f, `region = "eu-north-1"`), env)
	if err != nil || p.(*Provider).region != "eu-north-1" {
		t.Errorf("region setting: %v", err)
	}
}

func TestIndexesAndClientToken(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{7, 3, 5, 4}, "3-5,7"},
		{[]int{9}, "9"},
	} {
		got := encodeIndexes(c.in)
		if got != c.want {
			t.Errorf("encode %v = %q, want %q", c.in, got, c.want)
		}
		back, err := decodeIndexes(got)
		if err != nil || len(back) != len(c.in) {
			t.Errorf("decode %q = %v %v", got, back, err)
		}
	}
	if _, err := decodeIndexes("5-2"); err == nil {
		t.Error("backwards range accepted")
	}
	var scattered []int
	for i := 0; i < 400; i += 2 {
		scattered = append(scattered, i)
	}
	total := 0
	for _, c := range indexChunks(scattered) {
		if len(encodeIndexes(c)) > maxTagValue {
			t.Errorf("chunk encodes to %d chars", len(encodeIndexes(c)))
		}
		total += len(c)
	}
	if total != len(scattered) || len(indexChunks([]int{0, 1, 2})) != 1 {
		t.Errorf("chunks lost indexes: %d of %d", total, len(scattered))
	}

	a := clientToken("c", "server", 0, []int{0, 1, 2})
	if a != clientToken("c", "server", 0, []int{2, 1, 0}) || len(a) > 64 {
		t.Errorf("token %q not deterministic or too long", a)
	}
	for _, other := range []string{clientToken("c", "server", 1, []int{0, 1, 2}), clientToken("c", "client", 0, []int{0, 1, 2}), clientToken("c", "server", 0, []int{1})} {
		if other == a {
			t.Errorf("token collision: %s", a)
		}
	}
}

func TestRetryWhileDependencyViolation(t *testing.T) {
	calls := 0
	err := retryWhile(context.Background(), 10*time.Millisecond, 10*time.Second, func(context.Context) error {
		calls++
		if calls < 3 {
			return &smithy.GenericAPIError{Code: codeDependency, Message: "in use"}
		}
		return nil
	}, codeDependency)
	if err != nil || calls != 3 {
		t.Errorf("retryWhile: %v after %d calls", err, calls)
	}
	other := &smithy.GenericAPIError{Code: "UnauthorizedOperation"}
	calls = 0
	err = retryWhile(context.Background(), 10*time.Millisecond, 10*time.Second, func(context.Context) error { calls++; return other }, codeDependency)
	if !errors.Is(err, other) || calls != 1 {
		t.Errorf("non-retryable error: %v after %d calls", err, calls)
	}
}
