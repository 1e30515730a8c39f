//go:build e2e

package workspace_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diffuser/state/s3store/s3fake"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func init() {
	// The smallest cluster with a RADOS gateway: 1 monitor, 1 OSD, 1
	// client, 1 gateway. Verify checks CephFS and the S3 round trip; then
	// the gateway becomes the S3 state backend under test (cephS3Backend).
	e2eCases = append(e2eCases, e2eCase{name: "ceph-s3", recipe: "ceph",
		vars:  []string{"monitors=1", "osds=1", "clients=1", "osd_size_gb=5", "s3_gateways=1"},
		extra: cephS3Backend})
}

// cephS3Backend proves the S3 state backend against the cluster's radosgw:
// conditional creates raced (state/s3store), the backend contract suite
// (state/s3store) and the kill/resume/contention scenario (cmd/diffuser),
// run as `go test` with the gateway in the environment.
func cephS3Backend(t *testing.T, e *e2eEnv) {
	// Verify's S3 round trip ran (not "nothing to check"): put, get, cleanup.
	var s3checks []string
	for _, c := range e.verify(t, "monitors=1", "osds=1", "clients=1", "osd_size_gb=5", "s3_gateways=1") {
		if c.Verify == "objects" {
			s3checks = append(s3checks, c.Name+": "+c.Detail)
		}
	}
	if got := strings.Join(s3checks, "\n"); !strings.Contains(got, "put: 4 MiB to ") || !strings.Contains(got, "get: sha256 matches") ||
		!strings.Contains(got, "remove bucket: ") {
		t.Fatalf("verify \"objects\" did not round-trip through the gateway:\n%s", got)
	} else {
		t.Logf("verify objects:\n%s", got)
	}

	st, err := e.env.ReadState(e.recipe)
	if err != nil {
		t.Fatal(err)
	}
	gw := st.Hosts["rgw[0]"]
	if gw == nil || gw.PrivateIP == "" {
		t.Fatalf("no rgw[0] with an address in state")
	}
	endpoint := "http://" + gw.PrivateIP + ":7480"
	access, secret := st.Outputs["s3_access_key"].Value, st.Outputs["s3_secret_key"].Value
	if access == "" || secret == "" {
		t.Fatalf("the s3 key outputs are empty in state: %+v", st.Outputs)
	}
	if !st.Outputs["s3_access_key"].Sensitive || !st.Outputs["s3_secret_key"].Sensitive {
		t.Errorf("the s3 key outputs are not marked sensitive")
	}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	ctx := context.Background()
	bucket := "diffuser-state"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket %s on %s: %v", bucket, endpoint, err)
	}

	env := append(os.Environ(),
		s3fake.EndpointEnv+"="+endpoint, s3fake.BucketEnv+"="+bucket, s3fake.RegionEnv+"=us-east-1",
		"AWS_ACCESS_KEY_ID="+access, "AWS_SECRET_ACCESS_KEY="+secret)
	for _, run := range []struct{ pkg, test string }{
		{"./state/s3store/", "^TestRealS3ConditionalCreatesRace$"},
		{"./state/s3store/", "^TestRealS3Contract$"},
		{"./cmd/diffuser/", "^TestS3KillResumeContendReal$"},
	} {
		start := time.Now()
		cmd := exec.Command("go", "test", "-count=1", "-tags", "e2e", "-run", run.test, "-v", "-timeout", "20m", run.pkg)
		cmd.Dir = filepath.Join("..")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("go test -run %s %s (%s):\n%s", run.test, run.pkg, time.Since(start).Round(time.Second), out)
		if err != nil {
			t.Fatalf("%s against radosgw: %v", run.test, err)
		}
		// The test itself must run and pass; a subtest may skip what the
		// target cannot do (backendtest's raw-bytes cases on a real S3).
		name := strings.Trim(run.test, "^$")
		if bytes.Contains(out, []byte("--- SKIP: "+name+" (")) || !bytes.Contains(out, []byte("--- PASS: "+name+" (")) {
			t.Fatalf("%s did not run and pass against radosgw", run.test)
		}
		fmt.Printf("E2E ceph-s3: %s against radosgw passed in %s\n", strings.Trim(run.test, "^$"), time.Since(start).Round(time.Second))
	}
}
