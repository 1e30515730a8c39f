package s3store

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOversizedObjectRefusedBeforeReading: a state.json object whose
// Content-Length is past state.MaxFileSize is refused naming the object
// and its size, without reading the body (the server sends none).
func TestOversizedObjectRefusedBeforeReading(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "not here", http.StatusNotImplemented)
			return
		}
		if r.URL.Query().Has("list-type") { // the journal: none
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>` + bucket + `</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
			return
		}
		w.Header().Set("Content-Length", "3221225472")
		w.Header().Set("ETag", `"x"`)
		w.WriteHeader(http.StatusOK)
		// no body: a client that reads it gets an unexpected EOF
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	c, err := NewClient(context.Background(), Config{Bucket: bucket, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(c, bucket, "ws", Options{}).Load()
	if err == nil {
		t.Fatal("Load accepted a 3 GiB state object")
	}
	want := "s3://" + bucket + "/ws/state.json is 3.0 GiB (3221225472 bytes), more than the 1.0 GiB"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Load: %v\nwant it to contain %q", err, want)
	}
}
