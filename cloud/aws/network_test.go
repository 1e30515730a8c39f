package aws

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"diffuser/cloud"
	"diffuser/cloud/aws/internal/ec2test"
)

func TestSecurityGroupRules(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()

	// Two processes launch the same cluster's groups at once: one group,
	// with exactly the two rules.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, g := range []group{{"server", 2, nil}, {"client", 2, nil}} {
		p, _ := newTestProvider(t, srv, `ports = ["6789/tcp ceph-mon", "6800-7300/tcp ceph-osd"]`)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := launchAll(ctx, p, specsFor("ceph", g))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sgs := srv.SecurityGroups()
	if len(sgs) != 1 {
		t.Fatalf("%d security groups, want 1: %+v", len(sgs), sgs)
	}
	sg := sgs[0]
	if sg.Name != "diffuser-ceph" || sg.Tags[tagCluster] != "ceph" {
		t.Errorf("group %+v", sg)
	}
	var rules []string
	for _, r := range sg.Ingress {
		rules = append(rules, r.String())
	}
	want := []string{"-1 all from " + sg.ID, "tcp 22-22 from 203.0.113.7/32"}
	if strings.Join(rules, "; ") != strings.Join(want, "; ") {
		t.Errorf("rules %q, want %q", rules, want)
	}
	if d := sg.Ingress[0].Description; !strings.Contains(d, "6789/tcp ceph-mon") || !strings.Contains(d, "6800-7300/tcp ceph-osd") {
		t.Errorf("self rule description %q does not name the recipe ports", d)
	}
	for _, in := range srv.Instances() {
		if len(in.Groups) != 1 || in.Groups[0] != sg.ID {
			t.Errorf("instance %s in groups %v", in.ID, in.Groups)
		}
	}

	// Another process finds the group and its rules: nothing to add.
	srv2 := ec2test.New(ec2test.Options{})
	defer srv2.Close()
	q, _ := newTestProvider(t, srv2, "")
	if _, err := q.ensureSecurityGroup(ctx, "x", ""); err != nil {
		t.Fatal(err)
	}
	q2, _ := newTestProvider(t, srv2, "")
	if _, err := q2.ensureSecurityGroup(ctx, "x", ""); err != nil {
		t.Errorf("existing group not reused: %v", err)
	}
	if n := srv2.Calls()["CreateSecurityGroup"]; n != 1 {
		t.Errorf("CreateSecurityGroup calls %d, want 1", n)
	}
	if n := srv2.Calls()["AuthorizeSecurityGroupIngress"]; n != 1 {
		t.Errorf("AuthorizeSecurityGroupIngress calls %d, want 1 (rules already present the second time)", n)
	}

	// A group with a cluster's name that diffuser did not tag is not adopted.
	if _, err := q.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("diffuser-y"), Description: aws.String("someone else's")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.ensureSecurityGroup(ctx, "y", ""); err == nil || !strings.Contains(err.Error(), "not tagged") {
		t.Errorf("foreign group adopted: %v", err)
	}
}

func TestSSHCIDRDefaultWarns(t *testing.T) {
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	f := testFactory()
	logs := &logSink{}
	src := "region = \"us-east-1\"\nendpoint = \"" + srv.URL + "\"\n"
	p, err := f.New(context.Background(), decodeSite(t, f, src), cloud.Env{Keys: cloud.Keys{PublicKey: testPublicKey}, Log: logs.logf})
	if err != nil {
		t.Fatal(err)
	}
	if p.(*Provider).set.SSHCIDR != "0.0.0.0/0" || !logs.contains("ssh_cidr not set") {
		t.Errorf("ssh_cidr %q; warning logged: %v", p.(*Provider).set.SSHCIDR, logs.contains("ssh_cidr not set"))
	}
}

func TestGroupOverridesAndPrivateAddresses(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	srv.AddSubnet(ec2test.Subnet{ID: "subnet-private", VpcID: "vpc-private", CIDR: "10.0.0.0/24"})
	p, _ := newTestProvider(t, srv, `
subnet_id = "subnet-private"
tags = { team = "storage" }
groups = {
  server = { instance_type = "m5.large", use_private_ip = true }
  client = { associate_public_ip = true }
}`)
	hosts, err := launchAll(ctx, p, specsFor("ovr", group{"server", 1, nil}, group{"client", 1, nil}))
	if err != nil {
		t.Fatal(err)
	}
	server, client := hosts["server[0]"], hosts["client[0]"]
	si, _ := srv.Instance(server.ProviderID)
	ci, _ := srv.Instance(client.ProviderID)
	if si.InstanceType != "m5.large" || ci.InstanceType != DefaultInstanceType {
		t.Errorf("types %s/%s", si.InstanceType, ci.InstanceType)
	}
	if si.PublicIP != "" || server.SSHAddress != si.PrivateIP || si.SubnetID != "subnet-private" {
		t.Errorf("server: public %q, dials %s, subnet %s", si.PublicIP, server.SSHAddress, si.SubnetID)
	}
	if ci.PublicIP == "" || client.SSHAddress != ci.PublicIP {
		t.Errorf("client: public %q, dials %s", ci.PublicIP, client.SSHAddress)
	}
	if si.Tags["team"] != "storage" || srv.SecurityGroups()[0].VpcID != "vpc-private" {
		t.Errorf("tags %v, group VPC %s", si.Tags, srv.SecurityGroups()[0].VpcID)
	}
}

func TestKeyPairOfAnotherKeyIsRefused(t *testing.T) {
	ctx := testContext(t)
	srv := ec2test.New(ec2test.Options{})
	defer srv.Close()
	p, _ := newTestProvider(t, srv, "")
	if _, err := p.ensureKeyPair(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	f := testFactory()
	other, err := f.New(ctx, decodeSite(t, f, siteFor(srv, "")), cloud.Env{Keys: cloud.Keys{PublicKey: "ssh-ed25519 AAAAotherkey x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.(*Provider).ensureKeyPair(ctx, "k"); err == nil || !strings.Contains(err.Error(), "another public key") {
		t.Errorf("ensureKeyPair with another key: %v", err)
	}
	named, _ := newTestProvider(t, srv, `key_name = "mine"`)
	if name, err := named.ensureKeyPair(ctx, "k"); err != nil || name != "mine" {
		t.Errorf("key_name: %q %v", name, err)
	}
}
