package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"diffuser/probe"
	"diffuser/state"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Fake is one in-memory S3 backend behind any number of endpoints (as
// gateways of one cluster); corrupt flips the first byte of object bodies
// served by the endpoints listed in it.
type s3Fake struct {
	backend *s3mem.Backend
	h       http.Handler
	mu      sync.Mutex
	auth    []string
	methods []string
}

func newS3Fake() *s3Fake {
	b := s3mem.New()
	return &s3Fake{backend: b, h: gofakes3.New(b).Server()}
}

func (f *s3Fake) endpoint(t *testing.T, corrupt bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.methods = append(f.methods, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		if corrupt && r.Method == http.MethodGet {
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if len(body) > 0 {
				body[0] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
			return
		}
		f.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func s3Recipe(endpoints []string, bucket string) string {
	q := make([]string, len(endpoints))
	for i, e := range endpoints {
		q[i] = fmt.Sprintf("%q", e)
	}
	b := ""
	if bucket != "" {
		b = fmt.Sprintf("bucket = %q", bucket)
	}
	return fmt.Sprintf(`
recipe "objects" {}
hosts "gateway" {}
variable "secret" {
  default   = "SECRETKEY"
  sensitive = true
}
verify "objects" {
  s3 {
    endpoints  = [%s]
    access_key = "ACCESSKEY"
    secret_key = var.secret
    %s
  }
}
`, strings.Join(q, ", "), b)
}

func runS3Verify(t *testing.T, endpoints []string, bucket string) []probe.Check {
	t.Helper()
	l := mustLoad(t, s3Recipe(endpoints, bucket))
	checks, err := probe.Verify(context.Background(), l, state.New("s3"), probe.VerifyOptions{SizeMiB: 1, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return checks
}

func names(checks []probe.Check) string {
	var out []string
	for _, c := range checks {
		s := c.Name
		if !c.OK {
			s += " FAILED"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// TestVerifyS3RoundTrip puts through the first endpoint and reads through
// both, signed with the block's keys; the bucket made for the check and the
// object are gone afterwards.
func TestVerifyS3RoundTrip(t *testing.T) {
	f := newS3Fake()
	eps := []string{f.endpoint(t, false), f.endpoint(t, false)}
	checks := runS3Verify(t, eps, "")
	if got := names(checks); got != "create bucket, put, get, get, delete object, remove bucket" {
		t.Fatalf("checks: %s\n%+v", got, checks)
	}
	if checks[2].Host != eps[0] || checks[3].Host != eps[1] || checks[3].Detail != "sha256 matches" {
		t.Errorf("gets: %+v", checks[2:4])
	}
	if !strings.HasPrefix(checks[1].Detail, "1 MiB to diffuser-verify-") {
		t.Errorf("put detail %q", checks[1].Detail)
	}
	for _, a := range f.auth {
		if !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=ACCESSKEY/") {
			t.Fatalf("request not signed with the block's access key: %q", a)
		}
	}
	for _, c := range checks {
		if strings.Contains(c.Detail, "SECRETKEY") {
			t.Errorf("the secret key is in the report: %+v", c)
		}
	}
	buckets, err := f.backend.ListBuckets()
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 0 {
		t.Errorf("buckets left after verify: %v", buckets)
	}
}

// TestVerifyS3GivenBucket uses the block's bucket, leaves it, removes the
// object.
func TestVerifyS3GivenBucket(t *testing.T) {
	f := newS3Fake()
	if err := f.backend.CreateBucket("kept"); err != nil {
		t.Fatal(err)
	}
	checks := runS3Verify(t, []string{f.endpoint(t, false)}, "kept")
	if got := names(checks); got != "put, get, delete object" {
		t.Fatalf("checks: %s\n%+v", got, checks)
	}
	objs, err := f.backend.ListBucket("kept", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 0 {
		t.Errorf("objects left: %d", len(objs.Contents))
	}
}

// TestVerifyS3Corrupt fails the read through an endpoint that serves other
// bytes, and still cleans up.
func TestVerifyS3Corrupt(t *testing.T) {
	f := newS3Fake()
	checks := runS3Verify(t, []string{f.endpoint(t, false), f.endpoint(t, true)}, "")
	if got := names(checks); got != "create bucket, put, get, get FAILED, delete object, remove bucket" {
		t.Fatalf("checks: %s\n%+v", got, checks)
	}
	if !strings.HasPrefix(checks[3].Detail, "checksum mismatch: put ") {
		t.Errorf("detail %q", checks[3].Detail)
	}
}

// TestVerifyS3Unreachable fails at the first request and goes no further.
func TestVerifyS3Unreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	checks := runS3Verify(t, []string{url}, "")
	if got := names(checks); got != "create bucket FAILED" {
		t.Fatalf("checks: %s\n%+v", got, checks)
	}
	if !strings.Contains(checks[0].Detail, "connect") {
		t.Errorf("detail %q does not say the endpoint cannot be reached", checks[0].Detail)
	}
}

// TestVerifyS3NoEndpoints passes, saying there was nothing to check (a
// cluster deployed without gateways).
func TestVerifyS3NoEndpoints(t *testing.T) {
	checks := runS3Verify(t, nil, "")
	if len(checks) != 1 || !checks[0].OK || checks[0].Detail != "no S3 endpoints deployed: nothing to check" {
		t.Fatalf("checks: %+v", checks)
	}
}

// TestVerifyS3NotSmallFilesTarget: bench and smallfiles measure mounted
// filesystems; a recipe with only an s3 verify has none.
func TestVerifyS3NotBenchTarget(t *testing.T) {
	f := newS3Fake()
	l := mustLoad(t, s3Recipe([]string{f.endpoint(t, false)}, ""))
	_, err := probe.Bench(context.Background(), l, state.New("s3"), probe.BenchOptions{})
	if err == nil || !strings.Contains(err.Error(), "checks an object store (s3)") {
		t.Fatalf("bench on an s3-only recipe: %v", err)
	}
}
