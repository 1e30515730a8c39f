package s3store

import (
	"bytes"
	"context"
	"io"
	"testing"

	"diffuser/state/s3store/s3fake"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeS3 is the in-process fake (package s3fake) with a client made by
// NewClient, as the workspace makes it.
type fakeS3 struct {
	*s3fake.Server
	client *s3.Client
}

func newFakeS3(t *testing.T, bucket string) *fakeS3 {
	t.Helper()
	srv := s3fake.Start(t, bucket)
	c, err := NewClient(context.Background(), Config{Bucket: bucket, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeS3{Server: srv, client: c}
}

// putObject stores data as key, unconditionally.
func putObject(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

// objects returns every object in bucket by key.
func objects(t *testing.T, c *s3.Client, bucket, prefix string) map[string][]byte {
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(g.Body)
			g.Body.Close()
			out[aws.ToString(o.Key)] = b
		}
	}
	return out
}
