//go:build e2e

package s3store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"diffuser/state/backendtest"
	"diffuser/state/s3store/s3fake"
)

// TestRealS3Contract runs the backend contract against a real S3 server
// named by the environment (s3fake.RealFromEnv), each subtest under its
// own prefix, removed afterwards. This, not the fake, is the proof.
func TestRealS3Contract(t *testing.T) {
	r := s3fake.RealFromEnv(t)
	ctx := context.Background()
	c, err := NewClient(ctx, Config{Bucket: r.Bucket, Endpoint: r.Endpoint, Region: r.Region})
	if err != nil {
		t.Fatal(err)
	}
	run := fmt.Sprintf("diffuser-e2e/contract-%d", time.Now().UnixNano())
	n := 0
	backendtest.Run(t, func(t *testing.T) backendtest.Target {
		n++
		prefix := fmt.Sprintf("%s/ws%d", run, n)
		t.Cleanup(func() {
			for k := range objects(t, c, r.Bucket, prefix+"/") {
				_ = New(c, r.Bucket, "", Options{}).del(ctx, k)
			}
		})
		return backendtest.Target{
			Open: func(o backendtest.Options) backendtest.Backend {
				return New(c, r.Bucket, prefix, Options{LockWait: o.LockWait, Key: o.Key})
			},
			Raw: func() map[string][]byte { return objects(t, c, r.Bucket, prefix+"/") },
		}
	})
}
