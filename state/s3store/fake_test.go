package s3store

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is an in-process S3 server: gofakes3 with its in-memory backend,
// which checks If-None-Match and If-Match on PUT under its own lock. It is
// a fake, good for the contract and error paths; the proof against a real
// server is the e2e test (e2e_test.go).
type fakeS3 struct {
	srv    *httptest.Server
	client *s3.Client
	// ignoreConditions, when set before requests, strips the conditional
	// headers as a server without conditional writes would.
	ignoreConditions bool
}

func newFakeS3(t *testing.T, bucket string) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	h := gofakes3.New(s3mem.New()).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.ignoreConditions {
			r.Header.Del("If-None-Match")
			r.Header.Del("If-Match")
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	c, err := NewClient(context.Background(), Config{Bucket: bucket, Endpoint: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return f
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
