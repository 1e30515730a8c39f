// Package s3fake runs an in-process S3 server for tests: gofakes3 with its
// in-memory backend, which honours If-None-Match and If-Match on PUT. It
// is a fake, fine for contracts and error paths, never the proof that a
// real server behaves (see state/s3store's e2e test). Test code only.
package s3fake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running fake.
type Server struct {
	URL string
	// IgnoreConditions, when set, strips conditional headers from PUTs
	// as a server without conditional writes would.
	IgnoreConditions atomic.Bool
	// BareIfMatch, when set, compares If-Match as Ceph's RADOS gateway
	// 16.x does: against the stored ETag without its quotes, byte for
	// byte, so a quoted ETag (what S3 returns and the SDK sends back) is
	// always refused with 412.
	BareIfMatch atomic.Bool
}

// Start starts a fake holding the given buckets, stopped when t ends. It
// sets fake credentials in the environment (t.Setenv) so that the SDK's
// default chain finds them and nothing of the user's.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	s := &Server{}
	h := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.IgnoreConditions.Load() {
			r.Header.Del("If-None-Match")
			r.Header.Del("If-Match")
		}
		if m := r.Header.Get("If-Match"); m != "" && r.Method == http.MethodPut && s.BareIfMatch.Load() {
			if strings.HasPrefix(m, `"`) {
				w.WriteHeader(http.StatusPreconditionFailed)
				_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
				return
			}
			r.Header.Set("If-Match", `"`+m+`"`) // gofakes3 compares the quoted form
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	c := s.Client()
	for _, b := range buckets {
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Client is a plain client of the fake (path-style, fake keys).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", "")})
}
