//go:build e2eaws

package aws

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"diffuser/cloud"
)

// TestE2EAWS runs the provider part of diffuser against real EC2: launch
// two t3.micro hosts (one 1 GB gp3 volume each) in a fresh cluster, check
// Status, Destroy them and Cleanup the security group and key pair. It costs
// a few cents and takes 2–5 minutes. Nothing dials the hosts: ssh_cidr is a
// documentation address, so port 22 stays closed.
//
//	make e2e-aws   # = go test -tags e2eaws -run TestE2EAWS -v -timeout 30m ./cloud/aws
//
// Credentials come from the SDK's default chain: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (shared config, SSO), or
// DIFFUSER_E2E_AWS=1 to use an instance role. The region is AWS_REGION or
// the profile's; DIFFUSER_E2E_AWS_IMAGE overrides the image (default debian-12).
func TestE2EAWS(t *testing.T) {
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" && os.Getenv("DIFFUSER_E2E_AWS") == "" {
		t.Skip("skipping the real-EC2 test: no AWS credentials in the environment (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or DIFFUSER_E2E_AWS=1 for an instance role)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	cluster := "e2e-" + hex.EncodeToString(suffix)
	image := os.Getenv("DIFFUSER_E2E_AWS_IMAGE")
	if image == "" {
		image = "debian-12"
	}

	f := NewFactory(WithPolling(5*time.Second, 15*time.Second))
	src := `instance_type = "t3.micro"
ssh_cidr = "192.0.2.1/32"
image = "` + image + `"
tags = { purpose = "diffuser-e2e" }
`
	if r := os.Getenv("AWS_REGION"); r != "" {
		src += `region = "` + r + `"` + "\n"
	}
	env := cloud.Env{
		Keys: cloud.Keys{PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))},
		Log:  func(format string, args ...any) { t.Logf(format, args...) },
	}
	prov, err := f.New(ctx, decodeSite(t, f, src), env)
	if err != nil {
		t.Fatal(err)
	}
	specs := specsFor(cluster, group{"server", 2, []cloud.VolumeSpec{{Name: "data", SizeGB: 1}}})
	var hosts map[string]cloud.Host
	t.Cleanup(func() {
		// Leave nothing behind, whatever failed.
		cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer ccancel()
		if hosts != nil {
			_ = destroyAll(cctx, prov, specs, hosts)
		}
		if err := prov.Cleanup(cctx, cluster); err != nil {
			t.Errorf("cleanup %s: %v (check the console for diffuser:cluster=%s)", cluster, err, cluster)
		}
	})

	start := time.Now()
	hosts, err = launchAll(ctx, prov, specs)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Logf("launched %d hosts in %s", len(hosts), time.Since(start).Round(time.Second))
	for _, s := range specs {
		h := hosts[s.Name]
		if h.ProviderID == "" || h.SSHAddress == "" || h.SSHUser == "" {
			t.Errorf("%s: incomplete host %+v", s.Name, h)
		}
		v := h.Volumes["data"]
		if !strings.HasPrefix(v.ProviderID, "vol-") || !strings.HasSuffix(v.Device, strings.ReplaceAll(v.ProviderID, "-", "")) {
			t.Errorf("%s: volume %+v: want the Nitro by-id path of its volume", s.Name, v)
		}
		st, err := prov.Status(ctx, s, h)
		if err != nil || st != cloud.Running {
			t.Errorf("%s: status %s %v", s.Name, st, err)
		}
	}

	if err := destroyAll(ctx, prov, specs, hosts); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, s := range specs {
		if st, err := prov.Status(ctx, s, hosts[s.Name]); err != nil || st != cloud.Missing {
			t.Errorf("%s after destroy: %s %v", s.Name, st, err)
		}
	}
	hosts = nil
	if err := prov.Cleanup(ctx, cluster); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
}
