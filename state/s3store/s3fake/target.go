package s3fake

import (
	"os"
	"testing"
)

// Environment variables that name a real S3 endpoint for e2e tests (keys
// come from the SDK's chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// or AWS_PROFILE). docs/state.md says how to point them at the ceph
// recipe's RADOS gateway.
const (
	EndpointEnv = "DIFFUSER_E2E_S3_ENDPOINT" // e.g. http://10.88.0.5:7480; empty: AWS
	BucketEnv   = "DIFFUSER_E2E_S3_BUCKET"   // an existing bucket the tests may write under diffuser-e2e/
	RegionEnv   = "DIFFUSER_E2E_S3_REGION"   // optional
)

// Real is an S3 endpoint given by the environment.
type Real struct {
	Endpoint, Bucket, Region string
}

// RealFromEnv returns the endpoint the environment names, or skips t
// saying which variables to set.
func RealFromEnv(t testing.TB) Real {
	t.Helper()
	r := Real{Endpoint: os.Getenv(EndpointEnv), Bucket: os.Getenv(BucketEnv), Region: os.Getenv(RegionEnv)}
	if r.Bucket == "" {
		t.Skipf("no real S3 endpoint: set %s (an existing bucket), %s (unless AWS), %s if needed, and "+
			"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (see docs/state.md, \"Testing against a real S3 server\")",
			BucketEnv, EndpointEnv, RegionEnv)
	}
	if r.Endpoint == "" && r.Region == "" && os.Getenv("AWS_REGION") == "" {
		t.Fatalf("%s is set for AWS but no region: set %s or AWS_REGION", BucketEnv, RegionEnv)
	}
	return r
}
