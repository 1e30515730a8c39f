package s3store

import (
	"fmt"
	"sync/atomic"
	"testing"

	"diffuser/state/backendtest"
)

// TestFakeS3Contract runs the backend contract on the in-process fake.
func TestFakeS3Contract(t *testing.T) {
	f := newFakeS3(t, "diffuser-state")
	var n atomic.Int64
	backendtest.Run(t, func(t *testing.T) backendtest.Target {
		prefix := fmt.Sprintf("team/ws%d", n.Add(1)) // a fresh place per subtest
		return backendtest.Target{
			Open: func(o backendtest.Options) backendtest.Backend {
				return New(f.client, "diffuser-state", prefix, Options{LockWait: o.LockWait, Key: o.Key})
			},
			Raw: func() map[string][]byte { return objects(t, f.client, "diffuser-state", prefix+"/") },
			Put: func(name string, data []byte) { putObject(t, f.client, "diffuser-state", prefix+"/"+name, data) },
		}
	})
}

// TestBareIfMatchContract runs the contract on a fake that compares
// If-Match as Ceph 16's RADOS gateway does (unquoted ETags only): the
// store's HEAD-checked retry without quotes must keep every guarantee,
// a stale writer refused included.
func TestBareIfMatchContract(t *testing.T) {
	f := newFakeS3(t, "diffuser-state")
	f.BareIfMatch.Store(true)
	var n atomic.Int64
	backendtest.Run(t, func(t *testing.T) backendtest.Target {
		prefix := fmt.Sprintf("rgw/ws%d", n.Add(1))
		return backendtest.Target{
			Open: func(o backendtest.Options) backendtest.Backend {
				return New(f.client, "diffuser-state", prefix, Options{LockWait: o.LockWait, Key: o.Key})
			},
			Raw: func() map[string][]byte { return objects(t, f.client, "diffuser-state", prefix+"/") },
			Put: func(name string, data []byte) { putObject(t, f.client, "diffuser-state", prefix+"/"+name, data) },
		}
	})
}
