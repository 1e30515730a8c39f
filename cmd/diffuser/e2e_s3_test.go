//go:build e2e

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"diffuser/state/s3store"
	"diffuser/state/s3store/s3fake"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3KillResumeContendReal runs the kill/resume/contention scenario
// against a real S3 server named by the environment (s3fake.RealFromEnv:
// skipped, saying what to set, without one), under a prefix of its own
// that it removes afterwards.
func TestS3KillResumeContendReal(t *testing.T) {
	r := s3fake.RealFromEnv(t)
	key := fmt.Sprintf("diffuser-e2e/cli-%d", time.Now().UnixNano())
	t.Cleanup(func() { removePrefix(t, r, key+"/") })
	s3Scenario(t, s3Target{endpoint: r.Endpoint, bucket: r.Bucket, region: r.Region, key: key})
}

func removePrefix(t *testing.T, r s3fake.Real, prefix string) {
	ctx := context.Background()
	c, err := s3store.NewClient(ctx, s3store.Config{Bucket: r.Bucket, Endpoint: r.Endpoint, Region: r.Region})
	if err != nil {
		t.Log(err)
		return
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &r.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Log(err)
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.Bucket, Key: o.Key})
		}
	}
}
