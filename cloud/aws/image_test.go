package aws

import (
	"strings"
	"testing"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

func TestImageResolutionPicksNewestOfficial(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	// Newer, but not from Debian's account: must be ignored.
	srv.AddImage(ec2test.Image{ID: "ami-0bad000000000001", Name: "debian-12-amd64-20991231-9999", OwnerID: "999999999999", Architecture: "x86_64", CreationDate: "2099-12-31T00:00:00.000Z"})
	// Newest official, with an older-sorting name: date decides.
	srv.AddImage(ec2test.Image{ID: "ami-0d12a00000000009", Name: "debian-12-amd64-20240101-0001", OwnerID: ec2test.DebianOwner, Architecture: "x86_64", CreationDate: "2025-09-01T00:00:00.000Z"})
	srv.AddImage(ec2test.Image{ID: "ami-0d12a00000000010", Name: "debian-12-backports-amd64-20991231", OwnerID: ec2test.DebianOwner, Architecture: "x86_64", CreationDate: "2099-12-31T00:00:00.000Z"})

	cases := []struct {
		site, itype, wantImage, wantUser string
	}{
		{``, "t3.medium", "ami-0d12a00000000009", "admin"},
		{`instance_type = "t4g.medium"`, "t4g.medium", "ami-0d12b00000000001", "admin"},
		{`image = "ubuntu-24.04"`, "t3.medium", "ami-0c24a00000000002", "ubuntu"},
		{`image = "ubuntu-22.04"`, "t3.medium", "ami-0c22a00000000001", "ubuntu"},
		{`image = "ami-0c24a00000000001"`, "t3.medium", "ami-0c24a00000000001", "ubuntu"},
		{`image = "ami-0c24a00000000001"` + "\nssh_user = \"root\"", "t3.medium", "ami-0c24a00000000001", "root"},
	}
	for i, c := range cases {
		p, _ := newTestProvider(t, srv, c.site)
		cluster := "img" + string(rune('a'+i))
		hosts, err := launchAll(ctx, p, specsFor(cluster, group{"server", 1, nil}))
		if err != nil {
			t.Fatalf("%q: %v", c.site, err)
		}
		h := hosts["server[0]"]
		in, _ := srv.Instance(h.ProviderID)
		if in.ImageID != c.wantImage || in.InstanceType != c.itype || h.SSHUser != c.wantUser {
			t.Errorf("%q: image %s type %s user %s; want %s %s %s", c.site, in.ImageID, in.InstanceType, h.SSHUser, c.wantImage, c.itype, c.wantUser)
		}
	}
}

func TestDevicePathRule(t *testing.T) {
	if got := devicePath(true, "/dev/sdf", "vol-0123456789abcdef0"); got != "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0" {
		t.Errorf("nitro: %s", got)
	}
	if got := devicePath(false, "/dev/sdg", "vol-1"); got != "/dev/xvdg" {
		t.Errorf("xen: %s", got)
	}
	if requestedDevice(0) != "/dev/sdf" || requestedDevice(10) != "/dev/sdp" {
		t.Errorf("requested devices %s..%s", requestedDevice(0), requestedDevice(10))
	}
	for name, want := range map[string]typeInfo{
		"t2.micro": {false, "amd64"}, "m4.large": {false, "amd64"}, "i3.large": {false, "amd64"},
		"i3en.large": {true, "amd64"}, "t3.medium": {true, "amd64"}, "m5.large": {true, "amd64"},
		"t4g.small": {true, "arm64"}, "m6gd.large": {true, "arm64"}, "im4gn.large": {true, "arm64"},
		"a1.large": {true, "arm64"}, "g4dn.xlarge": {true, "amd64"}, "p3dn.24xlarge": {true, "amd64"},
	} {
		if got := guessInstanceType(name); got != want {
			t.Errorf("guess %s = %+v, want %+v", name, got, want)
		}
	}

	ctx := testContext(t)
	vol := []cloud.VolumeSpec{{Name: "d", SizeGB: 1}}
	cases := []struct {
		opts ec2test.Options
		site string
		xen  bool
	}{
		{ec2test.Options{}, `instance_type = "t2.micro"`, true},
		{ec2test.Options{}, `instance_type = "m5.metal"`, false},
		{ec2test.Options{NoInstanceTypes: true}, `instance_type = "m5.large"`, false},
		{ec2test.Options{NoInstanceTypes: true}, `instance_type = "m4.large"`, true},
		{ec2test.Options{}, `device_naming = "xen"`, true},
	}
	for _, c := range cases {
		srv := ec2test.New(c.opts)
		p, _ := newTestProvider(t, srv, c.site)
		hosts, err := launchAll(ctx, p, specsFor("dev", group{"server", 1, vol}))
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.site, err)
		}
		v := hosts["server[0]"].Volumes["d"]
		if xen := v.Device == "/dev/xvdf"; xen != c.xen || (!xen && !strings.HasSuffix(v.Device, strings.ReplaceAll(v.ProviderID, "-", ""))) {
			t.Errorf("%s (%+v): device %s", c.site, c.opts, v.Device)
		}
	}
}
